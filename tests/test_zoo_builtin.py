"""The built-in zoo entries: pinned, measured, and identical on every backend.

Each backend samples every entry in its own subprocess, offline with an
empty Hugging Face cache, so the embedded copies are what loads (run once).
"""
import json
import os

import numpy as np
import pytest
from helpers import BACKENDS
from helpers import run_on_backends

from keras_gans import models
from keras_gans.zoo import builtin
from keras_gans.zoo import entry

pytestmark = pytest.mark.cross_backend

SAMPLE = """
import json, sys, numpy as np
from keras_gans import zoo
from keras_gans.core import sample_latents
from keras_gans.models.self_conditioned import is_conditional
out = {out!r}
for name in zoo.list():
    gan = zoo.load_gan(name)
    if hasattr(gan, "translate"):  # image-to-image entries translate fixed inputs
        x = np.random.default_rng(3).uniform(-1, 1, (4,) + tuple(gan.source_shape))
        np.save(f"{{out}}/{{name}}.npy", gan.translate(x.astype("float32")))
        continue
    latents = sample_latents(16, gan.latent_dim, seed=3)
    options = {{"labels": np.arange(16) % gan.num_classes}} if is_conditional(gan) else {{}}
    np.save(f"{{out}}/{{name}}.npy", gan.generate(latents=latents, **options))
"""


@pytest.mark.parametrize("name", sorted(builtin.BUILTIN_ENTRIES))
def test_embedded_entry_matches_its_pin_and_card(name):
    known = builtin.BUILTIN_ENTRIES[name]
    folder = builtin.embedded_folder(name)
    assert folder is not None, f"zoo/{name} has no weights: python zoo/build.py {name} --train"
    metadata = entry.read_metadata(folder, expected_sha256=known.weights_sha256)
    assert len(known.weights_sha256) == 64
    assert metadata["name"] == name
    metrics = metadata["metrics"]
    if metadata.get("task") == "image-to-image":
        assert metrics["l1"] > 0 and metrics["identity_l1"] > 0 and 0 < metrics["ssim"] <= 1
        assert "KID" in metrics["protocol_text"] and "test pairs" in metrics["protocol_text"]
        assert metrics["command"].startswith("python benchmarks/translation_emoji.py evaluate")
    else:
        assert metrics["fid"] > 0 and "protocol" in metrics["protocol_text"]
        assert metrics["command"].startswith(f"python zoo/build.py {name} --measure")
    with open(os.path.join(folder, "recipe.json")) as f:
        model = models.get_class(json.load(f)["model"])
    assert metadata["registered_name"] == f"keras_gans>{model.__name__}"


def test_entries_sample_identically_on_every_backend(tmp_path):
    for backend in BACKENDS:
        (tmp_path / backend).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    results = run_on_backends(lambda backend: SAMPLE.format(out=str(tmp_path / backend)),
                              BACKENDS, env=env)
    images = {}
    for backend, result in results.items():
        assert result.stderr.count("using the copy embedded in the package") == len(
            builtin.BUILTIN_ENTRIES), result.stderr[-3000:]
        images[backend] = {name: np.load(tmp_path / backend / f"{name}.npy")
                           for name in builtin.BUILTIN_ENTRIES}
    for name in builtin.BUILTIN_ENTRIES:
        for backend in ("tensorflow", "torch"):
            diff = np.max(np.abs(images[backend][name] - images["jax"][name]))
            assert diff < 1e-4, f"{name}: {backend} vs jax differ by {diff}"


DAMAGED = """
import os, shutil
from keras_gans import zoo
from keras_gans.zoo import builtin
known = builtin.BUILTIN_ENTRIES["dcgan-mnist"]
repo = os.path.join(os.environ["HF_HOME"], "hub", "models--" + known.repo_id.replace("/", "--"))
snapshot = os.path.join(repo, "snapshots", "a" * 40)
os.makedirs(os.path.join(repo, "refs"))
with open(os.path.join(repo, "refs", known.revision), "w") as f:
    f.write("a" * 40)
shutil.copytree(builtin.embedded_folder(known.name), snapshot)
with open(os.path.join(snapshot, "model.weights.h5"), "r+b") as f:
    f.seek(-64, 2)
    f.write(bytes(32))  # the cached copy no longer matches the pinned sha256
generator = zoo.load(known.name)
print("loaded", generator.name, "snapshot left:", os.path.exists(snapshot))
"""


def test_a_damaged_cached_builtin_is_removed_and_fetched_again(tmp_path):
    # Offline, the fresh fetch cannot happen, so the embedded copy loads: the
    # first call succeeds (it failed with a bare IntegrityError before, and
    # only the second call loaded).
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    result = run_on_backends(DAMAGED, ("torch",), env=env)["torch"]
    assert "loaded ema_generator snapshot left: False" in result.stdout, result.stderr[-3000:]
    assert "altered or damaged" in result.stderr and "downloading again" in result.stderr
    assert "using the copy embedded in the package" in result.stderr

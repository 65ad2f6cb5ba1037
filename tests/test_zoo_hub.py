"""The zoo through a Hub-protocol server on loopback, with the real client.

Read side: olah (PyPI) in offline mode; write side: our test-only routes
(tests/hub_server.py). Every client is a subprocess: huggingface_hub reads
HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE once, when `import keras` imports it.
Run once (cross_backend marker), on JAX.
"""
import json
import os
import textwrap

import pytest

from hub_server import HubServer
from hub_server import client_env
from hub_server import run_client

if os.environ.get("CI"):
    import olah  # noqa: F401  (CI must have the read side: fail, never skip)
else:
    pytest.importorskip("olah")

pytestmark = pytest.mark.cross_backend
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = "lab/tiny-dcgan"

PRELUDE = """
import json, os, sys
os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, {here!r})
import numpy as np
from keras_gans import zoo
from helpers import numpy_latents
args = json.loads({args!r})
report = {{}}

def expect_error(name, error, call):
    try:
        call()
    except error as err:
        report[name] = str(err)
    else:
        raise AssertionError(f"{{name}}: no {{error.__name__}}")
"""


def client(env, code, **args):
    """Runs `code` after PRELUDE in a subprocess; returns its `report` dict."""
    source = PRELUDE.format(here=HERE, args=json.dumps(args)) + textwrap.dedent(code)
    source += "\nprint('REPORT' + json.dumps(report))\n"
    out = run_client(source, env, timeout=600)
    return json.loads(out.split("REPORT")[-1])


def snapshots(hf_home, repo):
    folder = os.path.join(hf_home, "hub", "models--" + repo.replace("/", "--"), "snapshots")
    return {name: sorted(os.listdir(os.path.join(folder, name)))
            for name in (os.listdir(folder) if os.path.isdir(folder) else [])}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    with HubServer(root) as server:
        yield server, root


@pytest.fixture(scope="module")
def published(hub):
    """v1 and a later commit of a tiny DCGAN, published from Python and
    from the command line; expected images saved beside."""
    server, root = hub
    env = client_env(server.endpoint, root / "publisher_home")
    out = str(root / "expected")
    report = client(env, """
        from helpers import compiled_tiny_dcgan, noise_images
        from keras_gans import cli
        os.makedirs(args["out"], exist_ok=True)
        gan = compiled_tiny_dcgan(seed=1, ema_decay=0.9)
        gan.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
        report["v1"] = zoo.publish(gan, args["repo"], revision_tag="v1")
        np.save(args["out"] + "/v1.npy", gan.generate(latents=numpy_latents(8)))
        gan.fit(noise_images(32, seed=1), batch_size=16, epochs=1, verbose=0)
        report["latest"] = zoo.publish(gan, args["repo"], revision_tag=None)
        np.save(args["out"] + "/latest.npy", gan.generate(latents=numpy_latents(8)))
        # The command line: train a run folder, publish it with a tag.
        run = args["out"] + "/run"
        assert cli.main(["train", "dcgan", "--out", run, "--epochs", "1", "--steps-per-epoch",
                         "2", "--batch-size", "8", "--latent-dim", "8", "--base-filters", "4",
                         "--verbose", "0"]) == 0
        assert cli.main(["publish", run, "--repo", "lab/run-dcgan", "--tag", "v1"]) == 0
    """, repo=REPO, out=out)
    return report, out


def test_publish_then_load_revisions_exactly(hub, published):
    server, root = hub
    report, out = published
    assert report["v1"] != report["latest"]
    env = client_env(server.endpoint, root / "reader_home")
    got = client(env, """
        from huggingface_hub import HfApi, ModelCard
        for key, name in [("v1", f"hf://{args['repo']}@v1"), ("latest", f"hf://{args['repo']}"),
                          ("sha", f"hf://{args['repo']}@{args['v1']}")]:
            images = zoo.load_gan(name).generate(latents=numpy_latents(8))
            expected = np.load(args["out"] + ("/latest.npy" if key == "latest" else "/v1.npy"))
            report[key] = float(np.max(np.abs(images - expected)))
        report["tags"] = [t.name for t in HfApi().list_repo_refs(args["repo"]).tags]
        meta = zoo.info(f"hf://{args['repo']}@v1")
        report["class_name"] = meta["class_name"]
        card = ModelCard.load(args["repo"])
        report["card"] = [card.data.library_name, sorted(card.data.tags)]
        report["run_meta"] = zoo.info("hf://lab/run-dcgan@v1")["training"]["steps"]
    """, repo=REPO, out=out, v1=report["v1"])
    assert got["v1"] == 0.0 and got["sha"] == 0.0 and got["latest"] == 0.0
    assert got["tags"] == ["v1"]
    assert got["class_name"] == "DCGAN"
    assert got["card"] == ["keras", ["dcgan", "gan", "keras-gans"]]
    assert got["run_meta"] == 2


def test_a_published_version_holds_exactly_its_entry(hub):
    server, root = hub
    env = client_env(server.endpoint, root / "clean_home")
    report = client(env, """
        from huggingface_hub import HfApi
        from helpers import tiny_dcgan
        api, repo = HfApi(), "lab/clean"
        folder = args["folder"]
        zoo.save_entry(tiny_dcgan(), folder, name="clean")
        open(folder + "/notes.txt", "w").write("my own notes, not for the Hub")
        zoo.publish(folder, repo, revision_tag="v1")
        report["v1"] = sorted(api.list_repo_files(repo, revision="v1"))
        api.upload_file(path_or_fileobj=b"old", path_in_repo="stale.bin", repo_id=repo)
        zoo.publish(folder, repo, revision_tag="v2")
        report["v2"] = sorted(api.list_repo_files(repo, revision="v2"))
        card = open(zoo.resolve(f"hf://{repo}@v2")[0] + "/README.md").read()
        report["card_loads"] = f'zoo.load_gan("hf://{repo}@v2")' in card
        # A source that cannot be exported creates no repo.
        expect_error("bad_source", Exception, lambda: zoo.publish(folder + "/nope", "lab/typo"))
        expect_error("no_repo", Exception, lambda: api.list_repo_files("lab/typo"))
    """, folder=str(root / "clean_entry"))
    entry_files = [".gitattributes", "README.md", "config.json", "metadata.json",
                   "model.weights.h5", "samples.png"]
    assert report["v1"] == entry_files  # notes.txt stayed home
    assert report["v2"] == entry_files  # stale.bin of the commit between is gone
    assert report["card_loads"]
    assert "no gan.keras" in report["bad_source"]


def test_hub_errors_are_clear_and_leave_no_half_written_cache(hub, published):
    server, root = hub
    home = root / "errors_home"
    env = client_env(server.endpoint, home)
    report = client(env, """
        from huggingface_hub import HfApi
        from keras_gans.zoo import builtin
        repo = args["repo"]
        expect_error("unknown_repo", zoo.RepositoryNotFoundError,
                     lambda: zoo.load("hf://lab/no-such-gan"))
        expect_error("unknown_tag", zoo.RevisionNotFoundError,
                     lambda: zoo.load(f"hf://{repo}@v9"))
        expect_error("unknown_sha", zoo.RevisionNotFoundError,
                     lambda: zoo.load(f"hf://{repo}@" + "0" * 40))
        v1_folder = zoo.resolve(f"hf://{repo}@v1")[0]
        expect_error("tag_exists", zoo.ZooError,
                     lambda: zoo.publish(v1_folder, repo, revision_tag="v1"))
        # A built-in name whose pinned sha256 the Hub copy does not match.
        builtin.HUB_ORGANISATION = "lab"
        builtin.BUILTIN_ENTRIES["tiny-dcgan"] = builtin.BuiltinEntry(
            "tiny-dcgan", "test", weights_sha256="0" * 64)
        expect_error("sha_mismatch", zoo.IntegrityError, lambda: zoo.load("tiny-dcgan"))
        # A truncated weights file and a config from a newer keras-gans, on the Hub.
        api = HfApi()
        folder = zoo.resolve(f"hf://{repo}@v1")[0]
        weights = open(folder + "/model.weights.h5", "rb").read()
        api.upload_file(path_or_fileobj=weights[: len(weights) // 2],
                        path_in_repo="model.weights.h5", repo_id=repo)
        commit = api.model_info(repo, revision="main").sha
        api.create_tag(repo, tag="truncated", revision=commit)
        report["truncated_commit"] = commit
        expect_error("truncated", zoo.CorruptEntryError, lambda: zoo.load(f"hf://{repo}@truncated"))
        meta = json.load(open(folder + "/metadata.json"))
        config = json.load(open(folder + "/config.json"))
        meta["keras_gans_version"], config["config"]["future_option"] = "9.0.0", 1
        api.upload_file(path_or_fileobj=json.dumps(meta).encode(), path_in_repo="metadata.json",
                        repo_id=repo)
        api.upload_file(path_or_fileobj=json.dumps(config).encode(), path_in_repo="config.json",
                        repo_id=repo)
        api.upload_file(path_or_fileobj=weights, path_in_repo="model.weights.h5", repo_id=repo)
        expect_error("newer", zoo.IncompatibleEntryError, lambda: zoo.load(f"hf://{repo}"))
    """, repo=REPO)
    assert "hf auth login" in report["unknown_repo"]
    assert "'v9'" in report["unknown_tag"] and "list_repo_refs" in report["unknown_tag"]
    assert "0" * 40 in report["unknown_sha"]
    assert "already has tag 'v1'" in report["tag_exists"]
    assert "expected " + "0" * 64 in report["sha_mismatch"]
    assert "truncated, corrupt" in report["truncated"]
    assert "keras-gans 9.0.0" in report["newer"]
    # The bad downloads were removed from the cache; what stays is complete
    # (every link resolves: blobs shared with a discarded snapshot are kept).
    cache = os.path.join(home, "hub", "models--lab--tiny-dcgan", "snapshots")
    for commit, files in snapshots(home, REPO).items():
        assert {"config.json", "metadata.json", "model.weights.h5"} <= set(files)
        assert all(os.path.isfile(os.path.join(cache, commit, f)) for f in files)
    assert report["truncated_commit"] not in snapshots(home, REPO)


def test_offline_uses_the_cache_and_says_when_it_is_empty(hub, published):
    server, root = hub
    report, out = published
    home = root / "offline_home"
    client(client_env(server.endpoint, home), """
        zoo.resolve(f"hf://{args['repo']}@v1")
    """, repo=REPO)
    # No server address at all: only the cache can answer.
    offline = client_env("http://127.0.0.1:9", home, offline=True)
    got = client(offline, """
        images = zoo.load_gan(f"hf://{args['repo']}@v1").generate(latents=numpy_latents(8))
        report["v1"] = float(np.max(np.abs(images - np.load(args["out"] + "/v1.npy"))))
        expect_error("not_cached", zoo.OfflineError, lambda: zoo.load(f"hf://{args['repo']}@v2"))
    """, repo=REPO, out=out)
    assert got["v1"] == 0.0
    assert "HF_HUB_OFFLINE is set" in got["not_cached"]
    empty = client_env("http://127.0.0.1:9", root / "empty_home", offline=True)
    got = client(empty, """
        expect_error("empty", zoo.OfflineError, lambda: zoo.load(f"hf://{args['repo']}@v1"))
    """, repo=REPO)
    assert "not in the Hugging Face cache" in got["empty"]
    assert not os.path.exists(root / "empty_home" / "hub" / "models--lab--tiny-dcgan" / "snapshots")


def test_translation_entry_publishes_and_loads_back(hub):
    """An image-to-image entry (no latents: its grid is given) goes through
    the same publish path and loads back translating identically."""
    server, root = hub
    out = str(root / "translation")
    client(client_env(server.endpoint, root / "translation_publisher"), """
        from keras_gans.models import Pix2Pix
        from keras_gans.zoo import entry
        os.makedirs(args["out"], exist_ok=True)
        model = Pix2Pix(image_shape=(16, 16, 3), base_filters=4)
        x = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
        grid = np.concatenate([x, model.translate(x), -x])
        entry.save_entry(model, args["out"] + "/entry", name="tiny-pix2pix", grid=grid,
                         dataset={"name": "emoji"}, metrics={"l1": 0.5, "ssim": 0.1})
        np.save(args["out"] + "/x.npy", x)
        np.save(args["out"] + "/expected.npy", model.translate(x))
        report["sha"] = zoo.publish(args["out"] + "/entry", "lab/tiny-pix2pix", revision_tag="v1")
    """, out=out)
    got = client(client_env(server.endpoint, root / "translation_reader"), """
        from huggingface_hub import ModelCard
        model = zoo.load_gan("hf://lab/tiny-pix2pix@v1")
        x = np.load(args["out"] + "/x.npy")
        report["diff"] = float(np.max(np.abs(model.translate(x) - np.load(args["out"] + "/expected.npy"))))
        report["generator"] = zoo.load("hf://lab/tiny-pix2pix@v1").name
        meta = zoo.info("hf://lab/tiny-pix2pix@v1")
        report["meta"] = [meta["task"], meta["source_shape"], sorted(meta["parameters"])]
        card = ModelCard.load("lab/tiny-pix2pix")
        report["card"] = [card.data.pipeline_tag, card.text.count("model.translate(images)")]
    """, out=out)
    assert got["diff"] == 0.0
    assert got["generator"] == "unet_generator"
    assert got["meta"] == ["image-to-image", [16, 16, 3],
                           ["all_weights", "discriminator", "generator"]]
    assert got["card"] == ["image-to-image", 1]

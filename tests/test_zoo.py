"""Zoo entry folders on the current backend: write, read back, refuse bad ones.

The Hub round trip (publish, tags, revisions, cache, offline) is in
test_zoo_hub.py, against a loopback server.
"""
import json
import os
import shutil

import numpy as np
import pytest
from conftest import require_data

from helpers import compiled_tiny_dcgan
from helpers import noise_images
from helpers import numpy_latents
from keras_gans import zoo
from keras_gans.models import CGAN
from keras_gans.zoo import entry


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A briefly trained tiny DCGAN (with EMA) and its entry folder."""
    gan = compiled_tiny_dcgan(seed=1, ema_decay=0.9)
    gan.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
    folder = str(tmp_path_factory.mktemp("zoo") / "tiny-dcgan")
    metadata = zoo.save_entry(
        gan, folder, dataset={"name": "mnist", "split": "train"},
        training={"steps": 2, "batch_size": 16},
        metrics={"fid": 12.5, "kid": 0.0123, "protocol_text": "protocol: N=10, mnist:test",
                 "protocol": {"n": 10, "reference": "mnist:test", "n_reference": 20}},
    )
    return gan, folder, metadata


def copy_entry(folder, tmp_path):
    target = str(tmp_path / "copy")
    shutil.copytree(folder, target)
    return target


def test_entry_round_trip_gives_identical_images(trained):
    gan, folder, metadata = trained
    assert sorted(os.listdir(folder)) == [
        "README.md", "config.json", "metadata.json", "model.weights.h5", "samples.png"]
    loaded = zoo.load_gan(folder)
    latents = numpy_latents(8)
    np.testing.assert_array_equal(loaded.generate(latents=latents), gan.generate(latents=latents))
    # load() gives the sampling generator: the EMA copy, not the raw one.
    generator = zoo.load(folder)
    np.testing.assert_array_equal(
        generator.predict(latents, verbose=0), gan.sampler.predict(latents, verbose=0))
    assert generator.name == gan.sampler.name != gan.generator.name
    # The weights file holds the networks only, not the optimizer's moments.
    import h5py

    with h5py.File(os.path.join(folder, "model.weights.h5")) as f:
        assert "optimizer" not in f and {"generator", "discriminator"} <= set(f)
    assert metadata["weights_sha256"] == entry.sha256_of(os.path.join(folder, "model.weights.h5"))


def test_metadata_and_card_describe_the_model(trained):
    gan, folder, metadata = trained
    from huggingface_hub import ModelCard

    assert zoo.info(folder) == metadata
    assert metadata["class_name"] == "DCGAN" and metadata["latent_dim"] == gan.latent_dim
    assert metadata["parameters"]["generator"] == sum(
        int(np.prod(v.shape)) for v in gan.generator.weights)
    card = ModelCard.load(os.path.join(folder, "README.md"))
    assert card.data.library_name == "keras"
    assert {"gan", "keras-gans", "mnist"} <= set(card.data.tags)
    fid = [r for r in card.data.eval_results if r.metric_type == "fid"][0]
    assert fid.metric_value == 12.5 and fid.metric_name == "FID (N=10 vs mnist:test N=20)"
    assert "protocol: N=10, mnist:test" in card.text
    assert "zoo.load_gan(" in card.text


def test_conditional_entry_keeps_labels(tmp_path):
    gan = CGAN(latent_dim=8, base_filters=4, num_classes=10, seed=0)
    folder = str(tmp_path / "cgan")
    metadata = zoo.save_entry(gan, folder)
    assert metadata["num_classes"] == 10
    loaded = zoo.load_gan(folder)
    latents, labels = numpy_latents(6, dim=8), [0, 1, 2, 7, 8, 9]
    np.testing.assert_array_equal(loaded.generate(latents=latents, labels=labels),
                                  gan.generate(latents=latents, labels=labels))


def test_save_refuses_to_replace_and_overwrite_keeps_other_files(trained, tmp_path):
    gan, folder, _ = trained
    target = copy_entry(folder, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        zoo.save_entry(gan, target)
    with open(os.path.join(target, "recipe.sh"), "w") as f:
        f.write("keras-gans train dcgan\n")
    zoo.save_entry(gan, target, overwrite=True)
    assert os.path.exists(os.path.join(target, "recipe.sh"))
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # no staging left
    # A folder of other files (a project, a run folder) is never written into.
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# my notes\n")
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match="not a zoo entry"):
            zoo.save_entry(gan, project, overwrite=overwrite)
    assert (project / "README.md").read_text() == "# my notes\n"
    (project / "README.md").unlink()
    zoo.save_entry(gan, project)  # an empty folder is fine
    umask = os.umask(0)
    os.umask(umask)
    fresh = tmp_path / "entry2"  # readable as os.makedirs would make it, not mkdtemp's 0700
    zoo.save_entry(gan, fresh)
    assert os.stat(fresh).st_mode & 0o777 == 0o777 & ~umask


def test_truncated_weights_are_a_clear_error(trained, tmp_path):
    target = copy_entry(trained[1], tmp_path)
    weights = os.path.join(target, "model.weights.h5")
    with open(weights, "r+b") as f:
        f.truncate(os.path.getsize(weights) // 2)
    with pytest.raises(zoo.CorruptEntryError, match="truncated, corrupt"):
        zoo.load_gan(target)


def test_sha256_mismatch_is_refused(trained, tmp_path):
    target = copy_entry(trained[1], tmp_path)
    with pytest.raises(zoo.IntegrityError, match="expected 0000"):
        entry.load_entry(target, expected_sha256="0" * 64)
    meta = trained[2]
    gan, _ = entry.load_entry(target, expected_sha256=meta["weights_sha256"])
    assert gan.built


def test_entry_from_a_newer_keras_gans_asks_for_an_upgrade(trained, tmp_path):
    target = copy_entry(trained[1], tmp_path)
    meta_path, config_path = (os.path.join(target, n) for n in ("metadata.json", "config.json"))
    meta = json.load(open(meta_path))
    config = json.load(open(config_path))
    meta["keras_gans_version"] = "9.0.0"
    config["config"]["future_option"] = True  # an argument this version does not know
    json.dump(meta, open(meta_path, "w"))
    json.dump(config, open(config_path, "w"))
    with pytest.raises(zoo.IncompatibleEntryError, match="keras-gans 9.0.0.*pip install -U"):
        zoo.load_gan(target)
    meta["format_version"] = 99
    json.dump(meta, open(meta_path, "w"))
    with pytest.raises(zoo.IncompatibleEntryError, match="zoo format 99"):
        zoo.load_gan(target)


def test_missing_file_and_unknown_names(trained, tmp_path):
    target = copy_entry(trained[1], tmp_path)
    os.remove(os.path.join(target, "config.json"))
    with pytest.raises(zoo.CorruptEntryError, match="missing config.json"):
        zoo.load_gan(target)
    with pytest.raises(zoo.UnknownModelError, match="Built-in entries: .*dcgan-mnist"):
        zoo.load("dcgan-minst")
    with pytest.raises(zoo.UnknownModelError, match="hf://organisation/name"):
        zoo.load("hf://just-a-name")
    # A path that does not exist is named as a path (a pathlib.Path too).
    import pathlib

    for missing in (str(tmp_path / "typo"), pathlib.Path(tmp_path / "typo"), "./dcgan-mnist"):
        with pytest.raises(zoo.UnknownModelError, match="No such entry folder"):
            zoo.load_gan(missing)


def test_export_run_turns_a_cli_run_into_an_entry(tmp_path):
    from keras_gans import cli

    require_data("mnist")  # `keras-gans train dcgan` trains on MNIST

    run = str(tmp_path / "run")
    assert cli.main(["train", "dcgan", "--out", run, "--epochs", "1", "--steps-per-epoch", "2",
                     "--batch-size", "8", "--latent-dim", "8", "--base-filters", "4",
                     "--verbose", "0"]) == 0
    # As `keras-gans evaluate --json` writes it: values and protocol apart.
    from keras_gans.metrics.distribution import Protocol

    protocol = Protocol(n=8, reference="mnist:test", n_reference=8, seed=0, backend="jax")
    with open(os.path.join(run, "evaluation.json"), "w") as f:
        json.dump({"values": {"fid": 321.0}, "protocol": protocol.as_dict()}, f)
    out = str(tmp_path / "entry")
    assert cli.main(["export", run, "--out", run]) == 2  # never into the run folder
    assert cli.main(["export", run, "--out", out]) == 0
    metadata = zoo.info(out)
    assert metadata["training"]["steps"] == 2 and metadata["dataset"]["name"] == "mnist"
    assert metadata["metrics"]["fid"] == 321.0
    assert metadata["metrics"]["protocol"]["n"] == 8
    with open(os.path.join(out, "README.md")) as f:
        card = f.read()
    assert "| FID | 321 |" in card and str(protocol) in card
    grid = str(tmp_path / "strip.png")
    assert cli.main(["sample", out, "--n", "2", "--interpolate", "5", "--out", grid]) == 0
    from PIL import Image

    width, height = Image.open(grid).size
    assert width > 2 * height  # 2 rows of 5 images


def test_interpolation_latents_are_straight_lines():
    from keras_gans.cli import interpolation_latents

    z = interpolation_latents(3, 5, 4, seed=0).reshape(3, 5, 4)
    np.testing.assert_allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)
    assert not np.allclose(z[0, 0], z[1, 0])


@pytest.mark.parametrize("file, content, message", [
    ("metadata.json", [], "metadata.json holds a JSON list, not an object"),
    ("metadata.json", {"format_version": "2.0"}, "format_version '2.0', not a whole number"),
    ("config.json", [1], "config.json holds a JSON list"),
    ("config.json", {}, "does not describe a keras-gans model"),
    ("config.json", {"class_name": "Dense", "config": {"units": 2}, "module": "keras.layers"},
     "does not describe a keras-gans model .*rebuilds Dense"),
])
def test_json_that_is_not_an_entry_is_a_corrupt_entry(trained, tmp_path, file, content, message):
    # Not an AttributeError, nor blame on a healthy weights file.
    target = copy_entry(trained[1], tmp_path)
    with open(os.path.join(target, file), "w") as f:
        json.dump(content, f)
    with pytest.raises(zoo.CorruptEntryError, match=message):
        zoo.load_gan(target)


def test_a_folder_named_like_a_builtin_does_not_hide_it(tmp_path, monkeypatch, caplog):
    from keras_gans.zoo import hub

    monkeypatch.chdir(tmp_path)
    os.makedirs("dcgan-mnist")  # e.g. a training run's folder
    monkeypatch.setattr(hub, "_resolve_builtin", lambda known, *args: ("built-in " + known.name, None))
    assert hub.resolve("dcgan-mnist") == ("built-in dcgan-mnist", None)
    assert "write the folder as a path" in caplog.text
    assert hub.resolve(os.path.join(".", "dcgan-mnist")) == (os.path.join(".", "dcgan-mnist"), None)

"""Fine-tuning a zoo entry or a run on a folder of images (`keras-gans finetune`)."""
import json
import os

import keras
import numpy as np
import pytest
from conftest import require_data
from PIL import Image

from helpers import tiny_dcgan
from helpers import weights_of
from keras_gans import cli
from keras_gans import finetune
from keras_gans import zoo
from keras_gans.models import CGAN


def image_folder(root, n=8, size=28, mode="L"):
    rng = np.random.default_rng(0)
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        pixels = rng.integers(0, 256, (size, size) + ((3,) if mode == "RGB" else ()), np.uint8)
        Image.fromarray(pixels, mode).save(os.path.join(root, f"{i}.png"))
    return str(root)


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("zoo") / "tiny")
    zoo.save_entry(tiny_dcgan(seed=2), folder)
    return folder


def test_finetune_cli_trains_from_an_entry_with_freezed_and_diffaugment(entry, tmp_path):
    data = image_folder(tmp_path / "data")
    out = str(tmp_path / "run")
    assert cli.main(["finetune", entry, "--data", data, "--out", out, "--epochs", "1",
                     "--steps-per-epoch", "2", "--batch-size", "4", "--freeze-d", "1",
                     "--augment", "translation,cutout", "--verbose", "0"]) == 0
    before = zoo.load_gan(entry)
    after = keras.saving.load_model(os.path.join(out, "gan.keras"))
    frozen = [layer for layer in after.discriminator.layers if layer.weights and not layer.trainable]
    assert frozen, "FreezeD froze nothing"
    for layer in frozen:
        original = before.discriminator.get_layer(layer.name)
        for a, b in zip(weights_of(original), weights_of(layer)):
            np.testing.assert_array_equal(a, b)
    assert any(np.any(a != b) for a, b in zip(weights_of(before.generator),
                                              weights_of(after.generator)))
    assert after.augment.policy == "translation,cutout"
    with open(os.path.join(out, "history.json")) as f:
        record = json.load(f)
    assert record["steps"] == 2 and record["images"] == 8 and record["freeze_d"] == 1


def test_a_zoo_entry_has_no_optimizer_state_to_keep(entry):
    with pytest.raises(ValueError, match="no optimizer state"):
        finetune.prepare(entry, fresh_optimizers=False)


def test_ada_keeps_the_pretrained_weights(entry):
    # ADA's own state (p and its counters) starts anew; every other weight
    # is the entry's (with_augment used to fail on the extra weights).
    before = zoo.load_gan(entry)
    gan = finetune.prepare(entry, augment="ADA")
    assert float(gan.augment.p.numpy()) == 0.0
    for network in ("generator", "discriminator"):
        for a, b in zip(weights_of(getattr(before, network)), weights_of(getattr(gan, network))):
            np.testing.assert_array_equal(a, b)


def test_image_size_must_match_unless_resized(entry, tmp_path, monkeypatch):
    from keras_gans.datasets import folder

    data = image_folder(tmp_path / "big", size=32, mode="RGB")
    gan = zoo.load_gan(entry)
    decoded = []
    decode = folder._decode
    monkeypatch.setattr(folder, "_decode", lambda *a: decoded.append(a) or decode(*a))
    with pytest.raises(ValueError, match="32x32.*28x28.*resize"):
        finetune.load_images(gan, data)
    assert len(decoded) == 1  # refused at the first image, not after the whole folder
    found = finetune.load_images(gan, data, resize=True)
    assert found.images.shape == (8, 28, 28, 1)
    assert cli.main(["finetune", entry, "--data", data, "--out", str(tmp_path / "r"),
                     "--epochs", "1", "--steps-per-epoch", "1", "--verbose", "0"]) == 2


def test_conditional_gan_needs_class_folders(tmp_path):
    folder = str(tmp_path / "cgan")
    zoo.save_entry(CGAN(latent_dim=8, base_filters=4, num_classes=10, seed=0), folder)
    gan = zoo.load_gan(folder)
    with pytest.raises(ValueError, match="own sub-folder"):
        finetune.load_images(gan, image_folder(tmp_path / "flat"), labels=True)
    # Folders named by class ids keep them (digits 3 and 7 stay 3 and 7);
    # other names are numbered in sorted order.
    for name in ("3", "7"):
        image_folder(tmp_path / "digits" / name, n=2)
    assert finetune.load_images(gan, tmp_path / "digits", labels=True).labels.tolist() == [3, 3, 7, 7]
    for name in ("cats", "dogs"):
        image_folder(tmp_path / "pets" / name, n=2)
    assert finetune.load_images(gan, tmp_path / "pets", labels=True).labels.tolist() == [0, 0, 1, 1]


def test_run_folder_keeps_its_optimizer_state_on_request(tmp_path):
    require_data("mnist")  # `keras-gans train dcgan` trains on MNIST
    run = str(tmp_path / "run")
    assert cli.main(["train", "dcgan", "--out", run, "--epochs", "1", "--steps-per-epoch", "2",
                     "--batch-size", "8", "--latent-dim", "8", "--base-filters", "4",
                     "--verbose", "0"]) == 0
    kept = finetune.prepare(run, fresh_optimizers=False)
    assert int(keras.ops.convert_to_numpy(kept.optimizer["d"].iterations)) == 2
    # Kept state is refused where it cannot be kept, not silently dropped.
    with pytest.raises(ValueError, match="augment rebuilds the model"):
        finetune.prepare(run, fresh_optimizers=False, augment="translation")
    with pytest.raises(ValueError, match="trainable weights change"):
        finetune.prepare(run, fresh_optimizers=False, freeze_blocks=1)
    # Exactly freeze_blocks blocks are frozen, whatever the source froze.
    frozen = str(tmp_path / "frozen.keras")
    finetune.prepare(run, freeze_blocks=2).save(frozen)
    def frozen_layers(gan):
        return [layer.name for layer in gan.discriminator.layers
                if layer.weights and not layer.trainable]
    assert frozen_layers(keras.saving.load_model(frozen)) == ["down1", "down2", "down2_bn"]
    assert frozen_layers(finetune.prepare(frozen)) == []
    assert frozen_layers(finetune.prepare(frozen, freeze_blocks=1)) == ["down1"]
    with pytest.raises(ValueError, match="at least one must stay trainable"):
        finetune.prepare(run, freeze_blocks=99)
    # Paths that are not there, or not a GAN's, say so.
    with pytest.raises(ValueError, match="No such file"):
        finetune.prepare(str(tmp_path / "nothere" / "gan.keras"))
    half = tmp_path / "half"
    half.mkdir()
    with pytest.raises(ValueError, match="holds no gan.keras"):
        finetune.prepare(str(half))
    fresh = finetune.prepare(run)
    assert float(keras.ops.convert_to_numpy(fresh.optimizer["g"].learning_rate)) == pytest.approx(1e-4)
    # A damaged gan.keras is named as such (Keras says "File not found"), and
    # a bare generator is not a GAN to fine-tune.
    with pytest.raises(ValueError, match="generator.keras holds a Functional, not a keras-gans GAN"):
        finetune.prepare(os.path.join(run, "generator.keras"))
    with open(os.path.join(run, "gan.keras"), "wb") as f:
        f.write(b"garbage")
    with pytest.raises(ValueError, match="Cannot load .*gan.keras as a Keras model.*corrupt"):
        finetune.prepare(run)


def test_self_conditioned_gan_finetunes_on_a_flat_folder_by_its_clusters(tmp_path):
    from keras_gans.models import SelfConditionedGAN

    gan = SelfConditionedGAN(num_clusters=2, components=4, latent_dim=8, base_filters=4, seed=0)
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    gan.fit(images, batch_size=8, epochs=1, verbose=0)
    folder = str(tmp_path / "selfcond")
    zoo.save_entry(gan, folder)
    data = image_folder(tmp_path / "flat")  # no class sub-folders: clusters label them
    out = str(tmp_path / "run")
    assert cli.main(["finetune", folder, "--data", data, "--out", out, "--epochs", "1",
                     "--steps-per-epoch", "2", "--batch-size", "4", "--verbose", "0"]) == 0
    after = keras.saving.load_model(os.path.join(out, "gan.keras"))
    np.testing.assert_array_equal(after.cluster_centers.numpy(), gan.cluster_centers.numpy())
    assert any(np.any(a != b) for a, b in zip(weights_of(gan.generator),
                                              weights_of(after.generator)))

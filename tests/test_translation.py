"""pix2pix and CycleGAN: networks, the image pool, training with fit(),
save/load, the two-domain datasets and the paired metrics."""
import os
import warnings

import keras
import numpy as np
import pytest

from helpers import noise_images, weights_of
from keras_gans import datasets
from keras_gans.layers import ImagePool, ReflectionPadding2D
from keras_gans.metrics import bootstrap_interval, l1_error, paired_gain, ssim, translation_report
from keras_gans.models import CycleGAN, Pix2Pix
from keras_gans.networks import translation as nets

SHAPE = (16, 16, 3)


def tiny_cyclegan(**kwargs):
    options = dict(image_shape=SHAPE, base_filters=4, n_blocks=1, pool_size=8, seed=0)
    return CycleGAN(**{**options, **kwargs})


def pairs(n=16, seed=0):
    a = noise_images(n, SHAPE, seed)
    return a, np.clip(-a + 0.1, -1, 1).astype("float32")


# ------------------------------------------------------------------ networks
def test_network_shapes_and_patchgan_scaling():
    assert nets.unet_generator((32, 32, 1), 3, base_filters=4).output_shape == (None, 32, 32, 3)
    assert nets.unet_generator((32, 32, 3), base_filters=4, depth=2).output_shape == (None, 32, 32, 3)
    assert nets.resnet_translator((16, 16, 3), base_filters=4, n_blocks=1).output_shape == (
        None, 16, 16, 3)
    # 70x70 at 256 pixels, the same share of the side at 128 and 64.
    assert [nets.patchgan_layers((s, s, 3)) for s in (256, 128, 64)] == [3, 2, 1]
    assert [nets.receptive_field(n) for n in (3, 2, 1)] == [70, 34, 16]
    d = nets.patchgan_discriminator((64, 64, 6), base_filters=4)
    assert d.output_shape == (None, 32, 32, 1)
    with pytest.raises(ValueError, match="depth must be between 1 and 4"):
        nets.unet_generator((16, 16, 3), depth=5)
    with pytest.raises(ValueError, match="multiples of 4"):
        nets.resnet_translator((18, 18, 3))
    with pytest.raises(ValueError, match="Unknown norm"):
        nets.normalization("layer", "x")


def test_instance_norm_normalizes_each_image_and_channel():
    layer = nets.normalization("instance", "n")
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 8, 8, 4)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-2)


def test_reflection_padding_mirrors_edges():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    y = keras.ops.convert_to_numpy(ReflectionPadding2D(2)(x))[0, :, :, 0]
    np.testing.assert_array_equal(y[2:-2, 2:-2], x[0, :, :, 0])
    np.testing.assert_array_equal(y[0, 2:-2], x[0, 2, :, 0])  # row 2 mirrored to the top
    assert ReflectionPadding2D(2).compute_output_shape((None, 4, 5, 1)) == (None, 8, 9, 1)


# ---------------------------------------------------------------- image pool
def test_image_pool_fills_then_swaps_half_for_stored_fakes():
    pool = ImagePool(pool_size=8, seed=0)
    first = np.stack([np.full((2, 2, 1), i, "float32") for i in range(8)])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(pool(first, training=True)), first)
    assert int(keras.ops.convert_to_numpy(pool.count)) == 8
    swapped = 0
    for step in range(20):
        fresh = np.full((4, 2, 2, 1), 100.0 + step, "float32")
        before = set(keras.ops.convert_to_numpy(pool.images)[:8, 0, 0, 0].tolist())
        out = keras.ops.convert_to_numpy(pool(fresh, training=True))[:, 0, 0, 0]
        after = keras.ops.convert_to_numpy(pool.images)[:8, 0, 0, 0]
        for value in out:
            assert value == 100.0 + step or value in before
        swapped += int(np.sum(out != 100.0 + step))
        # Every fake handed out from the pool was replaced by the fresh one.
        assert np.sum(after == 100.0 + step) == np.sum(out != 100.0 + step)
    assert 20 < swapped < 60  # about half of 80
    # Outside training the fakes pass through and the pool stays as it is.
    images = keras.ops.convert_to_numpy(pool.images).copy()
    for training in (None, False):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(pool(fresh * 0, training=training)), 0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(pool.images), images)


def test_image_pool_zero_and_too_small():
    x = noise_images(4, (2, 2, 1))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ImagePool(0)(x)), x)
    with pytest.raises(ValueError, match="raise pool_size"):
        ImagePool(2)(x, training=True)


# ------------------------------------------------------------------- pix2pix
def test_pix2pix_learns_a_paired_mapping_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = Pix2Pix(image_shape=SHAPE, base_filters=8, depth=3, l1_weight=100.0)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5))
    a, b = pairs()
    before = l1_error(model.translate(a), b)
    history = model.fit(a, b, batch_size=8, epochs=10, verbose=0)
    l1 = history.history["l1"]
    assert all(np.isfinite(v) for v in history.history["d_loss"])
    assert l1[-1] < 0.9 * l1[0], l1
    assert l1_error(model.translate(a), b) < before
    assert int(model.optimizer["d"].iterations.numpy()) == 20
    assert int(model.optimizer["g"].iterations.numpy()) == 20
    path = str(tmp_path / "pix2pix.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.translate(a), model.translate(a), atol=1e-6)
    assert loaded.depth == 3 and loaded.l1_weight == 100.0


def test_pix2pix_edges_to_colour_and_dataset_input():
    edges = datasets.edge_maps(pairs(8)[1])
    model = Pix2Pix(image_shape=(16, 16, 1), target_channels=3, base_filters=4)
    assert model.discriminator.input_shape == (None, 16, 16, 4)
    model.compile()
    data, steps = datasets.paired_dataset(edges, pairs(8)[1], batch_size=4, pipeline="numpy")
    history = model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])
    assert model.translate(edges).shape == (8, 16, 16, 3)


def test_pix2pix_bad_input_is_explained():
    model = Pix2Pix(image_shape=SHAPE, base_filters=4)
    model.compile()
    a, b = pairs(8)
    with pytest.raises(ValueError, match="pairs of image batches"):
        model.fit(a, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="pairs of image batches"):  # a dataset of singles
        model.fit(datasets.make_dataset(a, 4, pipeline="numpy")[0], steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match=r"b \(target\) images of shape \(16, 16, 3\)"):
        model.fit(a, b[:, :8], batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="floats in"):
        model.fit((a * 127).astype("uint8"), b, batch_size=4, verbose=0)
    # NaN on either side is refused before any step (the b side too).
    bad = b.copy()
    bad[3, 0, 0, 0] = np.nan
    for call in (lambda: model.fit(a, bad, batch_size=4, verbose=0),
                 lambda: model.fit((a, bad), batch_size=4, verbose=0),
                 lambda: model.fit(a, b, batch_size=4, verbose=0, validation_data=(a, bad))):
        with pytest.raises(ValueError, match=r"b images\): the images contain NaN .*index 3"):
            call()
    with pytest.raises(ValueError, match="Unknown direction"):
        model.translate(a, direction="b2a")


# ------------------------------------------------------------------ CycleGAN
@pytest.fixture(scope="module")
def trained_cyclegan():
    # One compiled model serves the CycleGAN tests: compiling its four
    # networks' step is most of their cost on JAX.
    keras.utils.set_random_seed(0)
    model = tiny_cyclegan()
    model.compile(**{f"{k}_optimizer": keras.optimizers.Adam(2e-3, beta_1=0.5)
                     for k in model.network_sets})
    a, b = pairs()
    start = weights_of(*[getattr(model, n) for n in model.network_names])
    data, steps = datasets.unpaired_dataset(a, b, batch_size=4, seed=0)
    history = model.fit(data, steps_per_epoch=steps, epochs=3, verbose=0)
    return model, start, history, (a, b)


def test_cyclegan_four_optimizers_advance_and_every_network_moves(trained_cyclegan):
    model, start, history, _ = trained_cyclegan
    for key in ("g_ab", "g_ba", "d_a", "d_b"):
        assert int(model.optimizer[key].iterations.numpy()) == 12, key
    assert int(model.optimizer.iterations.numpy()) == 12
    index = 0
    for name in model.network_names:
        network = getattr(model, name)
        moved = any(not np.array_equal(w.numpy(), start[index + i])
                    for i, w in enumerate(network.weights) if w.trainable)
        index += len(network.weights)
        assert moved, name
    for key in ("g_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss"):
        assert all(np.isfinite(history.history[key])), key
    # 12 steps bring it from ~1.25 to 0.89-0.92x that, over seeds and
    # backends (CUDA draws other random numbers than the CPU).
    cycle = history.history["cycle_loss"]
    assert cycle[-1] < 0.95 * cycle[0], cycle
    # The pools filled from the generated images (8 slots, 4 per step).
    assert int(model.pool_a.count.numpy()) == 8
    assert float(np.abs(model.pool_b.images.numpy()[:8]).max()) > 0


def test_cyclegan_save_load_round_trip(trained_cyclegan, tmp_path):
    model, _, _, (a, b) = trained_cyclegan
    path = str(tmp_path / "cyclegan.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    for direction, x in (("a2b", a), ("b2a", b)):
        np.testing.assert_allclose(loaded.translate(x, direction), model.translate(x, direction),
                                   atol=1e-6)
    np.testing.assert_array_equal(loaded.pool_a.images.numpy(), model.pool_a.images.numpy())
    assert sorted(loaded.optimizer.keys()) == ["d_a", "d_b", "g_ab", "g_ba"]
    # The optimizers' state came back too.
    for key in ("g_ab", "d_b"):
        assert int(loaded.optimizer[key].iterations.numpy()) == 12
        np.testing.assert_array_equal(loaded.optimizer[key].variables[-1].numpy(),
                                      model.optimizer[key].variables[-1].numpy())


def test_residual_cyclegan_starts_at_the_identity_learns_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = tiny_cyclegan(residual_output=True)
    a, b = pairs()
    for direction, x in (("a2b", a), ("b2a", b)):
        np.testing.assert_allclose(model.translate(x, direction), 0.99 * x, atol=1e-5)
    # The zero-initialized last convolution still learns (alone, fitted to
    # the pairs: CycleGAN's training itself is tested above).
    translator = model.generator_ab
    translator.compile(keras.optimizers.Adam(1e-2), loss="mae")
    history = translator.fit(a, b, batch_size=8, epochs=4, verbose=0).history["loss"]
    assert history[-1] < history[0] - 0.05, history
    moved = model.translate(a, "a2b")
    assert np.all(np.abs(moved) <= 1) and np.abs(moved - 0.99 * a).max() > 0.1
    path = str(tmp_path / "residual.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.residual_output
    np.testing.assert_allclose(loaded.translate(a, "a2b"), moved, atol=1e-6)
    with pytest.raises(ValueError, match="as many output channels"):
        nets.resnet_translator((16, 16, 1), output_channels=3, base_filters=4, n_blocks=1,
                               residual_output=True)


def test_cyclegan_checks_its_generators():
    g = nets.resnet_translator(SHAPE, base_filters=4, n_blocks=1)
    other = nets.resnet_translator((16, 16, 1), output_channels=3, base_filters=4, n_blocks=1)
    with pytest.raises(ValueError, match="generator_ba must map b images back"):
        CycleGAN(image_shape=SHAPE, base_filters=4, generator_ab=g, generator_ba=other)


# ------------------------------------------------------------------ datasets
def test_paired_dataset_keeps_rows_aligned():
    a = np.arange(10, dtype="float32").reshape(10, 1, 1, 1)
    data, steps = datasets.paired_dataset(a, a * 10, batch_size=5, pipeline="numpy")
    x, y = data[0]
    np.testing.assert_array_equal(y, x * 10)
    with pytest.raises(ValueError, match="as many b images"):
        datasets.paired_dataset(a, a[:5], batch_size=5)


def test_unpaired_dataset_shuffles_sides_independently_and_reproducibly():
    a = np.arange(12, dtype="float32").reshape(12, 1, 1, 1)
    data, steps = datasets.unpaired_dataset(a, a.copy(), batch_size=4, seed=3)
    assert steps == 3
    batches = [data[i] for i in range(6)]
    # Each side covers its data once per epoch...
    assert sorted(np.concatenate([x for x, _ in batches[:3]]).ravel()) == list(range(12))
    # ...in an order of its own, so rows are not paired.
    assert any(not np.array_equal(x, y) for x, y in batches)
    again = datasets.unpaired_dataset(a, a.copy(), batch_size=4, seed=3)[0]
    for i in (0, 5):
        np.testing.assert_array_equal(again[i][1], batches[i][1])
    with pytest.raises(ValueError, match="batch_size must be between"):
        datasets.unpaired_dataset(a, a[:2], batch_size=4)
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1; got 1.5"):
        datasets.unpaired_dataset(a, a, batch_size=1.5)


def test_from_directories_pairs_by_name(tmp_path):
    from PIL import Image

    for side, colour in (("a", "red"), ("b", "blue")):
        (tmp_path / side / "sub").mkdir(parents=True)
        for name in ("1.png", "sub/2.png", f"only_{side}.png"):
            Image.new("RGB", (8, 8), colour).save(tmp_path / side / name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b = datasets.from_directories(tmp_path / "a", tmp_path / "b")
    assert a.shape == b.shape == (2, 8, 8, 3)
    assert "Left out 2 images" in str(caught[0].message)
    assert a[..., 0].min() == 1.0 and b[..., 2].min() == 1.0
    a, b = datasets.from_directories(tmp_path / "a", tmp_path / "b", paired=False)
    assert len(a) == len(b) == 3
    (tmp_path / "c").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "c" / "x.png")
    with pytest.raises(ValueError, match="No file name appears in both"):
        datasets.from_directories(tmp_path / "a", tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is empty"):
        datasets.from_directories(tmp_path / "a", tmp_path / "empty")


def test_edge_maps_find_boundaries():
    x = -np.ones((1, 16, 16, 3), "float32")
    x[:, 4:12, 4:12] = 1.0  # a white square on black
    e = datasets.edge_maps(x)[0, :, :, 0]
    assert e[0, 0] == 1.0 and e[8, 8] == 1.0  # flat regions stay white
    assert e[4, 8] == -1.0 and e[8, 3] == -1.0  # the square's border is drawn
    assert datasets.edge_maps(x, channels=3).shape == (1, 16, 16, 3)


# ------------------------------------------------------------------- metrics
def test_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 32, 32, 3))
    y = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1)
    # skimage 0.26 structural_similarity(channel_axis=-1, gaussian_weights=True,
    # sigma=1.5, use_sample_covariance=False, data_range=1) on (x + 1) / 2.
    expected = [0.8877084166770485, 0.8884728767629348, 0.889926395687248]
    np.testing.assert_allclose(ssim(x, y, per_image=True), expected, rtol=1e-12)
    # Constant images: SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1).
    c1 = 0.01**2
    value = ssim(np.full((1, 11, 11, 1), 0.0), np.full((1, 11, 11, 1), 0.5))
    assert value == pytest.approx((2 * 0.5 * 0.75 + c1) / (0.25 + 0.5625 + c1))
    with pytest.raises(ValueError, match="window needs images"):
        ssim(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="NaN"):
        ssim(np.full((1, 11, 11, 1), np.nan), np.zeros((1, 11, 11, 1)))


def test_translation_report_scores_a_model_and_the_identity_baseline(trained_cyclegan):
    model, _, _, (a, b) = trained_cyclegan
    report = translation_report(model, a, b, kid=False)
    out = model.translate(a)
    assert report["l1"] == pytest.approx(l1_error(out, b))
    assert report["identity"]["l1"] == pytest.approx(l1_error(a, b))
    back = model.translate(out, "b2a")
    assert report["cycle_l1"] == pytest.approx(l1_error(back, a))
    assert -1.0 <= report["ssim"] <= 1.0
    gain = report["gain_over_identity"]
    assert gain["l1"]["mean"] == pytest.approx(report["identity"]["l1"] - report["l1"], abs=1e-6)
    assert gain["ssim"]["mean"] == pytest.approx(report["ssim"] - report["identity"]["ssim"], abs=1e-6)


def test_paired_gain_resolves_a_real_difference_and_not_noise():
    rng = np.random.default_rng(0)
    baseline = rng.uniform(0, 1, 400)
    better = paired_gain(baseline + 0.05 + rng.normal(0, 0.05, 400), baseline)
    assert better["ci95"][0] > 0 and better["wins"] > 0.8
    assert better["ci95"][0] <= better["mean"] <= better["ci95"][1]
    noise = paired_gain(baseline + rng.normal(0, 0.05, 400), baseline)
    assert noise["ci95"][0] < 0 < noise["ci95"][1]
    same = paired_gain(baseline, baseline)
    assert same == {"mean": 0.0, "ci95": [0.0, 0.0], "wins": 0.0}
    with pytest.raises(ValueError, match="equal-length"):
        paired_gain([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        bootstrap_interval([])


def test_translation_models_are_in_the_registry():
    from keras_gans import models

    assert models.get_class("pix2pix") is Pix2Pix
    assert models.get_class("CycleGAN") is CycleGAN
    assert os.path.basename(models.__file__) == "__init__.py"


def test_translation_zoo_entry_round_trip(tmp_path):
    from keras_gans.zoo import entry

    model = tiny_cyclegan()
    a, b = pairs(4)
    with pytest.raises(ValueError, match=r"save_entry\(gan, folder, grid=<images"):
        entry.save_entry(model, str(tmp_path / "no-grid"))
    grid = np.concatenate([a, model.translate(a), b])
    meta = entry.save_entry(model, str(tmp_path / "cyc"), grid=grid, metrics={"cycle_l1": 0.3})
    assert meta["task"] == "image-to-image" and meta["latent_dim"] is None
    assert sorted(meta["parameters"]) == ["all_weights", "discriminator_a", "discriminator_b",
                                          "generator_ab", "generator_ba"]
    loaded, _ = entry.load_entry(str(tmp_path / "cyc"))
    np.testing.assert_allclose(loaded.translate(b, "b2a"), model.translate(b, "b2a"), atol=1e-6)
    card = (tmp_path / "cyc" / "README.md").read_text()
    assert "pipeline_tag: image-to-image" in card
    assert "Cycle reconstruction L1 (a -> b -> a) | 0.3 |" in card
    assert "parameters (generator ab / generator ba / discriminator a / discriminator b)" in card


def test_cli_translates_a_folder_and_explains_misuse(tmp_path, capsys):
    from PIL import Image

    from keras_gans import cli

    model = Pix2Pix(image_shape=SHAPE, base_filters=4)
    model.compile()
    path = str(tmp_path / "p2p.keras")
    model.save(path)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for i, name in enumerate(["a.png", "sub/b.jpg", "c.png", "c.jpg"]):
        Image.new("RGBA", (24, 24), (40 * i, 80, 120, 255)).convert(
            "RGB" if name.endswith("jpg") else "RGBA").save(tmp_path / "in" / name)
    (tmp_path / "in" / "broken.png").write_bytes(b"not a png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(["translate", path, "--input", str(tmp_path / "in"), "--out",
                         str(tmp_path / "out"), "--grid", str(tmp_path / "grid.png")]) == 0
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["a.png", "c.jpg.png", "c.png", "sub/b.png"]  # c.jpg's does not replace c.png's
    image = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    expected = model.translate(datasets.from_directory(tmp_path / "in" / "sub", image_size=16,
                                                       channels=3).images)
    assert image.shape == (16, 16, 3)
    got = np.asarray(Image.open(tmp_path / "out" / "sub" / "b.png")).astype("float32") / 127.5 - 1
    assert np.abs(got - expected[0]).max() < 2 / 127.5 + 1e-6
    assert (tmp_path / "grid.png").exists()
    assert "skipped 1 unreadable" in capsys.readouterr().out
    # Written PNGs (and the input images themselves) are never replaced unasked.
    before = (tmp_path / "out" / "a.png").read_bytes()
    args = ["translate", path, "--input", str(tmp_path / "in")]
    with pytest.raises(SystemExit, match="4 of the PNGs to write are in .*--overwrite"):
        cli.main(args + ["--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit, match="--out is the --input folder"):
        cli.main(args + ["--out", str(tmp_path / "in" / ".." / "in"), "--overwrite"])
    assert (tmp_path / "out" / "a.png").read_bytes() == before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(args + ["--out", str(tmp_path / "out"), "--overwrite"]) == 0
    with pytest.raises(ValueError, match="cat.jpg and cat.jpg.png would be translated into"):
        cli.translated_names(["cat.png", "cat.jpg", "cat.jpg.png"])
    with pytest.raises(ValueError, match="same PNG"):
        cli.translated_names(["cat.png", "cat.PNG"])  # one file on a case-blind system
    assert cli.main(["translate", path, "--input", str(tmp_path / "nowhere"),
                     "--out", str(tmp_path / "out")]) == 2  # an error line, no traceback
    assert "does not exist" in capsys.readouterr().err
    for argv, message in [
        (["translate", path, "--input", str(tmp_path / "in"), "--out", "x", "--direction", "b2a"],
         "translates ['a2b']"),
        (["sample", path], "use `keras-gans translate"),
        (["train", "cyclegan", "--out", str(tmp_path / "run")], "train it from Python"),
    ]:
        with pytest.raises(SystemExit, match=message.replace("[", r"\[").replace("]", r"\]")):
            cli.main(argv)

"""SampleGrid, loss plots and the keras-gans command line."""
import json
import os

import numpy as np
import pytest
from conftest import require_data
from helpers import compiled_tiny_dcgan
from helpers import noise_images
from PIL import Image

from keras_gans import cli
from keras_gans.callbacks import SampleGrid
from keras_gans.utils import image_grid


def _png(path):
    return np.asarray(Image.open(path))


def test_sample_grid_reads_current_weights_mid_epoch(tmp_path):
    gan = compiled_tiny_dcgan()
    grids = SampleGrid(str(tmp_path), n=4, every_n_batches=2, scale=1)
    before = image_grid(gan.generate(latents=_latents(grids, gan)))
    gan.fit(noise_images(64), batch_size=16, epochs=1, verbose=0, callbacks=[grids])
    names = sorted(os.listdir(tmp_path))
    assert names == ["epoch_001.png", "step_000002.png", "step_000004.png"]
    final = image_grid(gan.generate(latents=grids._latents))
    np.testing.assert_array_equal(_png(tmp_path / "step_000004.png").reshape(final.shape), final)
    mid = _png(tmp_path / "step_000002.png").reshape(final.shape)
    assert not np.array_equal(mid, final) and not np.array_equal(mid, before)


def _latents(grids, gan):
    rng = np.random.default_rng(grids.seed)
    return rng.standard_normal((grids.n, gan.latent_dim)).astype("float32")


def test_cli_train_then_sample(tmp_path, capsys):
    require_data("mnist")
    out = str(tmp_path / "run")
    args = ["train", "dcgan", "--dataset", "mnist", "--out", out, "--epochs", "2",
            "--steps-per-epoch", "2", "--batch-size", "16", "--latent-dim", "8",
            "--base-filters", "4", "--samples", "4", "--verbose", "0"]
    assert cli.main(args) == 0
    for name in ("gan.keras", "generator.keras", "history.json", "losses.png",
                 "samples.png", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert os.path.exists(os.path.join(out, name)), name
    record = json.load(open(os.path.join(out, "history.json")))
    assert len(record["history"]["d_loss"]) == 2 and record["steps_per_epoch"] == 2
    # A finished run is never overwritten by accident.
    with pytest.raises(SystemExit, match="already holds a trained run"):
        cli.main(args)
    grid = str(tmp_path / "grid.png")
    assert cli.main(["sample", out, "--n", "9", "--out", grid, "--scale", "1"]) == 0
    assert _png(grid).shape == (3 * 30 + 2, 3 * 30 + 2)


def test_cli_sample_errors(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        cli.main(["sample", str(tmp_path / "missing.keras")])
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip")
    with pytest.raises(SystemExit, match="cannot load"):
        cli.main(["sample", str(corrupt)])
    # Output and option mistakes are refused before the model is even loaded.
    for options, message in (
            (["--out", str(tmp_path)], "is a folder; give an image file name"),
            (["--out", str(tmp_path / "grid")], "no image file extension"),
            (["--out", str(tmp_path / "no" / "grid.png")], "its folder does not exist"),
            (["--scale", "0"], "--scale must be at least 1"),
            (["--labels", ","], "--labels takes comma-separated class ids"),
            (["--labels", "a"], "--labels takes comma-separated class ids")):
        with pytest.raises(SystemExit, match=message):
            cli.main(["sample", str(corrupt), *options])


def test_cli_unknown_names_are_clear_errors(tmp_path, capsys):
    assert cli.main(["train", "nogan", "--out", str(tmp_path / "a")]) == 2
    assert "Unknown model 'nogan'" in capsys.readouterr().err
    assert cli.main(["train", "dcgan", "--dataset", "cifar", "--out", str(tmp_path / "b")]) == 2
    assert "cifar" in capsys.readouterr().err
    # evaluate: a --json it could not write fails first, not after scoring.
    assert cli.main(["evaluate", str(tmp_path), "--json", str(tmp_path / "no" / "r.json")]) == 2
    assert "its folder does not exist" in capsys.readouterr().err
    # An unfinished run's folder is not scored as a folder of samples.
    (tmp_path / "run" / "samples").mkdir(parents=True)
    Image.new("L", (8, 8)).save(tmp_path / "run" / "samples" / "epoch_001.png")
    (tmp_path / "run" / "checkpoints").mkdir()
    assert cli.main(["evaluate", str(tmp_path / "run"), "--reference", str(tmp_path / "run")]) == 2
    assert "training run's folder" in capsys.readouterr().err


def test_cli_trains_other_variants_with_their_own_defaults(tmp_path):
    require_data("mnist")
    out = str(tmp_path / "wgangp")
    args = ["train", "wgangp", "--out", out, "--epochs", "1", "--steps-per-epoch", "1",
            "--batch-size", "10", "--latent-dim", "8", "--base-filters", "4",
            "--samples", "4", "--verbose", "0", "--lr", "3e-4"]
    assert cli.main(args) == 0
    record = json.load(open(os.path.join(out, "history.json")))
    assert "gp" in record["history"]  # the variant's own penalty ran
    import keras

    gan = keras.saving.load_model(os.path.join(out, "gan.keras"))
    assert gan.n_critic == 5  # the variant's default, not overridden
    assert abs(float(gan.optimizer["d"].learning_rate) - 3e-4) < 1e-9
    assert type(gan.optimizer["d"]).__name__ == "Adam"


def test_cli_trains_a_self_conditioned_gan_on_its_own_clusters(tmp_path):
    require_data("mnist")
    out = str(tmp_path / "selfcond")
    args = ["train", "self-conditioned-gan", "--out", out, "--epochs", "1",
            "--steps-per-epoch", "1", "--batch-size", "10", "--latent-dim", "8",
            "--base-filters", "4", "--samples", "4", "--verbose", "0",
            "--clusters", "12", "--lr", "2e-3", "--beta-1", "0", "--beta-2", "0.99"]
    assert cli.main(args) == 0
    import keras

    gan = keras.saving.load_model(os.path.join(out, "gan.keras"))
    prior = gan.cluster_prior.numpy()  # MNIST's 60,000 digits in 12 clusters
    assert prior.shape == (12,) and abs(prior.sum() - 1) < 1e-5 and prior.min() > 0
    for optimizer in (gan.optimizer["d"], gan.optimizer["g"]):  # saved and reloaded
        assert type(optimizer).__name__ == "Adam"
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.99)
        assert abs(float(optimizer.learning_rate) - 2e-3) < 1e-9
    record = json.load(open(os.path.join(out, "history.json")))
    assert (record["clusters"], record["lr"], record["beta_1"], record["beta_2"]) == (
        12, 2e-3, 0.0, 0.99)
    grid = str(tmp_path / "unconditional.png")
    assert cli.main(["sample", out, "--n", "4", "--out", grid, "--scale", "1"]) == 0
    assert _png(grid).shape == (2 * 30 + 2, 2 * 30 + 2)
    # As a zoo entry it is unconditional: its clusters are not classes to pick.
    from keras_gans import zoo

    entry = str(tmp_path / "entry")
    assert cli.main(["export", out, "--out", entry]) == 0
    metadata = zoo.info(entry)
    assert metadata["num_classes"] is None and metadata["num_clusters"] == 12
    card = open(os.path.join(entry, "README.md")).read()
    assert "gan.generate(16)" in card and "labels=" not in card
    assert "| clusters (drawn from their frequencies) | 12 |" in card
    assert "pipeline_tag: unconditional-image-generation" in card
    strip = str(tmp_path / "strip.png")  # rows drawn from the clusters' frequencies
    assert cli.main(["sample", entry, "--n", "2", "--interpolate", "3", "--out", strip,
                     "--scale", "1"]) == 0
    gan = zoo.load_gan(entry)
    latents = cli.interpolation_latents(2, 3, gan.latent_dim, 0)
    rows = gan.generate(latents=latents, labels=np.repeat(gan.sample_labels(2), 3))
    np.testing.assert_array_equal(_png(strip), image_grid(rows, columns=3)[..., 0])
    # Metrics sample it as generate() does, and refuse to score clusters as classes.
    from keras_gans.core import sample_latents
    from keras_gans.metrics import distribution
    from keras_gans.metrics.labels import evaluate_conditional

    np.testing.assert_array_equal(distribution.generate_images(gan, 3, seed=5),
                                  gan.generate(latents=sample_latents(3, gan.latent_dim, 5)))
    with pytest.raises(ValueError, match="clusters of its training images"):
        evaluate_conditional(gan, "mnist", n_per_class=1)


def test_cli_refuses_options_a_variant_cannot_take(tmp_path):
    require_data("mnist")
    base = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "10",
            "--latent-dim", "8", "--base-filters", "4", "--verbose", "0"]
    cases = [
        (["dcgan", "--clusters", "10"], "--clusters is for self_conditioned_gan"),
        (["self_conditioned_gan", "--clusters", "1"], "at least 2"),
        (["dcgan", "--beta-1", "1.5"], r"--beta-1 must be in \[0, 1\)"),
        (["wgan", "--beta-2", "0.9"], "wgan's d optimizer is RMSprop"),
        (["dcgan", "--dataset", str(tmp_path)], "is a folder.*keras-gans finetune ENTRY"),
    ]
    for i, (head, message) in enumerate(cases):
        out = tmp_path / f"run{i}"
        with pytest.raises(SystemExit, match=message):
            cli.main(["train", *head, "--out", str(out), *base])
        assert not out.exists()
    # --overwrite deletes a run's checkpoints only once training starts.
    kept = tmp_path / "kept" / "checkpoints" / "ckpt-10"
    kept.mkdir(parents=True)
    (kept / "checkpoint.json").write_text("{}")
    for head, message in cases:
        with pytest.raises(SystemExit, match=message):
            cli.main(["train", *head, "--out", str(tmp_path / "kept"), "--overwrite", *base])
    assert (kept / "checkpoint.json").exists()


def test_cli_trains_and_samples_a_conditional_model(tmp_path):
    require_data("mnist")
    out = str(tmp_path / "cgan")
    args = ["train", "cgan", "--out", out, "--epochs", "1", "--steps-per-epoch", "1",
            "--batch-size", "10", "--latent-dim", "8", "--base-filters", "4",
            "--samples", "4", "--verbose", "0"]
    assert cli.main(args) == 0  # SampleGrid fed the labels through generate()
    assert os.path.exists(os.path.join(out, "samples", "epoch_001.png"))
    grid = str(tmp_path / "sevens.png")
    assert cli.main(["sample", out, "--n", "4", "--labels", "7", "--out", grid,
                     "--scale", "1"]) == 0
    assert _png(grid).shape == (2 * 30 + 2, 2 * 30 + 2)
    with pytest.raises(SystemExit, match="takes 2 inputs"):
        cli.main(["sample", os.path.join(out, "generator.keras"), "--out", grid])
    with pytest.raises(SystemExit, match="not conditional"):
        unconditional = str(tmp_path / "dcgan.keras")
        compiled_tiny_dcgan().save(unconditional)
        cli.main(["sample", unconditional, "--labels", "1", "--out", grid])


def test_evaluate_scores_against_the_models_own_dataset(tmp_path):
    # The reference had been MNIST for every model unless --dataset was given.
    assert cli._trained_on("wgan-gp-fashion-mnist") == "fashion_mnist"
    assert cli._trained_on("dcgan-mnist") == "mnist"
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.json").write_text(json.dumps({"dataset": "fashion_mnist"}))
    assert cli._trained_on(str(run)) == "fashion_mnist"
    (run / "history.json").write_text(json.dumps({"dataset": "/home/me/photos"}))  # finetune's
    assert cli._trained_on(str(run)) is None
    assert cli._trained_on(str(tmp_path / "no-such-thing")) is None
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        cli.evaluate(cli.build_parser().parse_args(
            ["evaluate", str(run), "--json", str(tmp_path)]))


def test_options_given_without_the_option_they_serve_are_refused(tmp_path):
    # They had been accepted and ignored (an --eval-reference that does not exist too).
    base = ["train", "dcgan", "--out", str(tmp_path / "run")]
    for options, message in ((["--eval-n", "500"], "--eval-n acts only with --keep-best"),
                             (["--eval-reference", "/no/such"], "acts only with --keep-best"),
                             (["--keep-checkpoints", "7"], "acts only with --checkpoint-every"),
                             (["--clock", "cpu"], "--clock acts only with --time-budget")):
        with pytest.raises(SystemExit, match=message):
            cli.main(base + options)
    assert not (tmp_path / "run").exists()

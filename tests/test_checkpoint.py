"""Checkpoints every N steps, exact resume after `kill -9`, the NaN guard,
atomic writes and best-checkpoint selection (`keras_gans.checkpoint`)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from conftest import require_data
from helpers import noise_images

from keras_gans import backend
from keras_gans import checkpoint
from keras_gans import cli
from keras_gans.augment import AdaptiveAugment
from keras_gans.checkpoint import BestCheckpoint
from keras_gans.checkpoint import NonFiniteWeightsError
from keras_gans.checkpoint import TrainingCheckpoint
from keras_gans.checkpoint import fit_from_checkpoint
from keras_gans.core import GAN
from keras_gans.datasets import make_dataset
from keras_gans.metrics import EvaluationCallback
from keras_gans.metrics import inception

SHAPE = (8, 8, 1)


def dense_gan(seed=0):
    """A GAN that compiles fast on every backend, with every kind of state:
    BatchNorm statistics, dropout (unseeded: on PyTorch it draws from
    torch's global RNG) and latent seed generators, an EMA generator and ADA
    (its `p` rises: target -1 is always exceeded)."""
    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
        keras.layers.Dense(64, activation="tanh"), keras.layers.Reshape(SHAPE)])
    discriminator = keras.Sequential([
        keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dropout(0.2),
        keras.layers.Dense(1)])
    ada = AdaptiveAugment(target=-1.0, adjust_images=64, update_every=1, seed=seed,
                          policy="cutout")
    gan = GAN(generator, discriminator, seed=seed, ema_decay=0.9, augment=ada)
    gan.compile()
    return gan


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One compiled GAN for the in-process tests (compiling is the slow
    part on JAX), and a checkpoint of its initial state: `reset()` puts
    it back, optimizer state and all."""
    gan = dense_gan()
    initial = str(tmp_path_factory.mktemp("initial"))
    checkpoint.save(gan, initial, step=0)
    gan.reset = lambda: checkpoint.restore(gan, initial)
    return gan


def data():
    return make_dataset(noise_images(32, SHAPE), 8, pipeline="numpy")[0]


def state(model):
    return [np.array(v.numpy()) for v in checkpoint.state_variables(model)]


def max_abs_diff(a, b):
    assert len(a) == len(b)
    return max((float(np.max(np.abs(x.astype("float64") - y.astype("float64"))))
                for x, y in zip(a, b) if x.size), default=0.0)


def saved_arrays(path):
    with np.load(os.path.join(path, checkpoint.VARIABLES_FILE)) as arrays:
        return [arrays[name] for name in sorted(arrays.files)]


# ---------------------------------------------------------------------------
# kill -9 in the middle of an epoch, then the same command again.

RUNNER = """
import json, sys, time
from keras_gans import checkpoint, cli

pace = 0.0


class Paced(checkpoint.TrainingCheckpoint):
    # Sleeps after each batch so the kill surely lands mid-epoch; it
    # changes no number.
    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        time.sleep(pace)


checkpoint.TrainingCheckpoint = Paced
for argv, pace in json.loads(sys.argv[1]):
    code = cli.main(argv)
    print("exit", code, flush=True)
"""


def test_kill_9_mid_epoch_then_the_same_command_matches_an_uninterrupted_run(tmp_path):
    require_data("mnist")
    args = ["train", "dcgan", "--dataset", "mnist", "--epochs", "2", "--steps-per-epoch", "6",
            "--batch-size", "8", "--latent-dim", "8", "--base-filters", "4", "--samples", "4",
            "--verbose", "0", "--checkpoint-every", "2"]
    reference, victim = str(tmp_path / "reference"), str(tmp_path / "victim")
    # JAX: the second process reuses the first one's compiled programs (and
    # later test runs too: the cache lives beside the FID feature cache).
    jax_cache = os.path.join(inception.cache_dir(), "jax-compilation-cache")
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=jax_cache,
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    log = open(tmp_path / "first.log", "w")
    # One process trains the uninterrupted run, then starts the same
    # command on another folder (paced), which is killed after step 4.
    jobs = [(args + ["--out", reference], 0.0), (args + ["--out", victim], 0.5)]
    first = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(jobs)], env=env,
                             cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    target = os.path.join(victim, "checkpoints", "ckpt-00000004")
    deadline = time.monotonic() + 400
    while not os.path.isdir(target):
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint at step 4"
        time.sleep(0.02)
    time.sleep(0.1)
    assert first.poll() is None, "the run ended before the kill"
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    log.close()
    # Killed mid-epoch 1 of 2 (6 steps each): no finished run, last checkpoint step 4.
    assert not os.path.exists(os.path.join(victim, "gan.keras"))
    assert checkpoint.read_manifest(os.path.join(victim, "checkpoints"))["step"] == 4

    again = subprocess.run([sys.executable, "-m", "keras_gans.cli"] + args + ["--out", victim],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-3000:]
    assert "Resuming from step 4" in again.stdout

    ends = [checkpoint.latest(os.path.join(run, "checkpoints")) for run in (reference, victim)]
    assert [checkpoint.read_manifest(p)["step"] for p in ends] == [12, 12]
    diff = max_abs_diff(*map(saved_arrays, ends))
    print(f"\n{keras.backend.backend()}: resumed vs uninterrupted, max abs diff {diff:.3g} "
          "over every weight, optimizer slot, seed and metric state")
    assert diff < 1e-5
    histories = [json.load(open(os.path.join(run, "history.json")))["history"]
                 for run in (reference, victim)]
    for key in ("d_loss", "g_loss"):  # the resumed epoch's means cover all its steps
        np.testing.assert_allclose(histories[1][key], histories[0][key], atol=1e-5)


def test_finetune_resumes_where_it_died(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from keras_gans import zoo
    from keras_gans.models import VanillaGAN

    entry, images = str(tmp_path / "entry"), tmp_path / "images"
    zoo.save_entry(VanillaGAN(latent_dim=8, units=(16,), seed=2), entry)
    images.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (8, 28, 28), np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(images / f"{i}.png")
    args = ["finetune", entry, "--data", str(images), "--epochs", "2", "--steps-per-epoch", "3",
            "--batch-size", "4", "--checkpoint-every", "2",
            "--samples", "4", "--verbose", "0"]
    died = str(tmp_path / "died")
    write = TrainingCheckpoint.save

    def write_then_die(self):  # the process dies right after the step-2 checkpoint
        path = write(self)
        if self.step == 2:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(TrainingCheckpoint, "save", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        cli.main(args + ["--out", died])
    monkeypatch.undo()
    assert not os.path.exists(os.path.join(died, "gan.keras"))
    capsys.readouterr()
    assert cli.main(args + ["--out", died]) == 0
    assert "Resuming from step 2" in capsys.readouterr().out
    # (Exactness is the kill -9 test's; finetune shares train's code from here.)
    record = json.load(open(os.path.join(died, "history.json")))
    assert record["steps"] == 6 and record["resumed_from_step"] == 2
    assert len(record["history"]["d_loss"]) == 2


# ---------------------------------------------------------------------------
# What a checkpoint restores.


def test_restore_brings_back_optimizer_ema_seed_and_ada_state(shared, tmp_path):
    gan = shared
    gan.reset()
    folder = str(tmp_path)
    saver = TrainingCheckpoint(folder, every_n_steps=3, keep=5)
    fit_from_checkpoint(gan, data(), epochs=1, steps_per_epoch=4, checkpoint=saver, verbose=0)
    assert [os.path.basename(p) for p in checkpoint.checkpoints(folder)] == [
        "ckpt-00000003", "ckpt-00000004"]

    fresh = dense_gan(seed=1)  # other weights and seeds until restored
    assert checkpoint.restore(fresh, folder) == 4
    np.testing.assert_array_equal(fresh.optimizer.iterations.numpy(), 4)
    for key in ("d", "g"):
        np.testing.assert_array_equal(fresh.optimizer[key].iterations.numpy(), 4)
    for a, b in zip(gan.ema_generator.weights, fresh.ema_generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(gan.seed_generator.state.numpy(),
                                  fresh.seed_generator.state.numpy())
    assert float(fresh.augment.p.numpy()) == float(gan.augment.p.numpy()) > 0
    assert max_abs_diff(state(gan), state(fresh)) == 0

    # On to step 8; then back to step 3 (mid-epoch) and on to step 8 again:
    # the same state and History.
    history = fit_from_checkpoint(gan, data(), epochs=2, steps_per_epoch=4,
                                  checkpoint=saver, verbose=0)
    uninterrupted = state(gan)
    resumed_folder = str(tmp_path / "resumed")
    shutil.copytree(os.path.join(folder, "ckpt-00000003"),
                    os.path.join(resumed_folder, "ckpt-00000003"))
    gan.reset()
    again = TrainingCheckpoint(resumed_folder, every_n_steps=3)
    assert again.restore(gan) == 3 and (again.epoch, again.epoch_step) == (0, 3)
    resumed_history = fit_from_checkpoint(gan, data(), epochs=2, steps_per_epoch=4,
                                          checkpoint=again, verbose=0)
    assert int(gan.optimizer.iterations.numpy()) == 8 and again.step == 8
    diff = max_abs_diff(uninterrupted, state(gan))
    print(f"\n{keras.backend.backend()}: resumed mid-epoch in-process, max abs diff {diff:.3g}")
    assert diff < 1e-5
    for key in ("d_loss", "g_loss", "ada_p"):
        np.testing.assert_allclose(resumed_history.history[key], history.history[key],
                                   atol=1e-5)


def test_restore_refuses_a_checkpoint_of_another_model(shared, tmp_path):
    gan = shared
    checkpoint.save(gan, str(tmp_path), step=1)
    other = GAN(gan.generator, keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(),
                                                 keras.layers.Dense(1)]))
    other.compile()
    with pytest.raises(ValueError, match="does not match this model"):
        checkpoint.restore(other, str(tmp_path))
    assert checkpoint.restore(gan, str(tmp_path / "empty")) == 0
    # A new run into another run's checkpoints would interleave with them
    # (and break keep=): refused unless the callback restored them.
    saver = checkpoint.TrainingCheckpoint(str(tmp_path), every_n_steps=1)
    with pytest.raises(ValueError, match=r"already holds checkpoints \(last: ckpt-00000001\)"):
        gan.fit(data(), steps_per_epoch=1, verbose=0, callbacks=[saver])
    assert [os.path.basename(p) for p in checkpoint.checkpoints(str(tmp_path))] == ["ckpt-00000001"]


# ---------------------------------------------------------------------------
# Never a NaN checkpoint; never a half-written one.


class _Poison(keras.callbacks.Callback):
    """Sets a generator kernel to NaN after the third batch."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            backend.sync_model_state(self.model)
            kernel = self.model.generator.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def test_nan_weights_stop_training_and_keep_the_last_good_checkpoint(shared, tmp_path):
    folder = str(tmp_path)
    gan = shared
    gan.reset()
    saver = TrainingCheckpoint(folder, every_n_steps=2)
    with pytest.raises(NonFiniteWeightsError) as error:
        fit_from_checkpoint(gan, data(), epochs=2, steps_per_epoch=4, checkpoint=saver,
                            callbacks=[_Poison()], verbose=0)
    message = str(error.value)
    assert "At step 4" in message and "NaN" in message
    assert os.path.join(folder, "ckpt-00000002") in message and "(step 2)" in message
    assert isinstance(error.value, RuntimeError)  # the CLI prints it as an error
    assert [os.path.basename(p) for p in checkpoint.checkpoints(folder)] == ["ckpt-00000002"]
    assert all(np.isfinite(a).all() for a in saved_arrays(checkpoint.latest(folder))
               if a.dtype.kind == "f")
    assert not [name for name in os.listdir(folder) if name.startswith(".tmp-")]


def test_a_crash_during_a_write_leaves_the_previous_checkpoint(shared, tmp_path, monkeypatch):
    folder = str(tmp_path)
    gan = shared
    gan.reset()
    checkpoint.save(gan, folder, step=1)
    saved = state(gan)
    kernel = gan.generator.layers[0].kernel
    kernel.assign(kernel.numpy() + 1.0)

    def crash(file, **arrays):  # half a file, then the disk fills up
        file.write(b"PK\x03\x04 half of a zip")
        raise OSError("No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", crash)
    with pytest.raises(OSError, match="No space left"):
        checkpoint.save(gan, folder, step=2)
    monkeypatch.undo()
    assert checkpoint.checkpoints(folder) == [os.path.join(folder, "ckpt-00000001")]

    # A process killed mid-write leaves its staging folder behind: ignored,
    # and removed by the next write.
    leftover = os.path.join(folder, ".tmp-ckpt-00000002-999999")
    os.makedirs(leftover)
    with open(os.path.join(leftover, checkpoint.VARIABLES_FILE), "wb") as f:
        f.write(b"PK\x03\x04 truncated")
    fresh = dense_gan(seed=1)
    assert checkpoint.restore(fresh, folder) == 1
    assert max_abs_diff(saved, state(fresh)) == 0
    checkpoint.save(gan, folder, step=3, keep=1)
    assert sorted(os.listdir(folder)) == ["ckpt-00000003"]


@pytest.mark.parametrize("damage", ["empty variables", "cut manifest", "missing array",
                                    "manifest without variables", "compression field"])
def test_a_damaged_checkpoint_names_itself_and_the_one_before(shared, tmp_path, damage):
    folder = str(tmp_path)
    gan = shared
    gan.reset()
    checkpoint.save(gan, folder, step=2)
    checkpoint.save(gan, folder, step=4)
    newest = os.path.join(folder, "ckpt-00000004")
    if damage == "empty variables":
        open(os.path.join(newest, checkpoint.VARIABLES_FILE), "w").close()
    elif damage == "cut manifest":
        with open(os.path.join(newest, checkpoint.MANIFEST_FILE), "w") as f:
            f.write('{"format": 1, "step"')
    elif damage == "manifest without variables":
        with open(os.path.join(newest, checkpoint.MANIFEST_FILE), "w") as f:
            json.dump({"format": 1, "step": 4, "model": type(gan).__name__}, f)
    elif damage == "compression field":  # zipfile raises NotImplementedError
        path = os.path.join(newest, checkpoint.VARIABLES_FILE)
        with open(path, "rb") as f:
            data = bytearray(f.read())
        central = data.find(b"PK\x01\x02")  # the first entry's method, 0 (stored) -> 1
        local = int.from_bytes(data[central + 42:central + 46], "little")
        data[central + 10] = data[local + 8] = 1
        with open(path, "wb") as f:
            f.write(data)
    else:  # a valid zip short of the last variable
        path = os.path.join(newest, checkpoint.VARIABLES_FILE)
        with np.load(path) as stored:
            arrays = {k: stored[k] for k in stored.files}
        last = max(k for k in arrays if k.startswith("v"))
        np.savez(path, **{k: v for k, v in arrays.items() if k != last})
    before = state(gan)
    kernel = gan.generator.layers[0].kernel
    kernel.assign(kernel.numpy() + 1.0)
    moved = state(gan)
    with pytest.raises(checkpoint.CorruptCheckpointError,
                       match="ckpt-00000004 is damaged.*the one before .*ckpt-00000002"):
        checkpoint.restore(gan, folder)
    assert max_abs_diff(moved, state(gan)) == 0  # nothing half-restored
    shutil.rmtree(newest)  # as the message says: resume from the one before
    assert checkpoint.restore(gan, folder) == 2
    assert max_abs_diff(before, state(gan)) == 0


# ---------------------------------------------------------------------------
# Best checkpoint by KID, on a held-out split.


def _pixel_features(pixels, verbose=0):
    """A cheap stand-in for the Inception features (the flattened pixels)."""
    return pixels.reshape(len(pixels), -1).astype("float64") / 255.0


def test_best_checkpoint_keeps_the_lowest_kid(shared, tmp_path):
    folder = str(tmp_path / "best")
    gan = shared
    gan.reset()
    held_out = noise_images(16, SHAPE, seed=1)  # images the GAN never trains on
    evaluation = EvaluationCallback(every=1, n=16, metrics=("kid",), reference=held_out,
                                    kid_subsets=4, kid_subset_size=8, verbose=0, cache=False)
    evaluation.evaluator.extractor = lambda: _pixel_features
    best = BestCheckpoint(folder, monitor="kid")
    history = gan.fit(data(), epochs=3, steps_per_epoch=2, verbose=0,
                      callbacks=[evaluation, best])
    kids = history.history["kid"]
    manifest = checkpoint.read_manifest(folder)
    assert best.best == manifest["value"] == pytest.approx(min(kids))
    assert manifest["epoch"] == int(np.argmin(kids)) + 1 and manifest["monitor"] == "kid"
    assert len(checkpoint.checkpoints(folder)) == 1
    assert os.path.isfile(os.path.join(best.best_path, "generator.keras"))

    # Later epochs: worse or unevaluated (NaN) values keep it; a better one
    # replaces it; a new callback on the folder (a resumed run) knows the best.
    later = BestCheckpoint(folder, monitor="kid")
    later.set_model(gan)
    assert later.best == best.best
    kept = best.best_path
    for epoch, value in ((3, best.best + 1.0), (4, float("nan"))):
        later.on_epoch_end(epoch, {"kid": value})
        assert later.best_path == kept and checkpoint.read_manifest(folder)["epoch"] != epoch + 1
    later.on_epoch_end(5, {"kid": best.best - 1.0})
    assert checkpoint.read_manifest(folder)["epoch"] == 6
    assert len(checkpoint.checkpoints(folder)) == 1
    fresh = dense_gan(seed=1)
    checkpoint.restore(fresh, folder)
    backend.sync_model_state(gan)
    assert max_abs_diff(state(gan), state(fresh)) == 0
    # A run continues from its best epoch: the best's checkpoint (no step
    # within an epoch) restores into a TrainingCheckpoint at the next epoch.
    copied = tmp_path / "continue"
    shutil.copytree(folder, copied)
    saver = checkpoint.TrainingCheckpoint(str(copied))
    assert saver.restore(dense_gan(seed=1)) == checkpoint.read_manifest(folder)["step"]
    assert (saver.epoch, saver.epoch_step) == (6, 0)


# ---------------------------------------------------------------------------
# The command line's guards.


def test_cli_refuses_to_mix_a_checkpointed_run_with_a_fresh_one(tmp_path, capsys):
    out = tmp_path / "run"
    os.makedirs(out / "checkpoints" / "ckpt-00000004")
    (out / "checkpoints" / "ckpt-00000004" / checkpoint.MANIFEST_FILE).write_text("{}")
    args = ["train", "dcgan", "--out", str(out)]
    with pytest.raises(SystemExit, match="unfinished run.*--checkpoint-every.*--overwrite"):
        cli.main(args)
    with pytest.raises(SystemExit, match="--checkpoint-every must be >= 0"):
        cli.main(args + ["--checkpoint-every", "-1"])
    # A gan.keras without history.json (written last) was cut short while
    # saving: the run resumes from its checkpoints (this fake one is damaged).
    (out / "gan.keras").write_text("")
    assert cli.main(args + ["--checkpoint-every", "2"]) == 2
    assert "ckpt-00000004 is damaged" in capsys.readouterr().err
    (out / "history.json").write_text("{}")
    with pytest.raises(SystemExit, match="already holds a trained run"):
        cli.main(args + ["--checkpoint-every", "2"])
    parser = cli.build_parser()
    assert parser.parse_args(["finetune", "x", "--data", "d", "--out", "o",
                              "--checkpoint-every", "5"]).checkpoint_every == 5


def test_run_folders_are_never_mixed_or_lost(tmp_path, capsys):
    require_data("mnist")
    out = tmp_path / "run"
    args = ["train", "dcgan", "--out", str(out), "--batch-size", "4", "--latent-dim", "8",
            "--base-filters", "4", "--samples", "4", "--verbose", "0"]
    # Numbers that had meant "the default" or an epoch without end.
    for bad, message in ((["--steps-per-epoch", "0"], "--steps-per-epoch must be >= 1"),
                         (["--epochs", "-2"], "--epochs must be >= 1"),
                         (["--samples", "0"], "--samples must be >= 1"),
                         (["--time-budget", "-1"], "--time-budget must be > 0"),
                         (["--lr", "0"], "--lr must be > 0"),
                         (["--checkpoint-every", "2", "--keep-checkpoints", "0"],
                          "--keep-checkpoints must be >= 1"),
                         (["--keep-best", "kid", "--eval-n", "1"], "--eval-n must be >= 2")):
        with pytest.raises(SystemExit, match=message):
            cli.main(args + bad)
    assert not out.exists()
    # A folder of yours: its files are not replaced, its checkpoints/ not deleted.
    mine = tmp_path / "mine"
    (mine / "checkpoints").mkdir(parents=True)
    (mine / "checkpoints" / "resnet_epoch90.pt").write_text("weeks of work")
    (mine / "history.json").write_text("my notes")
    mine_args = args[:2] + ["--out", str(mine)] + args[4:] + ["--steps-per-epoch", "1",
                                                              "--epochs", "1"]
    with pytest.raises(SystemExit, match="holds checkpoints, history.json|already holds"):
        cli.main(mine_args)
    with pytest.raises(SystemExit, match="not keras-gans checkpoints"):
        cli.main(mine_args + ["--overwrite"])
    assert (mine / "history.json").read_text() == "my notes"
    assert (mine / "checkpoints" / "resnet_epoch90.pt").exists()
    # A run killed before its first checkpoint left epoch grids and a
    # checkpoint's staging folder: the same command starts over on them.
    (out / "samples").mkdir(parents=True)
    (out / "samples" / "epoch_001.png").write_bytes(b"grid")
    (out / "checkpoints" / ".tmp-ckpt-00000002").mkdir(parents=True)
    run = args + ["--checkpoint-every", "2", "--steps-per-epoch", "2"]
    assert cli.main(run + ["--epochs", "1"]) == 0
    shutil.rmtree(out)
    # A checkpointed run resumes only with its own settings.
    run = args + ["--checkpoint-every", "2", "--steps-per-epoch", "2"]
    assert cli.main(run + ["--epochs", "1"]) == 0
    os.remove(out / "gan.keras")  # as if killed before its end
    capsys.readouterr()
    with pytest.raises(SystemExit, match=r"other settings: lr None \(now 0.5\)"):
        cli.main(run + ["--epochs", "2", "--lr", "0.5"])
    with pytest.raises(SystemExit, match=r"batch_size 4 \(now 8\), seed 0 \(now 7\)"):
        cli.main(run + ["--epochs", "2", "--batch-size", "8", "--seed", "7"])
    assert cli.main(run + ["--epochs", "2"]) == 0  # its own settings: resumes
    assert "Resuming from step 2" in capsys.readouterr().out
    # --overwrite says what it deletes, and the old run's epoch grids go too.
    (out / "samples" / "epoch_009.png").write_bytes(b"old")
    assert cli.main(run + ["--epochs", "1", "--overwrite"]) == 0
    assert "--overwrite: deleting 2 checkpoint(s)" in capsys.readouterr().out
    assert sorted(os.listdir(out / "samples")) == ["epoch_001.png"]


def test_run_files_are_replaced_whole_and_json_stays_json(tmp_path):
    target = tmp_path / "gan.keras"
    target.write_text("the finished run")

    def fails(path):
        with open(path, "w") as f:
            f.write("half")
        raise KeyboardInterrupt  # killed mid-write

    with pytest.raises(KeyboardInterrupt):
        cli._save_atomically(fails, str(target))
    assert target.read_text() == "the finished run" and os.listdir(tmp_path) == ["gan.keras"]
    cli._save_atomically(lambda path: cli._write_json(cli._json_safe(
        {"kid": [float("nan"), 0.5], "best": {"value": float("inf")}}), path), str(target))
    assert json.loads(target.read_text()) == {"kid": [None, 0.5], "best": {"value": None}}


def test_resuming_past_the_end_of_a_shorter_epoch_is_refused(tmp_path, capsys):
    # With no more steps per epoch than the checkpoint's step in its epoch,
    # fit() got an epoch length <= 0 and trained without end. (Another
    # epoch length is fine otherwise: batch i depends only on i.)
    require_data("mnist")
    out = str(tmp_path / "run")
    args = ["train", "dcgan", "--out", out, "--batch-size", "4", "--latent-dim", "8",
            "--base-filters", "4", "--samples", "4", "--verbose", "0", "--checkpoint-every", "3"]
    assert cli.main(args + ["--epochs", "1", "--steps-per-epoch", "6"]) == 0
    os.remove(os.path.join(out, "gan.keras"))  # as if killed after step 3
    shutil.rmtree(os.path.join(out, "checkpoints", "ckpt-00000006"))
    capsys.readouterr()
    for steps in ("2", "3"):
        assert cli.main(args + ["--epochs", "3", "--steps-per-epoch", steps]) != 0
        assert ("at step 3 of epoch 1, past the end of this command's epochs of "
                f"{steps} steps (the run had 6). Resume with --steps-per-epoch 6"
                ) in capsys.readouterr().err
    assert checkpoint.latest(os.path.join(out, "checkpoints")).endswith("ckpt-00000003")
    assert cli.main(args + ["--epochs", "1", "--steps-per-epoch", "6"]) == 0  # the same: resumes


def test_cli_keep_best_writes_the_lowest_kid_model(tmp_path, monkeypatch):
    require_data("mnist")
    # The stand-in features must not reach the real feature cache.
    monkeypatch.setenv(inception.CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(inception, "get_extractor", lambda *args, **kwargs: _pixel_features)
    out = str(tmp_path / "run")
    assert cli.main(["train", "dcgan", "--dataset", "mnist", "--epochs", "3",
                     "--steps-per-epoch", "2", "--batch-size", "8", "--latent-dim", "8",
                     "--base-filters", "4", "--samples", "4", "--verbose", "0",
                     "--keep-best", "kid", "--eval-n", "16", "--out", out]) == 0
    with open(os.path.join(out, "history.json")) as f:
        record = json.load(f)
    kids = record["history"]["kid"]
    assert len(kids) == 3 and all(np.isfinite(kids))
    assert record["best"]["value"] == pytest.approx(min(kids))
    assert record["best"]["reference"] == "mnist"
    manifest = checkpoint.read_manifest(os.path.join(out, "best"))
    assert manifest["epoch"] == int(np.argmin(kids)) + 1
    generator = os.path.join(record["best"]["path"], "generator.keras")
    grid = str(tmp_path / "best.png")
    assert cli.main(["sample", generator, "--n", "4", "--out", grid]) == 0
    assert os.path.getsize(grid) > 0
    # --overwrite starts over: the old run's best is not the new run's.
    stale = os.path.join(out, "best", "from-the-old-run")
    open(stale, "w").close()
    assert cli.main(["train", "dcgan", "--dataset", "mnist", "--epochs", "1",
                     "--steps-per-epoch", "2", "--batch-size", "8", "--latent-dim", "8",
                     "--base-filters", "4", "--samples", "4", "--verbose", "0",
                     "--keep-best", "kid", "--eval-n", "16", "--out", out, "--overwrite"]) == 0
    with open(os.path.join(out, "history.json")) as f:
        record = json.load(f)
    assert not os.path.exists(stale)
    assert record["best"]["value"] == pytest.approx(record["history"]["kid"][0])
    assert checkpoint.read_manifest(os.path.join(out, "best"))["epoch"] == 1

    images = tmp_path / "mine"
    images.mkdir()
    finetune = ["finetune", "dcgan-mnist", "--data", str(images), "--keep-best", "kid",
                "--out", str(tmp_path / "tuned")]
    with pytest.raises(SystemExit, match="needs --eval-reference DIR"):
        cli.main(finetune)
    with pytest.raises(SystemExit, match="is the training folder"):
        cli.main(finetune + ["--eval-reference", str(images)])
    with pytest.raises(SystemExit, match="neither a folder nor a dataset"):
        cli.main(finetune + ["--eval-reference", str(tmp_path / "nowhere")])
    # A reference folder that cannot be scored fails before any training.
    unreadable = tmp_path / "held-out"
    unreadable.mkdir()
    (unreadable / "bad.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="bad.png"), \
            pytest.raises(SystemExit, match="--eval-reference: None of the 1 image files"):
        cli.main(finetune + ["--eval-reference", str(unreadable)])
    assert not os.path.exists(tmp_path / "tuned")

"""Checkpoints every N steps, exact resume, and best-checkpoint selection.

A checkpoint is a folder `ckpt-<step>` (step zero-padded to 8 digits) in a
checkpoint directory, holding

- `variables.npz`: every variable a training run carries, in a fixed order:
  the model's trainable and non-trainable variables (networks, EMA
  generator, BatchNorm statistics, seed-generator states, ADA's `p`,
  BEGAN's `k`...), every network set's optimizer variables (moments,
  per-set and global step counters, learning rates) and the metric
  trackers (the running epoch means); on PyTorch also torch's global RNG
  state, which Keras's unseeded `Dropout` draws from there;
- `checkpoint.json`: the step (batches trained, i.e. the position in the
  data stream), the epoch and the step inside it, the optimizer's global
  step, the History of the finished epochs, the training time spent, and
  the variables' paths, shapes and dtypes.

Writes are atomic: the folder is written under a temporary name in the same
directory, its files and the folder are fsynced, and it is renamed into
place, so a process killed mid-write leaves the previous checkpoints intact
(a leftover `.tmp-*` folder is ignored and removed by the next write). The
newest `keep` checkpoints are kept. A model holding NaN or inf is never
written: `save` raises `NonFiniteWeightsError`, which names the last good
checkpoint, and `TrainingCheckpoint` lets it end `fit()`.

Exact resume needs the batches to be a pure function of their position in
the stream: `fit_from_checkpoint` (used by `keras-gans train --checkpoint-every`)
takes an infinite indexable dataset (`make_dataset(..., pipeline="numpy")`),
restores the latest checkpoint and resumes at the same batch, in the middle
of an epoch if need be.

Example:

>>> import tempfile, numpy as np
>>> from keras_gans.datasets import make_dataset
>>> from keras_gans.models import VanillaGAN
>>> data, _ = make_dataset(np.zeros((32, 28, 28, 1), "float32"), 8,
...                        pipeline="numpy")
>>> folder = tempfile.mkdtemp()
>>> def run(epochs):
...     gan = VanillaGAN(latent_dim=8, units=(16,), seed=0)
...     gan.compile()
...     checkpoint = TrainingCheckpoint(folder, every_n_steps=3)
...     fit_from_checkpoint(gan, data, epochs=epochs, steps_per_epoch=4,
...                         checkpoint=checkpoint, verbose=0)
...     return gan
>>> _ = run(epochs=1)            # 4 steps: checkpoints at steps 3 and 4
>>> sorted(os.listdir(folder))
['ckpt-00000003', 'ckpt-00000004']
>>> gan = run(epochs=2)          # resumes at step 4, trains 4 more
>>> int(gan.optimizer.iterations.numpy()), read_manifest(folder)["step"]
(8, 8)
"""
import json
import math
import os
import shutil
import time
import zipfile

import keras
import numpy as np

from keras_gans import backend
from keras_gans.utils.checks import at_least

PREFIX = "ckpt-"
VARIABLES_FILE = "variables.npz"
MANIFEST_FILE = "checkpoint.json"
FORMAT_VERSION = 1


class NonFiniteWeightsError(RuntimeError):
    """The model holds NaN or inf: no checkpoint was written."""


class CorruptCheckpointError(ValueError):
    """A checkpoint's files cannot be read (truncated, emptied, edited)."""


# ---------------------------------------------------------------------------
# Saving and restoring one checkpoint.


def state_variables(model):
    """Every variable a training run carries, in a fixed order, no repeats:
    trainable, non-trainable, optimizer (all network sets) and metric
    variables, the four groups Keras's JAX trainer carries through `fit()`."""
    groups = [model.trainable_variables, model.non_trainable_variables]
    if getattr(model, "optimizer", None) is not None:
        groups.append(model.optimizer.variables)
    groups.append(model.metrics_variables)
    seen, variables = set(), []
    for group in groups:
        for variable in group:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def checkpoints(directory):
    """Paths of the complete checkpoints in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if (name.startswith(PREFIX) and name[len(PREFIX):].isdigit()
                and os.path.isfile(os.path.join(path, MANIFEST_FILE))):
            found.append((int(name[len(PREFIX):]), path))
    return [path for _, path in sorted(found)]


def latest(directory):
    """The newest complete checkpoint in `directory`, or None."""
    found = checkpoints(directory)
    return found[-1] if found else None


def read_manifest(path):
    """The `checkpoint.json` of a checkpoint folder, or of the newest
    checkpoint when `path` is a checkpoint directory (None if it has none)."""
    if not os.path.isfile(os.path.join(path, MANIFEST_FILE)):
        path = latest(path)
        if path is None:
            return None
    try:
        with open(os.path.join(path, MANIFEST_FILE)) as f:
            manifest = json.load(f)
        if not isinstance(manifest, dict):
            raise ValueError(f"{MANIFEST_FILE} holds a JSON {type(manifest).__name__}")
    except (OSError, ValueError) as err:
        raise _damaged(path, err) from None
    return manifest


def _damaged(path, err):
    earlier = [p for p in checkpoints(os.path.dirname(path)) if p < path]
    fallback = f"resume from the one before ({earlier[-1]})" if earlier else "start over"
    return CorruptCheckpointError(
        f"The checkpoint {path} is damaged ({type(err).__name__}: {err}). Delete that folder "
        f"to {fallback}, or start the run over (--overwrite on the command line)."
    )


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path, write):
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def _non_finite(variables, arrays):
    return [
        variable.path
        for variable, array in zip(variables, arrays)
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all()
    ]


def _describe(path):
    if path is None:
        return "there is no earlier checkpoint"
    return f"the last good checkpoint is {path} (step {read_manifest(path)['step']})"


def save(model, directory, step, keep=2, files=None, **info):
    """Writes checkpoint `ckpt-<step>` of `model` into `directory`, atomically.

    Args:
        model: a compiled Keras model (on JAX, call
            `keras_gans.backend.sync_model_state(model)` first inside `fit()`;
            `TrainingCheckpoint` does).
        directory: the checkpoint directory (created if needed).
        step: batches trained so far (the position in the data stream).
        keep: how many of the newest checkpoints to keep (at least 1).
        files: optional dict mapping a file name to a function that writes
            that file given its path (e.g. `model.sampler.save`); the files
            are written inside the checkpoint, before it is renamed into place.
        **info: JSON-serialisable entries added to `checkpoint.json`.

    Returns:
        The checkpoint's path.

    Raises:
        NonFiniteWeightsError: a variable holds NaN or inf; nothing was
            written and the existing checkpoints are untouched.
    """
    variables = state_variables(model)
    arrays = [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in variables]
    bad = _non_finite(variables, arrays)
    if bad:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        last = latest(directory)
        advice = (
            "resuming from it with the same settings repeats the same steps, so "
            "change them (e.g. a lower learning rate) and train into a new run folder"
            if last else "change the settings (e.g. a lower learning rate) and start again"
        )
        raise NonFiniteWeightsError(
            f"At step {step} the model holds NaN or inf ({bad[0]}{more}); the "
            f"checkpoint was not written and {_describe(last)}. Training "
            f"stopped: {advice}."
        )
    os.makedirs(directory, exist_ok=True)
    name = f"{PREFIX}{int(step):08d}"
    final = os.path.join(directory, name)
    staging = os.path.join(directory, f".tmp-{name}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        _write_file(
            os.path.join(staging, VARIABLES_FILE),
            lambda f: np.savez(f, **{f"v{i:05d}": a for i, a in enumerate(arrays)},
                               **backend.global_rng_states()),
        )
        manifest = dict(
            format=FORMAT_VERSION,
            step=int(step),
            iterations=int(keras.ops.convert_to_numpy(model.optimizer.iterations))
            if getattr(model, "optimizer", None) is not None else None,
            model=type(model).__name__,
            backend=keras.backend.backend(),
            time=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **info,
            variables=[
                {"path": v.path, "shape": list(a.shape), "dtype": str(a.dtype)}
                for v, a in zip(variables, arrays)
            ],
        )
        for file_name, write in (files or {}).items():
            target = os.path.join(staging, file_name)
            write(target)
            with open(target, "rb") as f:
                os.fsync(f.fileno())
        text = json.dumps(manifest, indent=1).encode()
        _write_file(os.path.join(staging, MANIFEST_FILE), lambda f: f.write(text))
        _fsync_dir(staging)
        if os.path.exists(final):  # e.g. a run restarted with --overwrite
            old = os.path.join(directory, f".tmp-old-{name}-{os.getpid()}")
            os.rename(final, old)
            os.rename(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, final)
        _fsync_dir(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(directory, keep, current=final)
    return final


def _prune(directory, keep, current):
    for path in checkpoints(directory)[: -max(1, int(keep))]:
        if path != current:
            shutil.rmtree(path, ignore_errors=True)
    for name in os.listdir(directory):  # leftovers of killed writes
        if name.startswith(".tmp-") and not name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def restore(model, directory):
    """Loads the newest checkpoint in `directory` (or the checkpoint folder
    `directory`) into the compiled `model`.

    Every variable of `state_variables(model)` is assigned: weights, EMA,
    seed generators, ADA and BEGAN state, each network set's optimizer
    state and the global step.

    Returns:
        The step to resume from (batches already trained, the position in
        the data stream), or 0 when there is no checkpoint.

    Raises:
        ValueError: the checkpoint was written for a different model.
    """
    path = directory
    if not os.path.isfile(os.path.join(directory, MANIFEST_FILE)):
        path = latest(directory)
    if path is None:
        return 0
    if getattr(model, "optimizer", None) is None:
        raise ValueError("compile() the model before restoring a checkpoint into it.")
    manifest = read_manifest(path)
    variables = state_variables(model)
    try:
        saved = [(entry["path"], tuple(entry["shape"])) for entry in manifest["variables"]]
    except (KeyError, TypeError) as err:
        raise _damaged(path, err) from None
    problem = None
    if manifest.get("model") != type(model).__name__:
        problem = f"it holds a {manifest.get('model')}, not a {type(model).__name__}"
    elif len(saved) != len(variables):
        problem = f"it holds {len(saved)} variables, this model has {len(variables)}"
    else:
        for variable, (saved_path, shape) in zip(variables, saved):
            if shape != tuple(variable.shape):
                problem = (f"{saved_path} has shape {shape}, "
                           f"this model's {variable.path} {tuple(variable.shape)}")
                break
    if problem:
        raise ValueError(
            f"The checkpoint {path} does not match this model: {problem}. Resume "
            "with the same model settings, or use another run folder."
        )
    try:  # all read before any is assigned: a damaged file changes nothing
        with np.load(os.path.join(path, VARIABLES_FILE), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        values = [arrays[f"v{i:05d}"] for i in range(len(variables))]
        step = int(manifest["step"])
    except (OSError, ValueError, EOFError, KeyError, NotImplementedError,
            zipfile.BadZipFile) as err:  # NotImplementedError: a damaged compression field
        raise _damaged(path, err) from None
    for variable, value in zip(variables, values):
        variable.assign(value)
    backend.set_global_rng_states({k: v for k, v in arrays.items() if k.startswith("rng_")})
    return step


# ---------------------------------------------------------------------------
# The callback.


class TrainingCheckpoint(keras.callbacks.Callback):
    """Writes a checkpoint every `every_n_steps` batches and when `fit()` ends.

    Each checkpoint holds the full training state (see the module docstring)
    and is written atomically; the newest `keep` are kept. Before writing,
    every variable is checked: if one holds NaN or inf, nothing is written
    and `fit()` stops with a `NonFiniteWeightsError` naming the last good
    checkpoint.

    `restore(model)` loads the newest checkpoint and primes the callback to
    continue its count (step, epoch, History); `fit_from_checkpoint` does
    both and feeds `fit()` the right batches.

    Args:
        directory: where the `ckpt-<step>` folders go.
        every_n_steps: batches between checkpoints (0: only at the end).
        keep: how many checkpoints to keep (the newest).
        verbose: print a line for each checkpoint written.
        run: optional JSON-serialisable settings of the run, written into
            each checkpoint's `checkpoint.json` under "run".

    Attributes:
        step: batches trained so far, resumed runs included.
        history: the per-epoch logs of all epochs finished so far.
        last_path: the newest checkpoint written or restored.

    Example:

    >>> import tempfile, numpy as np
    >>> from keras_gans.models import VanillaGAN
    >>> gan = VanillaGAN(latent_dim=8, units=(16,), ema_decay=0.9, seed=0)
    >>> gan.compile()
    >>> folder = tempfile.mkdtemp()
    >>> checkpoint = TrainingCheckpoint(folder, every_n_steps=2)
    >>> _ = gan.fit(np.zeros((40, 28, 28, 1), "float32"), batch_size=8,
    ...             verbose=0, callbacks=[checkpoint])
    >>> sorted(os.listdir(folder)), checkpoint.step
    (['ckpt-00000004', 'ckpt-00000005'], 5)
    >>> fresh = VanillaGAN(latent_dim=8, units=(16,), ema_decay=0.9, seed=0)
    >>> fresh.compile()
    >>> restore(fresh, folder), int(fresh.optimizer.iterations.numpy())
    (5, 5)
    """

    def __init__(self, directory, every_n_steps=1000, keep=2, verbose=0, run=None):
        super().__init__()
        self.directory = str(directory)
        # JSON-serialisable settings of the run, kept in each checkpoint
        # (`keras-gans train` compares them when it resumes).
        self.run = run
        self.every_n_steps = at_least(every_n_steps, 0, "every_n_steps")
        self.keep = at_least(keep, 1, "keep")
        self.verbose = verbose
        self.step = 0
        self.epoch = 0
        self.epoch_step = 0
        self.history = {}
        self.seconds = {"wall": 0.0, "cpu": 0.0}
        # The run's epoch length, recorded by fit_from_checkpoint so that a
        # resume it refuses (an epoch already past the checkpoint's place
        # in it, which would never end) can name the run's own value.
        self.steps_per_epoch = None
        self.last_path = latest(self.directory)
        self.restored_step = None
        self._saved_step = None
        self._resume = None
        self._pending = False
        self._epoch_done = False
        self._clock = None
        self._train_rng = None
        self._outside_rng = None

    # -- resuming -----------------------------------------------------------

    def restore(self, model):
        """Loads the newest checkpoint into `model` (see `restore`) and
        continues this callback's count from it. Returns its step (0 when
        the directory holds no checkpoint)."""
        path = latest(self.directory)
        self.restored_step = 0
        if path is None:
            return 0
        step = restore(model, path)
        manifest = read_manifest(path)
        self.step, self._saved_step, self.last_path = step, step, path
        if not isinstance(manifest.get("epoch"), int):
            raise _damaged(path, KeyError("epoch"))
        # A BestCheckpoint's copy records the epoch it completed, no step in it.
        self.epoch, self.epoch_step = manifest["epoch"], manifest.get("epoch_step", 0)
        self.history = {k: list(v) for k, v in manifest.get("history", {}).items()}
        self.seconds = dict(manifest.get("seconds", self.seconds))
        self.steps_per_epoch = manifest.get("steps_per_epoch")
        self._train_rng = backend.global_rng_states()  # just restored
        if self.epoch_step:
            # fit() resets the metric trackers when an epoch begins; the
            # restored running means go back in then, so the epoch's logs
            # are those of an uninterrupted run.
            metrics = [np.array(v.numpy()) for v in model.metrics_variables]
            self._resume = (self.epoch, self.epoch_step, metrics)
        self.restored_step = step
        return step

    # -- writing ------------------------------------------------------------

    def save(self):
        """Writes a checkpoint of the current state now; returns its path."""
        backend.sync_model_state(self.model)
        self._update_seconds()
        outside = self._swap_rng(self._train_rng)
        try:
            self.last_path = save(
                self.model, self.directory, self.step, keep=self.keep,
                epoch=self.epoch, epoch_step=self.epoch_step,
                history=self.history, seconds=self.seconds,
                **({"steps_per_epoch": self.steps_per_epoch} if self.steps_per_epoch else {}),
                **({"run": self.run} if self.run is not None else {}),
            )
        finally:
            self._swap_rng(outside)
        self._saved_step = self.step
        if self.verbose:
            print(f"\n[TrainingCheckpoint] wrote {self.last_path}")
        return self.last_path

    def _update_seconds(self):
        now = (time.perf_counter(), time.process_time())
        if self._clock is not None:
            self.seconds["wall"] += now[0] - self._clock[0]
            self.seconds["cpu"] += now[1] - self._clock[1]
        self._clock = now

    # On PyTorch, train steps can draw from torch's global RNG (unseeded
    # Dropout), and so can code between them (each DataLoader iterator draws
    # a seed). The steps get a stream of their own, swapped in for each
    # batch and saved in the checkpoints, so a resumed run, whose fit()
    # calls differ, draws the same masks.
    def _swap_rng(self, states):
        if not states:
            return None
        current = backend.global_rng_states()
        backend.set_global_rng_states(states)
        return current

    # -- callback hooks -----------------------------------------------------

    def on_train_begin(self, logs=None):
        last = latest(self.directory)
        if last is not None and self.restored_step is None and self._saved_step is None:
            # Another run's checkpoints: this run's would interleave with
            # them, and a resume would pick whichever has the higher step.
            raise ValueError(
                f"{self.directory} already holds checkpoints (last: {os.path.basename(last)}) "
                "that this TrainingCheckpoint did not restore: call checkpoint.restore(model) "
                "(or use fit_from_checkpoint) to continue that run, or give an empty directory."
            )
        self._clock = (time.perf_counter(), time.process_time())
        if self._train_rng is None:
            self._train_rng = backend.global_rng_states()

    def on_train_batch_begin(self, batch, logs=None):
        self._outside_rng = self._swap_rng(self._train_rng)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.epoch_step, self._epoch_done = epoch, 0, False
        if self._resume is not None and self._resume[0] == epoch:
            self.epoch_step = self._resume[1]
            for variable, value in zip(self.model.metrics_variables, self._resume[2]):
                variable.assign(value)
        self._resume = None

    def on_train_batch_end(self, batch, logs=None):
        if self._outside_rng is not None:
            self._train_rng = self._swap_rng(self._outside_rng)
            self._outside_rng = None
        self.step += 1
        self.epoch_step += 1
        last = batch + 1 == self.params.get("steps")
        self._epoch_done = last
        if self.every_n_steps and self.step % self.every_n_steps == 0:
            if last:
                self._pending = True  # saved in on_epoch_end, with the epoch's logs
            else:
                self.save()

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(_jsonable(value))
        if self._epoch_done:
            self.epoch, self.epoch_step = epoch + 1, 0
        if self._pending:
            self._pending = False
            self.save()

    def on_train_end(self, logs=None):
        if self.step and self.step != self._saved_step:
            self.save()
        self._clock = None


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps the checkpoint of the epoch with the best `monitor` value.

    Reads `logs[monitor]` at the end of each epoch: put it after the
    callback that computes the value, such as
    `keras_gans.metrics.EvaluationCallback` (FID/KID on a held-out split,
    e.g. MNIST's test set). Epochs without a finite value (not evaluated)
    are skipped. When the value beats the best so far, the full training
    state is written to `directory` (one `ckpt-<step>` folder, replaced
    atomically) with the sampler as `generator.keras`; the best value is
    kept in its `checkpoint.json`, so a resumed run keeps comparing with it.
    `restore(model, directory)` loads it; `keras-gans sample` reads its
    `generator.keras`.

    Args:
        directory: the folder of the best checkpoint.
        monitor: the logged value to compare (e.g. `"kid"`, `"fid"`).
        mode: `"min"` (lower is better, as for FID and KID) or `"max"`.
        verbose: print a line when a new best is written.

    Attributes:
        best: the best value so far (None before any).
        best_path: its checkpoint folder.

    Example:

    >>> from keras_gans.metrics import EvaluationCallback
    >>> callbacks = [EvaluationCallback(every=1, n=2000, metrics=("kid",)),
    ...              BestCheckpoint("runs/x/best", monitor="kid")]
    >>> gan.fit(data, epochs=20, callbacks=callbacks)  # doctest: +SKIP
    """

    def __init__(self, directory, monitor="kid", mode="min", verbose=0):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        self.directory = str(directory)
        self.monitor, self.mode, self.verbose = monitor, mode, verbose
        self.best, self.best_path = None, None
        manifest = read_manifest(self.directory)
        if manifest is not None and manifest.get("monitor") == monitor:
            self.best, self.best_path = manifest["value"], latest(self.directory)

    def _better(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        value = None if value is None else _jsonable(value)
        if value is None or not math.isfinite(value) or not self._better(value):
            return
        model = self.model
        backend.sync_model_state(model)
        step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        files = {}
        if hasattr(model, "sampler"):
            files["generator.keras"] = model.sampler.save
        self.best_path = save(model, self.directory, step, keep=1, files=files,
                              monitor=self.monitor, value=value, epoch=epoch + 1)
        for path in checkpoints(self.directory):  # e.g. a later step's, from an older run
            if path != self.best_path:
                shutil.rmtree(path, ignore_errors=True)
        self.best = value
        if self.verbose:
            print(f"\n[BestCheckpoint] {self.monitor}={value:.5g} at epoch {epoch + 1}: "
                  f"wrote {self.best_path}")


class _FromStep(keras.utils.PyDataset):
    """The infinite indexable dataset `data` from batch `start` on."""

    def __init__(self, data, start):
        super().__init__()
        self.data, self.start = data, int(start)

    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        return self.data[self.start + int(index)]


def fit_from_checkpoint(model, data, epochs, steps_per_epoch, checkpoint,
                        callbacks=(), **kwargs):
    """`model.fit(...)` that resumes from `checkpoint`'s newest checkpoint.

    Restores the model (unless `checkpoint.restore(model)` was already
    called) and trains up to `epochs` epochs of `steps_per_epoch` batches,
    starting at the checkpoint's batch: a checkpoint taken inside an epoch
    gives one `fit()` call for the rest of that epoch and one for the
    following epochs, with the epoch's running metrics restored.

    Args:
        model: a compiled model.
        data: an infinite dataset whose batch `i` depends only on `i`, such
            as `make_dataset(images, batch_size, pipeline="numpy")` (a
            `keras.utils.PyDataset` with `num_batches` None).
        epochs, steps_per_epoch: as in `fit()`, for the whole run.
        checkpoint: a `TrainingCheckpoint` (added to the callbacks).
        callbacks: other callbacks.
        **kwargs: passed to `fit()` (e.g. `verbose`).

    Returns:
        A `keras.callbacks.History` whose `history` covers every epoch of
        the run, including those before the resume.
    """
    if getattr(data, "num_batches", 0) is not None or not hasattr(data, "__getitem__"):
        raise TypeError(
            "fit_from_checkpoint needs an infinite dataset whose batch i depends "
            "only on i, e.g. make_dataset(images, batch_size, pipeline='numpy'); "
            f"got {type(data).__name__}."
        )
    if checkpoint.restored_step is None:
        checkpoint.restore(model)
    recorded, epoch, offset = checkpoint.steps_per_epoch, checkpoint.epoch, checkpoint.epoch_step
    # Batch i depends only on i, so another epoch length is fine, except
    # one that the checkpoint's place in its epoch has already passed.
    if offset >= steps_per_epoch:
        raise ValueError(
            f"The newest checkpoint in {checkpoint.directory} is at step {offset} of epoch "
            f"{epoch + 1}, past the end of this command's epochs of {steps_per_epoch} steps "
            f"(the run had {recorded or 'more'}). Resume with --steps-per-epoch "
            f"{recorded or 'as before'} (steps_per_epoch), or start over in another folder "
            "(or with --overwrite)."
        )
    checkpoint.steps_per_epoch = steps_per_epoch
    callbacks = [c for c in callbacks if c is not checkpoint] + [checkpoint]
    model.stop_training = False
    if offset and epoch < epochs:
        model.fit(_FromStep(data, checkpoint.step), initial_epoch=epoch, epochs=epoch + 1,
                  steps_per_epoch=steps_per_epoch - offset, callbacks=callbacks, **kwargs)
        epoch += 1
    if epoch < epochs and not model.stop_training:
        model.fit(_FromStep(data, checkpoint.step), initial_epoch=epoch, epochs=epochs,
                  steps_per_epoch=steps_per_epoch, callbacks=callbacks, **kwargs)
    history = keras.callbacks.History()
    history.history = {k: list(v) for k, v in checkpoint.history.items()}
    history.epoch = list(range(max((len(v) for v in history.history.values()), default=0)))
    return history


def _jsonable(value):
    try:
        return float(keras.ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return None

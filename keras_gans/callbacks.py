"""Callbacks for watching GAN training."""
import os
import time

import keras

from keras_gans import backend
from keras_gans.core import sample_latents
from keras_gans.utils import save_grid
from keras_gans.utils.checks import at_least


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of samples from fixed latents after each epoch.

    Samples come from `model.sampler` (the EMA generator when the model
    keeps one).

    The latents are drawn once with numpy, so successive grids show the same
    "people" improving. On JAX, `fit()` keeps the variables' values outside
    the model during an epoch; the callback syncs them back before sampling.

    Args:
        directory: where `epoch_001.png`, ... are written.
        n: number of samples in the grid.
        seed: numpy seed of the fixed latents.
        every_n_batches: also write `step_000100.png`, ... every this many
            batches (0 disables).

    Example:

    >>> import numpy as np, tempfile
    >>> from keras_gans.models import DCGAN
    >>> gan = DCGAN(latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> out = tempfile.mkdtemp()
    >>> _ = gan.fit(np.zeros((16, 28, 28, 1), "float32"), batch_size=8,
    ...             verbose=0, callbacks=[SampleGrid(out, n=4)])
    >>> sorted(os.listdir(out))
    ['epoch_001.png']
    """

    def __init__(self, directory, n=64, seed=0, every_n_batches=0, scale=2):
        super().__init__()
        self.directory = directory
        self.n = at_least(n, 1, "n")
        self.seed = seed
        self.every_n_batches = at_least(every_n_batches, 0, "every_n_batches")
        self.scale = scale
        self._latents = None
        self.last_path = None
        if not every_n_batches:
            # No batch hook: lets JAX's fit() skip per-batch callback
            # dispatch (keras_gans.backend.epoch_callbacks).
            self.on_train_batch_end = keras.callbacks.Callback.on_train_batch_end.__get__(self)

    def _write(self, name):
        model = self.model
        backend.sync_model_state(model)
        if self._latents is None:
            self._latents = sample_latents(self.n, model.latent_dim, self.seed)
        # generate() knows each variant's inputs (labels, InfoGAN codes).
        images = model.generate(latents=self._latents)
        self.last_path = save_grid(
            images, os.path.join(self.directory, name), scale=self.scale
        )

    def on_train_batch_end(self, batch, logs=None):
        if self.every_n_batches and (batch + 1) % self.every_n_batches == 0:
            backend.sync_model_state(self.model)
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            self._write(f"step_{step:06d}.png")

    def on_epoch_end(self, epoch, logs=None):
        self._write(f"epoch_{epoch + 1:03d}.png")


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit()` once `seconds` have passed (checked after each batch),
    for training "as far as N minutes go". `steps` counts the batches run.

    `clock="wall"` counts wall time; `clock="cpu"` counts this process's CPU
    time over all its threads, a budget that other programs sharing the
    machine do not eat into (a 2-core machine spends 120 CPU-seconds in
    about one minute when nothing else runs).

    The time counts across the `fit()` calls the callback is passed to;
    `spent` starts the count at seconds already used (e.g. by the run a
    resumed one continues).

    Example:

    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> budget = TimeBudget(seconds=0.0)
    >>> _ = model.fit(np.ones((8, 1)), np.ones((8, 1)), batch_size=2, epochs=5,
    ...               callbacks=[budget], verbose=0)
    >>> budget.steps
    1
    """

    def __init__(self, seconds, clock="wall", spent=0.0):
        super().__init__()
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}.")
        self.seconds = float(seconds)
        self.clock = clock
        self.spent = float(spent)
        self.steps = 0
        self.start = None

    def now(self):
        """The chosen clock's reading, in seconds (for timing work that
        should count in the budget, passed as `spent`)."""
        return time.perf_counter() if self.clock == "wall" else time.process_time()

    def elapsed(self):
        """Seconds on the chosen clock spent training (`spent` included)."""
        running = 0.0 if self.start is None else self.now() - self.start
        return self.spent + running

    def on_train_begin(self, logs=None):
        self.start = self.now()

    def on_train_end(self, logs=None):
        self.spent, self.start = self.elapsed(), None

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.elapsed() > self.seconds:
            self.model.stop_training = True

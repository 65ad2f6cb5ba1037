"""Keeps a model's variables when `fit()` fails (an error in a step, a
KeyboardInterrupt).

Keras's JAX trainer detaches every variable's value while it trains (the
values travel through the jitted step instead) and reattaches them at the
end of each epoch, and in its `finally` when a step of the failing epoch
completed. An error before the epoch's first step completes (bad data found
while tracing, say) leaves the variables empty: the weights lost, and the
next `fit()` failing with "'NoneType' object is not callable". `FitGuard`
holds the values each epoch starts from and puts them back into any
variable left empty.

It hooks the epoch start only: a callback with a per-batch hook makes Keras
run every batch's callbacks synchronously, which waits for each step before
dispatching the next (about 1% of a DCGAN step here). TensorFlow and torch
update variables in place and need no guard.
"""
import keras


class FitGuard(keras.callbacks.Callback):
    """A context manager and epoch callback around one `fit()` (JAX only)."""

    def __init__(self, model):
        super().__init__()
        self._model = model
        self._saved = None

    def _snapshot(self):
        owners = [self._model]
        if getattr(self._model, "optimizer", None) is not None:
            owners.append(self._model.optimizer)
        self._saved = [(v, v._value) for owner in owners for v in owner.variables]
        self._saved += [(v, v._value) for v in self._model.metrics_variables]

    def __enter__(self):
        self._snapshot()
        return self

    def on_epoch_begin(self, epoch, logs=None):
        # The previous epoch's values were reattached at its end; an
        # evaluate() in between leaves Keras nothing to reattach on error.
        self._snapshot()

    def __exit__(self, error_type, error, traceback):
        if error_type is not None:
            for variable, value in self._saved:
                if variable._value is None:
                    variable._value = value
            self._model._jax_state = None
            self._model._jax_state_synced = True
        self._saved = None
        return False


def fit_guard(model):
    """The guard for `model`'s next `fit()`; None where none is needed."""
    return FitGuard(model) if keras.backend.backend() == "jax" else None

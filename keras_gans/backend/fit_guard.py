"""Keeps a model's variables when `fit()` fails (an error in a step, a
KeyboardInterrupt).

Keras's JAX trainer detaches every variable's value while it trains (the
values travel through the jitted step instead) and reattaches them at the
end of each epoch. An error in the first step of a `fit()` call (bad data
found while tracing, say) would leave the variables empty: the weights
lost, and the next `fit()` failing with "'NoneType' object is not callable".
`FitGuard` holds references to the values until the first step completes,
then restores, on error, either those or the last completed step's state.
TensorFlow and torch update variables in place and need no guard.
"""
import keras


class FitGuard(keras.callbacks.Callback):
    """A context manager and callback around one `fit()` call (JAX only)."""

    def __init__(self, model):
        super().__init__()
        self._model = model
        self._saved = None
        self._completed_step = False

    def __enter__(self):
        owners = [self._model]
        if getattr(self._model, "optimizer", None) is not None:
            owners.append(self._model.optimizer)
        self._saved = [(v, v._value) for owner in owners for v in owner.variables]
        self._saved += [(v, v._value) for v in self._model.metrics_variables]
        return self

    def on_train_batch_end(self, batch, logs=None):
        # From here on the trainer holds a complete state to sync back;
        # dropping the references frees the pre-fit values.
        self._completed_step = True
        self._saved = None

    def __exit__(self, error_type, error, traceback):
        if error_type is not None:
            model = self._model
            if self._completed_step:
                model.jax_state_sync()
            elif self._saved:
                for variable, value in self._saved:
                    if variable._value is None:
                        variable._value = value
            model._jax_state = None
            model._jax_state_synced = True
        self._saved = None
        return False


def fit_guard(model):
    """The guard for `model`'s next `fit()`; None where none is needed."""
    return FitGuard(model) if keras.backend.backend() == "jax" else None

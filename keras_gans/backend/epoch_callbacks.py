"""`fit()`'s and `evaluate()`'s callbacks without per-batch dispatch when
nothing listens (every backend).

Keras's callback list converts every batch's logs to Python floats, even
when no callback has a batch hook (`verbose=0`, epoch-only callbacks). On
JAX and torch a worker thread does it: it waits for that step to finish,
and on a 2-core CPU it wakes beside the compute threads once per step. It
cost 1.1-1.5% of a DCGAN or WGAN-GP step on JAX here, and 0.5 ms a step
(~5%) of torch's small steps (`benchmarks/torch_host_overhead.py`), where
the host's time is what counts on a GPU. TF converts on the training thread
itself: a host-device sync per step on a GPU. `EpochCallbacks` is Keras's
`CallbackList` that skips the batch hooks when none of its callbacks has one;
`fit_callbacks` and `evaluate_callbacks` build it with the arguments
Keras's `fit()` and `evaluate()` would use.
"""
import keras
from keras.src import utils as keras_utils
from keras.src.backend import config as keras_config
from keras.src.trainers import data_adapters
from keras.src.trainers.data_adapters.array_data_adapter import can_convert_arrays
from keras.src.trainers.epoch_iterator import EpochIterator

_BATCH_HOOKS = (
    "on_batch_begin", "on_batch_end",
    "on_train_batch_begin", "on_train_batch_end",
    "on_test_batch_begin", "on_test_batch_end",
)


def _has_batch_hook(callback):
    return any(not keras_utils.is_default(getattr(callback, hook)) for hook in _BATCH_HOOKS)


class EpochCallbacks(keras.callbacks.CallbackList):
    """A `keras.callbacks.CallbackList` that dispatches no train or test
    batch hook while none of its callbacks overrides one.

    >>> import keras
    >>> quiet = EpochCallbacks([keras.callbacks.History()])
    >>> quiet.dispatches_batches
    False
    >>> EpochCallbacks([keras.callbacks.LambdaCallback(on_batch_end=print)]).dispatches_batches
    True
    """

    def __init__(self, callbacks=None, **kwargs):
        super().__init__(callbacks, **kwargs)
        self._update_dispatch()

    def _update_dispatch(self):
        # Again at each train or test start: `self.callbacks` is a plain list.
        self.dispatches_batches = any(_has_batch_hook(c) for c in self.callbacks)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._update_dispatch()  # after: a callback may add a hook there

    def on_test_begin(self, logs=None):
        super().on_test_begin(logs)
        self._update_dispatch()


def _gated(hook):
    dispatch = getattr(keras.callbacks.CallbackList, hook)

    def gated(self, batch, logs=None):
        if self.dispatches_batches:
            dispatch(self, batch, logs)

    gated.__name__, gated.__qualname__ = hook, "EpochCallbacks." + hook
    gated.__doc__ = dispatch.__doc__
    return gated


for _hook in _BATCH_HOOKS:
    setattr(EpochCallbacks, _hook, _gated(_hook))


def fit_callbacks(model, x, y, batch_size, epochs, kwargs):
    """`kwargs` for `model.fit`, its `callbacks` as an `EpochCallbacks` where
    that changes something: `verbose=0`, no callback with a batch hook, and
    input whose steps per epoch Keras knows up front (arrays, a tf.data
    dataset; no `validation_split`), so the callbacks' `params` are Keras's.
    Otherwise `kwargs` unchanged.

    Unlike Keras's, the list is set up (`set_model`, a new `model.history`)
    before `fit()` checks its data and builds the model."""
    if kwargs.get("validation_split"):
        return kwargs
    return _quiet(model, x, y, batch_size, kwargs, kwargs.get("steps_per_epoch"),
                  epochs=epochs, add_history=True)


def evaluate_callbacks(model, x, y, batch_size, kwargs):
    """`kwargs` for `model.evaluate`, as `fit_callbacks` for `fit`."""
    return _quiet(model, x, y, batch_size, kwargs, kwargs.get("steps"),
                  epochs=1, add_history=False)


def _quiet(model, x, y, batch_size, kwargs, steps_per_epoch, **list_args):
    given = kwargs.get("callbacks")
    if isinstance(given, keras.callbacks.CallbackList):
        return kwargs
    callbacks = keras.tree.flatten(given) if given else []  # as Keras reads them
    if (
        kwargs.get("verbose", "auto") != 0
        or keras_config.max_epochs() or keras_config.max_steps_per_epoch()
        or any(_has_batch_hook(c) for c in callbacks)
    ):
        return kwargs
    if not (can_convert_arrays((x, y)) or data_adapters.is_tf_dataset(x)):
        return kwargs
    # Only the batch count: sample or class weights do not change it, and
    # class weights would cost a pass over the labels here.
    steps = EpochIterator(
        x=x, y=y, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
    ).num_batches
    quiet = EpochCallbacks(
        callbacks, add_progbar=False, verbose=kwargs["verbose"], steps=steps,
        model=model, **list_args,
    )
    return dict(kwargs, callbacks=quiet)

"""fit()'s callbacks on JAX skip per-batch dispatch when nothing listens
(keras_gans.backend.epoch_callbacks), and change nothing else: the same
History, params and weights as Keras's own callback list."""
import keras
import numpy as np
import pytest
from helpers import compiled_tiny_dcgan
from helpers import noise_images
from helpers import weights_of
from keras.src.callbacks import callback_list

from keras_gans import backend
from keras_gans.backend.epoch_callbacks import EpochCallbacks
from keras_gans.backend.epoch_callbacks import fit_callbacks

IMAGES = noise_images(40, shape=(8, 8, 1))


class BatchCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


class EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def fitted(callbacks=(), seed=0, **fit_kwargs):
    keras.utils.set_random_seed(seed)
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    fit_kwargs.setdefault("batch_size", 16)
    history = gan.fit(IMAGES, epochs=2, verbose=0, callbacks=list(callbacks), **fit_kwargs)
    return gan, history


def test_batch_hooks_are_dispatched_only_when_a_callback_has_one():
    epoch_only = EpochCallbacks([EpochCounter()])
    counter = BatchCounter()
    with_batches = EpochCallbacks([EpochCounter(), counter])
    assert not epoch_only.dispatches_batches and with_batches.dispatches_batches
    for callbacks in (epoch_only, with_batches):
        callbacks.on_train_begin()
        callbacks.on_train_batch_begin(0)
        callbacks.on_train_batch_end(0, {"loss": 1.0})
        callbacks.on_train_end()
    assert counter.batches == 1
    # A callback added to the plain list later is seen at the next start.
    epoch_only.callbacks.append(BatchCounter())
    epoch_only.on_train_begin()
    assert epoch_only.dispatches_batches
    epoch_only.on_train_end()


@pytest.mark.parametrize("fit_kwargs", [
    {"verbose": 1},
    {"verbose": "auto"},
    {"verbose": 0, "validation_split": 0.25},
    {"verbose": 0, "callbacks": [BatchCounter()]},
])
def test_keras_own_list_is_kept_where_it_matters(fit_kwargs):
    kwargs = fit_callbacks(None, IMAGES, None, 16, 1, fit_kwargs)
    assert kwargs is fit_kwargs


def test_a_generator_input_keeps_keras_list():
    # Counting a generator's batches would consume it.
    def batches():
        yield IMAGES[:16]

    kwargs = {"verbose": 0}
    assert fit_callbacks(None, batches(), None, None, 1, kwargs) is kwargs


@pytest.mark.skipif(backend.name() != "jax", reason="the quiet list is JAX's")
def test_fit_dispatches_no_batch_on_jax_and_trains_the_same(monkeypatch):
    dispatched = []
    original = callback_list.CallbackList._on_train_batch_end

    def spy(self, batch, logs=None):
        dispatched.append(batch)
        return original(self, batch, logs)

    monkeypatch.setattr(callback_list.CallbackList, "_on_train_batch_end", spy)
    counter = EpochCounter()
    quiet_gan, quiet = fitted([counter])
    assert dispatched == [] and counter.epochs == 2
    # A batch hook brings back Keras's own list, which dispatches every batch.
    keras_gan, keras_history = fitted([BatchCounter()])
    assert len(dispatched) == 6
    assert quiet.params == keras_history.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert quiet.history == keras_history.history
    for a, b in zip(weights_of(quiet_gan), weights_of(keras_gan)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(backend.name() != "jax", reason="the quiet list is JAX's")
@pytest.mark.parametrize("fit_kwargs, steps", [
    ({"batch_size": 16, "steps_per_epoch": 1}, 1),
    ({"batch_size": 8, "validation_data": IMAGES[:16]}, 5),
])
def test_params_match_keras(fit_kwargs, steps):
    _, quiet = fitted(**fit_kwargs)
    _, keras_history = fitted([BatchCounter()], **fit_kwargs)
    assert quiet.params == keras_history.params == {"verbose": 0, "epochs": 2, "steps": steps}
    assert quiet.history == keras_history.history


@pytest.mark.skipif(backend.name() != "jax", reason="the quiet list is JAX's")
def test_params_match_keras_for_a_dataset():
    tf = pytest.importorskip("tensorflow")
    dataset = tf.data.Dataset.from_tensor_slices(IMAGES).batch(16)
    counter = EpochCounter()
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    history = gan.fit(dataset, epochs=2, verbose=0, callbacks=[counter])
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert counter.epochs == 2


def test_early_stopping_still_stops():
    stop = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(gan, "stop_training", True))
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    history = gan.fit(IMAGES, batch_size=16, epochs=5, verbose=0, callbacks=[stop])
    assert len(history.history["d_loss"]) == 1


def test_a_users_callback_list_is_used_and_left_as_given():
    counter = BatchCounter()
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    callbacks = keras.callbacks.CallbackList([counter], add_history=True, model=gan)
    before = list(callbacks.callbacks)
    history = gan.fit(IMAGES, batch_size=16, epochs=2, verbose=0, callbacks=callbacks)
    assert counter.batches == 6 and len(history.history["d_loss"]) == 2
    assert callbacks.callbacks == before

"""fit()'s callbacks skip per-batch dispatch when nothing listens
(keras_gans.backend.epoch_callbacks), and change nothing else: the same
History, params and weights as Keras's own callback list."""
import keras
import numpy as np
import pytest
from helpers import LATENT
from helpers import compiled_tiny_dcgan
from helpers import noise_images
from helpers import weights_of
from keras.src.callbacks import callback_list

from keras_gans.backend import epoch_callbacks
from keras_gans.backend.epoch_callbacks import EpochCallbacks
from keras_gans.backend.epoch_callbacks import fit_callbacks
from keras_gans.callbacks import SampleGrid
from keras_gans.models import CGAN

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


@pytest.fixture
def dispatched(monkeypatch):
    """Batches whose train / test callbacks Keras's list dispatched."""
    seen = {"train": [], "test": []}
    for kind in seen:
        name = f"_on_{kind}_batch_end"
        original = getattr(callback_list.CallbackList, name)

        def spy(self, batch, logs=None, kind=kind, original=original):
            seen[kind].append(batch)
            return original(self, batch, logs)

        monkeypatch.setattr(callback_list.CallbackList, name, spy)
    return seen


def fitted(callbacks=(), model=None, x=IMAGES, **fit_kwargs):
    keras.utils.set_random_seed(0)
    gan = model() if model else compiled_tiny_dcgan(image_shape=(8, 8, 1))
    fit_kwargs.setdefault("batch_size", 16)
    history = gan.fit(x, epochs=2, verbose=0, callbacks=list(callbacks), **fit_kwargs)
    return gan, history


def assert_same_training(quiet, with_keras_list):
    (quiet_gan, quiet_history), (keras_gan, keras_history) = quiet, with_keras_list
    assert quiet_history.params == keras_history.params
    assert quiet_history.history == keras_history.history
    for a, b in zip(weights_of(quiet_gan), weights_of(keras_gan)):
        np.testing.assert_array_equal(a, b)


def test_batch_hooks_are_dispatched_only_when_a_callback_has_one(monkeypatch):
    calls = []
    monkeypatch.setattr(callback_list.CallbackList, "_on_train_batch_end",
                        lambda self, batch, logs=None: calls.append(batch))
    epoch_only = EpochCallbacks([EpochCounter()])
    with_batches = EpochCallbacks([EpochCounter(), BatchCounter()])
    assert not epoch_only.dispatches_batches and with_batches.dispatches_batches
    for callbacks in (epoch_only, with_batches):
        callbacks.on_train_begin()
        callbacks.on_train_batch_begin(0)
        callbacks.on_train_batch_end(0, {"loss": 1.0})
        callbacks.on_train_end()
    assert calls == [0]  # with_batches only


def test_a_hook_added_at_train_begin_is_dispatched():
    counter = BatchCounter()

    class AddsACounter(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            quiet.callbacks.append(counter)

    quiet = EpochCallbacks([AddsACounter()])
    assert not quiet.dispatches_batches
    quiet.on_train_begin()
    quiet.on_train_batch_end(0, {"loss": 1.0})
    quiet.on_train_end()
    assert counter.batches == 1


class OnlyBatchBegin(keras.callbacks.Callback):
    def on_batch_begin(self, batch, logs=None):
        pass


class OnlyTestBatchEnd(keras.callbacks.Callback):
    def on_test_batch_end(self, batch, logs=None):
        pass


@pytest.mark.parametrize("fit_kwargs", [
    {"verbose": 1},
    {"verbose": "auto"},
    {"verbose": 0, "validation_split": 0.25},
    {"verbose": 0, "callbacks": [BatchCounter()]},
    {"verbose": 0, "callbacks": [OnlyBatchBegin()]},
    {"verbose": 0, "callbacks": [[EpochCounter()], OnlyTestBatchEnd()]},
    {"verbose": 0, "callbacks": keras.callbacks.CallbackList([EpochCounter()])},
])
def test_keras_own_list_is_kept_where_it_matters(fit_kwargs):
    assert fit_callbacks(None, IMAGES, None, 16, 1, fit_kwargs) is fit_kwargs


def test_keras_debug_caps_keep_keras_list(monkeypatch):
    monkeypatch.setattr(epoch_callbacks.keras_config, "max_epochs", lambda: 1)
    kwargs = {"verbose": 0}
    assert fit_callbacks(None, IMAGES, None, 16, 3, kwargs) is kwargs


def test_a_generator_input_keeps_keras_list():
    # Counting a generator's batches would consume it.
    def batches():
        yield IMAGES[:16]

    kwargs = {"verbose": 0}
    assert fit_callbacks(None, batches(), None, None, 1, kwargs) is kwargs


def test_a_sample_grid_without_batch_grids_has_no_batch_hook(tmp_path):
    assert not EpochCallbacks([SampleGrid(str(tmp_path))]).dispatches_batches
    assert EpochCallbacks([SampleGrid(str(tmp_path), every_n_batches=2)]).dispatches_batches


def test_fit_dispatches_no_batch_and_trains_the_same(dispatched):
    counter = EpochCounter()
    quiet = fitted([counter], validation_data=IMAGES[:16])
    assert dispatched == {"train": [], "test": []} and counter.epochs == 2
    # A batch hook brings back Keras's own list, which dispatches every batch.
    with_keras_list = fitted([BatchCounter()], validation_data=IMAGES[:16])
    assert len(dispatched["train"]) == 6 and len(dispatched["test"]) == 2
    assert quiet[1].params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert_same_training(quiet, with_keras_list)


@pytest.mark.parametrize("fit_kwargs", [
    {"batch_size": 16, "steps_per_epoch": 1},
    {"batch_size": 8},
])
def test_params_match_keras(dispatched, fit_kwargs):
    quiet = fitted(**fit_kwargs)
    assert dispatched["train"] == []
    assert_same_training(quiet, fitted([BatchCounter()], **fit_kwargs))


def test_verbose_false_is_kept_in_params(dispatched):
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    history = gan.fit(IMAGES, batch_size=16, verbose=False)
    assert dispatched["train"] == [] and history.params["verbose"] is False


def test_params_match_keras_for_a_dataset(dispatched):
    tf = pytest.importorskip("tensorflow")
    dataset = tf.data.Dataset.from_tensor_slices(IMAGES).batch(16)
    quiet = fitted(x=dataset, batch_size=None)
    assert dispatched["train"] == []
    with_keras_list = fitted([BatchCounter()], x=dataset, batch_size=None)
    assert quiet[1].params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert_same_training(quiet, with_keras_list)


def test_conditional_pairs_train_the_same(dispatched):
    labels = np.arange(len(IMAGES)) % 3

    def cgan():
        gan = CGAN(num_classes=3, image_shape=(8, 8, 1), latent_dim=LATENT, base_filters=4, seed=0)
        gan.compile()
        return gan

    quiet = fitted(model=cgan, x=(IMAGES, labels))
    assert dispatched["train"] == []
    assert_same_training(quiet, fitted([BatchCounter()], model=cgan, x=(IMAGES, labels)))


class EvalBatchCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches, self.params_seen = 0, None

    def on_test_batch_end(self, batch, logs=None):
        self.batches += 1
        self.params_seen = dict(self.params)


def test_evaluate_dispatches_no_batch_and_reports_the_same(dispatched):
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    counter = EpochCounter()
    quiet = gan.evaluate(IMAGES, batch_size=16, verbose=0, return_dict=True, callbacks=[counter])
    assert dispatched["test"] == []
    # A test-batch hook brings back Keras's own list.
    listener = EvalBatchCounter()
    with_keras_list = gan.evaluate(IMAGES, batch_size=16, verbose=0, return_dict=True,
                                   callbacks=[listener])
    assert len(dispatched["test"]) == 3 and listener.batches == 3
    assert quiet == with_keras_list
    assert listener.params_seen == {"verbose": 0, "epochs": 1, "steps": 3}
    kwargs = {"verbose": 0, "callbacks": [counter]}
    quiet_list = epoch_callbacks.evaluate_callbacks(gan, IMAGES, None, 16, kwargs)["callbacks"]
    assert quiet_list.params == listener.params_seen and quiet_list._history is None


def test_evaluate_keeps_keras_list_with_a_progress_bar():
    kwargs = {"verbose": 1}
    assert epoch_callbacks.evaluate_callbacks(None, IMAGES, None, 16, kwargs) is kwargs


def test_nested_and_single_callbacks_are_read_as_keras_reads_them(dispatched):
    inner, outer, single = EpochCounter(), EpochCounter(), EpochCounter()
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    gan.fit(IMAGES, batch_size=16, epochs=2, verbose=0, callbacks=[[inner], outer])
    gan.fit(IMAGES, batch_size=16, epochs=1, verbose=0, callbacks=single)
    assert (inner.epochs, outer.epochs, single.epochs) == (2, 2, 1)
    assert dispatched["train"] == []  # the quiet path, on every backend


def test_a_users_callback_list_is_used_and_left_as_given():
    counter = BatchCounter()
    gan = compiled_tiny_dcgan(image_shape=(8, 8, 1))
    callbacks = keras.callbacks.CallbackList([counter], add_history=True, model=gan)
    before = list(callbacks.callbacks)
    history = gan.fit(IMAGES, batch_size=16, epochs=2, verbose=0, callbacks=callbacks)
    assert counter.batches == 6 and len(history.history["d_loss"]) == 2
    assert callbacks.callbacks == before
    # Also when fit() fails inside Keras's loop (images of the wrong size).
    with pytest.raises(Exception):
        gan.fit(noise_images(16, shape=(9, 9, 1)), batch_size=16, verbose=0, callbacks=callbacks)
    assert callbacks.callbacks == before

"""TensorFlow's flat train function (`backend.train_function`) trains
exactly as Keras's own, ends an epoch of unknown length the same way, and
gives way to Keras's function where that one is needed (a tf.distribute
strategy, several steps per execution, XLA, eager execution)."""
import keras
import numpy as np
import pytest
from helpers import noise_images

from keras_gans import backend
from keras_gans.models import WGANGP

if keras.backend.backend() != "tensorflow":
    pytest.skip("only TensorFlow has its own train function", allow_module_level=True)

import tensorflow as tf  # noqa: E402
from keras.src.backend.tensorflow.trainer import TensorFlowTrainer  # noqa: E402


FLAT = "train_function.<locals>.function"
KERAS = "TensorFlowTrainer._make_function.<locals>.function"


def make_gan(**compile_options):
    keras.utils.set_random_seed(0)
    gan = WGANGP(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=0, n_critic=2)
    gan.compile(**compile_options)
    return gan


def train(data, keras_function, **fit_options):
    gan = make_gan()
    initial = gan.get_weights()
    if keras_function:  # fit() keeps a train function it finds
        gan.train_function = TensorFlowTrainer._make_function(gan, gan.train_step)
    history = gan.fit(data, epochs=2, verbose=0, **fit_options)
    return gan, initial, history.history


def test_flat_function_trains_as_keras_function():
    images = noise_images(40, (8, 8, 1))
    ours, initial, ours_logs = train(images, False, batch_size=10, shuffle=False)
    theirs, _, their_logs = train(images, True, batch_size=10, shuffle=False)
    assert ours.train_function.__qualname__ == FLAT
    assert theirs.train_function.__qualname__ == KERAS
    # fit() fed the iterator to the flat function (its other path is eager).
    assert ours.train_function.step_on_iterator.experimental_get_tracing_count() >= 1
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 8
    assert ours_logs == their_logs and len(ours_logs["d_loss"]) == 2
    moved = max(np.abs(a - b).max() for a, b in zip(initial, ours.get_weights()))
    assert moved > 1e-3
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unknown_length_trains_as_its_batches():
    # A filter hides the length: the iterator's end ends each epoch. The
    # failed call must run nothing of the step (Keras's function still
    # counts a step and advances the seeds there), so training equals the
    # same batches given as arrays.
    images = noise_images(40, (8, 8, 1))
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(10).filter(
        lambda batch: tf.reduce_all(tf.math.is_finite(batch)))
    assert dataset.cardinality() == tf.data.UNKNOWN_CARDINALITY
    ours, _, ours_logs = train(dataset, False)
    arrays, _, array_logs = train(images, False, batch_size=10, shuffle=False)
    assert int(ours.optimizer.iterations) == 8
    # An unknown batch size traces other kernels: equal up to rounding.
    for name, values in array_logs.items():
        np.testing.assert_allclose(ours_logs[name], values, rtol=1e-5)
    for a, b in zip(ours.get_weights(), arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fit_uses_the_flat_function_on_one_device():
    gan = make_gan()
    gan.fit(noise_images(8, (8, 8, 1)), batch_size=4, verbose=0)
    assert gan.train_function.__qualname__ == FLAT


@pytest.mark.parametrize("options", [dict(steps_per_execution=2), dict(jit_compile=True),
                                     dict(run_eagerly=True)])
def test_keras_function_where_needed(options):
    gan = make_gan(**options)
    assert backend.train_function(gan) is None
    history = gan.fit(noise_images(16, (8, 8, 1)), batch_size=4, epochs=1, verbose=0)
    assert gan.train_function.__qualname__ == KERAS
    assert int(gan.optimizer.iterations) == 4 and np.isfinite(history.history["d_loss"][0])


def test_keras_function_under_a_strategy():
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        gan = make_gan()
        assert backend.train_function(gan) is None
    assert backend.train_function(gan) is None  # built under it, fit outside
    gan.fit(noise_images(8, (8, 8, 1)), batch_size=4, verbose=0)
    assert gan.train_function.__qualname__ == KERAS


def test_none_in_the_data_reaches_the_step():
    # Keras's adapters send a generator's None as a tf Optional; the
    # step gets None, as from Keras's function.
    images = noise_images(8, (8, 8, 1))

    def batches():
        for start in range(0, 8, 4):
            yield images[start:start + 4], None

    seen = []
    gan = make_gan()
    step = gan.train_step
    gan.train_step = lambda data: seen.append(data) or step(data)
    gan.fit(batches(), epochs=1, verbose=0)
    assert gan.train_function.__qualname__ == FLAT
    assert seen and all(isinstance(data, tuple) and data[1] is None for data in seen)

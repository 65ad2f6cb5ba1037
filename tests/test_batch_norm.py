"""`keras_gans.layers.BatchNormalization` (the backend's fused training
kernel where it has one: torch) equals `keras.layers.BatchNormalization` in
outputs, in the gradients for its input, gamma and beta, and in the moving
statistics, in training and inference, on every backend."""
import keras
import numpy as np
import pytest

from keras_gans import backend
from keras_gans.layers import BatchNormalization
from keras_gans.layers import SyncBatchNormalization

SHAPES = [(8, 5, 5, 3), (6, 4), (3, 2, 7), (1, 3)]  # (1, 3): one value per channel
MOMENTUM = 0.7


def initial_state(channels):
    rng = np.random.default_rng(1)
    return {name: draw(channels).astype("float32") for name, draw in (
        ("gamma", lambda n: rng.uniform(0.5, 1.5, n)), ("beta", lambda n: rng.normal(size=n)),
        ("moving_mean", lambda n: rng.normal(size=n)),
        ("moving_variance", lambda n: rng.uniform(0.5, 2, n)))}


def built(layer_class, shape):
    layer = layer_class(momentum=MOMENTUM)
    layer.build(shape)
    for name, value in initial_state(shape[-1]).items():
        getattr(layer, name).assign(value)
    return layer


def outputs_and_grads(layer_class, x, weights, training):
    layer = built(layer_class, x.shape)
    inputs = keras.Variable(x)

    def loss():
        y = layer(inputs.value, training=training)
        return keras.ops.sum(keras.ops.multiply(y, weights)), y

    (_, y), grads = backend.value_and_grad(loss, [inputs, layer.gamma, layer.beta])
    return [keras.ops.convert_to_numpy(t) for t in [y, *grads]]


def moving_statistics(layer_class, x):
    layer = built(layer_class, x.shape)
    layer(x, training=True)
    return [keras.ops.convert_to_numpy(v) for v in (layer.moving_mean, layer.moving_variance)]


class _KeepingStatistics(BatchNormalization):
    keeps_statistics = True  # as the core sets it in another set's update


# Kept statistics (the other network set's forward pass): batch statistics
# and their gradients as in training, the moving statistics left alone.
@pytest.mark.parametrize("layer_class", [BatchNormalization, _KeepingStatistics],
                         ids=["updating", "keeping"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_keras_batch_normalization(shape, training, layer_class):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=shape) * 3 + 1).astype("float32")
    weights = rng.normal(size=shape).astype("float32")
    ours = outputs_and_grads(layer_class, x, weights, training)
    reference = outputs_and_grads(keras.layers.BatchNormalization, x, weights, training)
    for name, a, b in zip(["outputs", "input grad", "gamma grad", "beta grad"], ours, reference):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("shape", SHAPES)
def test_moving_statistics_follow_the_batch_moments(shape):
    x = (np.random.default_rng(0).normal(size=shape) * 3 + 1).astype("float32")
    mean, variance = moving_statistics(BatchNormalization, x)
    start = initial_state(shape[-1])
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(
        mean, MOMENTUM * start["moving_mean"] + (1 - MOMENTUM) * x.mean(axes), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(  # Keras's moving variance takes the biased batch variance
        variance, MOMENTUM * start["moving_variance"] + (1 - MOMENTUM) * x.var(axes), rtol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
def test_kept_statistics_stay(shape):
    x = (np.random.default_rng(0).normal(size=shape) * 3 + 1).astype("float32")
    start = initial_state(shape[-1])
    for value, name in zip(moving_statistics(_KeepingStatistics, x),
                           ("moving_mean", "moving_variance")):
        np.testing.assert_array_equal(value, start[name])


def test_keeping_statistics_nests_and_is_per_thread():
    import threading

    from keras_gans.layers.batch_norm import keeping_statistics

    layer = built(BatchNormalization, (4, 3))
    with keeping_statistics([layer]):
        with keeping_statistics([layer]):
            assert layer.keeps_statistics
        assert layer.keeps_statistics  # the inner exit leaves the outer on
        seen = []
        thread = threading.Thread(target=lambda: seen.append(layer.keeps_statistics))
        thread.start()
        thread.join()
        assert seen == [False]  # another replica's thread is not affected
    assert not layer.keeps_statistics


def test_sync_variant_and_config_round_trip():
    assert isinstance(SyncBatchNormalization(name="bn"), BatchNormalization)
    x = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype("float32")
    model = keras.Sequential([keras.Input((3, 3, 2)), BatchNormalization(momentum=0.9, name="bn")])
    model(x, training=True)
    restored = keras.Sequential.from_config(model.get_config())
    restored.set_weights(model.get_weights())
    assert isinstance(restored.layers[0], BatchNormalization)
    assert restored.layers[0].momentum == 0.9
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(x)),
                               keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_fused_kernel_where_the_backend_has_one():
    layer = built(BatchNormalization, (4, 2, 2, 3))
    moving = (layer.moving_mean, layer.moving_variance, MOMENTUM)
    x = keras.ops.convert_to_tensor(np.ones((4, 2, 2, 3), "float32"))
    fused = backend.batch_norm_training(x, None, None, 1e-3, *moving)
    assert (fused is not None) == (keras.backend.backend() == "torch")
    one_value = keras.ops.convert_to_tensor(np.ones((1, 3), "float32"))
    assert backend.batch_norm_training(one_value, None, None, 1e-3, *moving) is None

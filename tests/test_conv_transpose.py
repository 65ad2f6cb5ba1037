"""`backend.conv_transpose` (behind `keras_gans.layers.Conv2DTranspose`)
equals `keras.ops.conv_transpose` in value and in both gradients, on every
backend (JAX: a strided-convolution kernel gradient; torch: only the kept
window computed)."""
import keras
import numpy as np
import pytest

from keras_gans import backend
from keras_gans.layers import Conv2DTranspose

CASES = [  # input shape, kernel shape, strides, padding, output_padding, dilation
    ((2, 7, 7, 16), (4, 4, 8, 16), 2, "same", None, 1),   # DCGAN's layers
    ((2, 5, 5, 4), (3, 3, 6, 4), 2, "same", None, 1),     # asymmetric crop
    ((2, 5, 6, 4), (3, 3, 6, 4), 2, "valid", None, 1),
    ((2, 5, 6, 4), (5, 5, 6, 4), 1, "same", None, 1),
    ((2, 4, 4, 4), (3, 3, 2, 4), 2, "same", 1, 1),
    ((2, 4, 4, 4), (3, 3, 2, 4), 1, "same", None, 2),
    ((2, 4, 4, 4), (4, 4, 2, 4), 3, "same", None, 1),
]


def value_and_grads(conv, x, kernel, weights):
    def loss(values):
        return keras.ops.sum(conv(values[0], values[1]) * weights)

    value, grads = backend.differentiable_grad(loss, [x, kernel])
    return [keras.ops.convert_to_numpy(t) for t in [value, *grads]]


@pytest.mark.parametrize("x_shape, k_shape, strides, padding, output_padding, dilation", CASES)
def test_matches_keras_in_value_and_gradients(x_shape, k_shape, strides, padding,
                                              output_padding, dilation):
    if dilation > 1 and keras.backend.backend() == "tensorflow":
        pytest.skip("TensorFlow's CPU kernels have no dilated transposed convolution "
                    "(keras.ops.conv_transpose fails the same way)")
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.normal(size=x_shape).astype("float32"))
    kernel = keras.ops.convert_to_tensor(rng.normal(size=k_shape).astype("float32"))
    options = dict(strides=strides, padding=padding, output_padding=output_padding,
                   dilation_rate=dilation)
    reference = keras.ops.conv_transpose(x, kernel, **options)
    ours = backend.conv_transpose(x, kernel, **options)
    assert tuple(ours.shape) == tuple(reference.shape)
    weights = keras.ops.convert_to_tensor(
        rng.normal(size=tuple(reference.shape)).astype("float32"))
    expected = value_and_grads(lambda a, b: keras.ops.conv_transpose(a, b, **options),
                               x, kernel, weights)
    got = value_and_grads(lambda a, b: backend.conv_transpose(a, b, **options),
                          x, kernel, weights)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours),
                               keras.ops.convert_to_numpy(reference), rtol=1e-5, atol=1e-4)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_layer_weights_load_into_keras_layer():
    x = np.random.default_rng(1).normal(size=(2, 7, 7, 16)).astype("float32")
    ours = Conv2DTranspose(8, 4, strides=2, padding="same")
    theirs = keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same")
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)),
                               keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)

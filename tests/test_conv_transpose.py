"""`backend.conv_transpose` (behind `keras_gans.layers.Conv2DTranspose`)
equals `keras.ops.conv_transpose` in value and in both gradients, on every
backend (JAX: a strided-convolution kernel gradient; torch: only the kept
window computed); `backend.conv` (behind `keras_gans.layers.Conv2D`) equals
`keras.ops.conv` up to the second derivatives a gradient penalty takes."""
import keras
import numpy as np
import pytest

from keras_gans import backend
from keras_gans.layers import Conv2D
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


def assert_weights_load_into(theirs, ours, x):
    """`ours`'s weights set on Keras's layer `theirs` give `ours`'s outputs."""
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)),
                               keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


def test_layer_weights_load_into_keras_layer():
    x = np.random.default_rng(1).normal(size=(2, 7, 7, 16)).astype("float32")
    assert_weights_load_into(keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same"),
                             Conv2DTranspose(8, 4, strides=2, padding="same"), x)


# `backend.conv` (behind `keras_gans.layers.Conv2D`): the same values and
# first derivatives as `keras.ops.conv`, and the same second derivatives of
# an input-gradient penalty (JAX routes them through strided convolutions).
CONV_CASES = [  # input shape, kernel shape, strides, padding, dilation
    ((2, 28, 28, 1), (4, 4, 1, 8), 2, "same", 1),     # DCGAN discriminator's layers
    ((2, 14, 14, 8), (4, 4, 8, 16), 2, "same", 1),
    ((2, 7, 9, 4), (3, 3, 4, 6), 2, "same", 1),       # odd sizes: asymmetric padding
    ((2, 7, 9, 4), (3, 3, 4, 6), 2, "valid", 1),
    ((2, 8, 8, 4), (3, 3, 4, 6), (2, 1), "same", 1),
    ((2, 8, 8, 4), (3, 3, 4, 6), 1, "same", 2),       # stride 1: keras.ops.conv itself
]


def penalty_and_grads(conv, x, kernel, weights):
    """An R1-like penalty, sum(d<conv(x, k), w>/dx ^ 2), and its gradients
    with respect to the kernel and the input."""
    def penalty(values):
        _, grad = backend.input_gradient(
            lambda x_: keras.ops.sum(conv(x_, values[1]) * weights, axis=(1, 2, 3)), values[0])
        return keras.ops.sum(grad * grad)

    value, grads = backend.differentiable_grad(penalty, [x, kernel])
    return [keras.ops.convert_to_numpy(t) for t in [value, *grads]]


@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", CONV_CASES)
def test_conv_matches_keras_to_second_order(x_shape, k_shape, strides, padding, dilation):
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.normal(size=x_shape).astype("float32"))
    kernel = keras.ops.convert_to_tensor(rng.normal(size=k_shape).astype("float32"))
    options = dict(strides=strides, padding=padding, dilation_rate=dilation)
    reference = keras.ops.conv(x, kernel, **options)
    weights = keras.ops.convert_to_tensor(
        rng.normal(size=tuple(reference.shape)).astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(backend.conv(x, kernel, **options)),
                               keras.ops.convert_to_numpy(reference), rtol=1e-5, atol=1e-4)
    for helper in (value_and_grads, penalty_and_grads):
        expected = helper(lambda a, b: keras.ops.conv(a, b, **options), x, kernel, weights)
        got = helper(lambda a, b: backend.conv(a, b, **options), x, kernel, weights)
        for a, b in zip(got, expected):
            scale = max(float(np.max(np.abs(b))), 1.0)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale)


def test_conv_layer_weights_load_into_keras_layer_and_save(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    ours = Conv2D(8, 4, strides=2, padding="same")
    assert_weights_load_into(keras.layers.Conv2D(8, 4, strides=2, padding="same"), ours, x)
    model = keras.Sequential([keras.Input((8, 8, 3)), ours])
    path = str(tmp_path / "conv.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is Conv2D
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)),
                               keras.ops.convert_to_numpy(ours(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="XLA's lowering, JAX only")
def test_penalty_kernel_gradient_has_no_lhs_dilated_kernel_convolution():
    """The slow XLA CPU op a gradient penalty meets: the kernel gradient of
    an lhs-dilated (transposed) convolution, a convolution with lhs dilation
    whose result has the kernel's shape. `backend.conv` must avoid it."""
    import jax

    x = np.zeros((2, 14, 14, 8), "float32")
    kernel = np.zeros((4, 4, 8, 16), "float32")
    weights = np.ones((2, 7, 7, 16), "float32")

    def kernel_convs_with_lhs_dilation(conv):
        def penalty(k):
            _, grad = backend.input_gradient(
                lambda x_: keras.ops.sum(conv(x_, k) * weights, axis=(1, 2, 3)), x)
            return keras.ops.sum(grad * grad)

        text = jax.jit(jax.grad(penalty)).lower(kernel).as_text()
        return [line for line in text.splitlines()
                if "convolution" in line and "lhs_dilate = [2, 2]" in line
                and line.rstrip().endswith("-> tensor<4x4x8x16xf32>")]

    options = dict(strides=2, padding="same")
    assert kernel_convs_with_lhs_dilation(lambda a, b: keras.ops.conv(a, b, **options))
    assert kernel_convs_with_lhs_dilation(lambda a, b: backend.conv(a, b, **options)) == []

"""Spectrally normalized Dense and Conv2D layers (Miyato et al. 2018).

The kernel `W` is kept as it is trained and divided by an estimate of its
largest singular value on every call, `W / sigma(W)`, with `sigma` from one
power iteration per training call on a persistent vector `u`. Gradients flow
through `W / sigma` (with `u`, `v` held constant, as in the paper).

Why not `keras.layers.SpectralNormalization`: in Keras 3.15 it writes the
normalized kernel back into the trainable variable inside the forward pass,
so the optimizer then updates `W / sigma`, and on JAX that write is dropped
inside a gradient trace: the three backends would train different models.
"""
import keras
from keras import ops
from keras_gans.utils.checks import at_least


def _l2_normalize(x):
    return x / ops.sqrt(ops.sum(ops.square(x)) + 1e-12)


class _SpectralNorm:
    """Mixin: `normalized_kernel(training)` for a layer with `self.kernel`."""

    def _build_u(self):
        self.vector_u = self.add_weight(
            shape=(1, self.kernel.shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            name="vector_u",
            # Kept float32 inside a mixed-precision call: Keras's torch
            # backend drops writes to an autocast variable there, and a
            # float16 u would round each power iteration.
            autocast=False,
        )

    def spectral_norm(self, training=False):
        """`(sigma, u)`: the estimated largest singular value and the
        updated power-iteration vector."""
        kernel = ops.cast(self.kernel, "float32")
        matrix = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = ops.cast(self.vector_u, "float32")
        for _ in range(self.power_iterations if training else 0):
            v = _l2_normalize(ops.matmul(u, ops.transpose(matrix)))
            u = _l2_normalize(ops.matmul(v, matrix))
        u = ops.stop_gradient(_l2_normalize(u))
        v = ops.stop_gradient(_l2_normalize(ops.matmul(u, ops.transpose(matrix))))
        sigma = ops.sum(ops.matmul(v, matrix) * u)
        return sigma, u

    def normalized_kernel(self, training=False):
        sigma, u = self.spectral_norm(training)
        if training:
            self.vector_u.assign(ops.cast(u, self.vector_u.dtype))
        return self.kernel / ops.cast(sigma, self.kernel.dtype)

    # Dense and Conv2D save only their kernel and bias (quantization-aware
    # code); the plain Layer methods save every variable, `vector_u` too.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)

    def _finish(self, outputs):
        if self.use_bias:
            shape = (1,) * (len(outputs.shape) - 1) + (-1,)
            outputs = ops.add(outputs, ops.reshape(self.bias, shape))
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="keras_gans")
class SpectralDense(_SpectralNorm, keras.layers.Dense):
    """`keras.layers.Dense` with a spectrally normalized kernel.

    Args:
        power_iterations: power-iteration steps per training call.
        **kwargs: those of `keras.layers.Dense`.

    Example:

    >>> import numpy as np
    >>> layer = SpectralDense(4)
    >>> x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    >>> for _ in range(30):
    ...     _ = layer(x, training=True)
    >>> w = keras.ops.convert_to_numpy(layer.normalized_kernel())
    >>> round(float(np.linalg.svd(w, compute_uv=False)[0]), 3)
    1.0
    """

    def __init__(self, units, power_iterations=1, **kwargs):
        super().__init__(units, **kwargs)
        self.power_iterations = at_least(power_iterations, 1, "power_iterations")

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs, training=False):
        kernel = self.normalized_kernel(training)
        return self._finish(ops.matmul(inputs, ops.cast(kernel, inputs.dtype)))

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


@keras.saving.register_keras_serializable(package="keras_gans")
class SpectralConv2D(_SpectralNorm, keras.layers.Conv2D):
    """`keras.layers.Conv2D` with a spectrally normalized kernel (the kernel
    reshaped to `(kh * kw * in, out)`, as in the paper).

    Example:

    >>> import numpy as np
    >>> layer = SpectralConv2D(8, 3, strides=2, padding="same")
    >>> tuple(layer(np.zeros((2, 16, 16, 3), "float32"), training=True).shape)
    (2, 8, 8, 8)
    """

    def __init__(self, filters, kernel_size, power_iterations=1, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        if self.data_format != "channels_last":
            raise ValueError("SpectralConv2D supports channels_last data only.")
        self.power_iterations = at_least(power_iterations, 1, "power_iterations")

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs, training=False):
        kernel = ops.cast(self.normalized_kernel(training), inputs.dtype)
        return self._finish(self.convolution_op(inputs, kernel))

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}

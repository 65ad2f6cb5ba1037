"""A Conv2DTranspose with a fast kernel gradient on JAX."""
import keras
from keras import ops

from keras_gans import backend


@keras.saving.register_keras_serializable(package="keras_gans")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with the same math and weights, faster
    to train on JAX.

    XLA on CPU computes the kernel gradient of a strided transposed
    convolution ~25x slower than its forward pass; this layer routes the
    kernel gradient through a strided convolution instead (see
    `keras_gans.backend.conv_transpose`). Other backends use
    `keras.ops.conv_transpose` unchanged. The variables and config are those
    of the Keras layer, so weights move freely between the two.

    Example:

    >>> import numpy as np
    >>> layer = Conv2DTranspose(8, 4, strides=2, padding="same")
    >>> tuple(layer(np.zeros((2, 7, 7, 16), "float32")).shape)
    (2, 14, 14, 8)
    """

    def call(self, inputs):
        outputs = backend.conv_transpose(
            inputs,
            self.kernel.value,
            strides=list(self.strides),
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        if self.use_bias:
            if self.data_format == "channels_last":
                shape = (1, 1, 1, self.filters)
            else:
                shape = (1, self.filters, 1, 1)
            outputs = ops.add(outputs, ops.reshape(self.bias, shape))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

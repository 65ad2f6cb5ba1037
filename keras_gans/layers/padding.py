"""Reflection padding, used by CycleGAN's ResNet generator."""
import keras
from keras import ops
from keras_gans.utils.checks import at_least


@keras.saving.register_keras_serializable(package="keras_gans")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring the image (channels-last).

    Keras has zero padding only; the CycleGAN generator pads with
    reflections so that its 7x7 and 3x3 convolutions see no dark border.

    Args:
        padding: pixels added on each side of both spatial axes.

    Example:

    >>> import numpy as np
    >>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    >>> y = ReflectionPadding2D(1)(x)
    >>> tuple(y.shape), float(y[0, 0, 0, 0]), float(y[0, 1, 1, 0])
    ((1, 5, 5, 1), 4.0, 0.0)
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = at_least(padding, 0, "padding")

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        grow = lambda d: None if d is None else d + 2 * self.padding  # noqa: E731
        return (input_shape[0], grow(input_shape[1]), grow(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}

"""An image output that adds a learned residual to the input image."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gans")
class TanhResidual(keras.layers.Layer):
    """`tanh(atanh(shrink * image) + residual)`: a translator's output as an
    edit of its input, in tanh's pre-activation space.

    With a zero residual the output is the input (times `shrink`, which
    keeps saturated pixels of value +-1 inside tanh's range), so a
    translator built on it starts at the identity and learns what to
    change; the output stays in [-1, 1] and every pixel keeps a gradient.
    Images outside [-1, 1] are clipped into it first (`atanh` of them
    would be NaN).

    Args:
        shrink: factor on the input image before `atanh` (< 1).

    Example:

    >>> import numpy as np
    >>> image = np.array([[-1.0, 0.0, 0.5, 1.0]], "float32")
    >>> out = TanhResidual()([image, np.zeros_like(image)])
    >>> [round(float(v), 3) for v in keras.ops.convert_to_numpy(out)[0]]
    [-0.99, 0.0, 0.495, 0.99]
    """

    def __init__(self, shrink=0.99, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < shrink < 1.0:
            raise ValueError(f"shrink must be in (0, 1), got {shrink}.")
        self.shrink = float(shrink)

    def call(self, inputs):
        image, residual = inputs
        image = ops.clip(ops.cast(image, residual.dtype), -1.0, 1.0)
        return ops.tanh(ops.arctanh(self.shrink * image) + residual)

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]

    def get_config(self):
        return {**super().get_config(), "shrink": self.shrink}

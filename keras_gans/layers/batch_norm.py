"""BatchNormalization with a fused training kernel, and its global-batch
variant for data-parallel training."""
import keras
from keras import ops

from keras_gans import backend
from keras_gans.utils.marks import ThreadMarks

# The layers keeping their statistics, per thread, nesting.
_KEEPING = ThreadMarks()


def keeping_statistics(layers):
    """A context inside which the keras-gans `BatchNormalization` layers in
    `layers` normalize with batch statistics in training mode without
    moving their moving statistics: the training core uses it while a
    network runs forward in another network set's update. `renorm` layers
    are not covered (they always update).

    >>> import numpy as np
    >>> layer = BatchNormalization(momentum=0.5)
    >>> x = np.arange(8, dtype="float32").reshape(4, 2)
    >>> layer.build(x.shape)
    >>> with keeping_statistics([layer]):
    ...     y = layer(x, training=True)
    >>> [float(v) for v in layer.moving_mean.numpy()]
    [0.0, 0.0]
    """
    return _KEEPING.on(layers)


@keras.saving.register_keras_serializable(package="keras_gans")
class BatchNormalization(keras.layers.BatchNormalization):
    """Keras's `BatchNormalization`, with the backend's fused kernel in training.

    Same arguments, variables and numbers as `keras.layers.BatchNormalization`
    (within float rounding). In training mode over the last axis, without a
    mask or renormalization, the batch statistics and the normalization come
    from `backend.batch_norm_training` where the backend has one (torch:
    one fused kernel instead of Keras's chain of element-wise ops, about 2x
    faster forward and backward); everything else is Keras's code.

    >>> import numpy as np
    >>> layer = BatchNormalization(momentum=0.5)
    >>> x = np.arange(8, dtype="float32").reshape(4, 2)
    >>> y = layer(x, training=True)
    >>> [round(float(v), 3) for v in layer.moving_mean.numpy()]
    [1.5, 2.0]
    """

    @property
    def keeps_statistics(self):
        """Whether the layer is inside `keeping_statistics` in this thread:
        training-mode outputs (batch statistics) without moving the moving
        statistics, instead of moving them and restoring them afterwards."""
        return self in _KEEPING

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        keep = self.keeps_statistics
        fused = (self.axis in (-1, len(inputs.shape) - 1) and mask is None
                 and not self.synchronized)
        if not (fused or keep):
            return super().call(inputs, training=training, mask=mask)
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(  # Keras's check, which its `call` makes first
                "The mask provided should be one dimension less than the inputs. "
                f"Received: mask.shape={mask.shape}, inputs.shape={inputs.shape}"
            )
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = ops.cast(inputs, compute_dtype)
        gamma = ops.cast(self.gamma, compute_dtype) if self.scale else None
        beta = ops.cast(self.beta, compute_dtype) if self.center else None
        outputs = None
        if fused:
            moving = (None, None) if keep else (self.moving_mean, self.moving_variance)
            outputs = backend.batch_norm_training(x, gamma, beta, self.epsilon, *moving,
                                                  self.momentum)
        if outputs is None:
            if not keep:
                return super().call(inputs, training=training, mask=mask)
            mean, variance = self._moments(x, mask)
            outputs = ops.batch_normalization(x, mean, variance, axis=self.axis, offset=beta,
                                              scale=gamma, epsilon=self.epsilon)
        return ops.cast(outputs, self.compute_dtype)


@keras.saving.register_keras_serializable(package="keras_gans")
class SyncBatchNormalization(BatchNormalization):
    """`BatchNormalization` whose statistics cover the global batch.

    Under `tf.distribute.MirroredStrategy` each replica normalizes its own
    shard unless the statistics are all-reduced (Keras's
    `synchronized=True`, which this layer sets on TensorFlow); a run on two
    replicas then matches one device at the same global batch. JAX's
    `keras.distribution.DataParallel` shards one jit program, so its batch
    statistics are global already. Keras refuses `synchronized=True` on
    other backends; this layer's saved config loads on every backend.
    Takes `BatchNormalization`'s arguments.

    >>> layer = SyncBatchNormalization(name="bn")
    >>> "synchronized" in layer.get_config()
    False
    """

    def __init__(self, **kwargs):
        kwargs.pop("synchronized", None)
        super().__init__(synchronized=backend.SYNCHRONIZES_BATCH_NORM, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("synchronized", None)
        return config

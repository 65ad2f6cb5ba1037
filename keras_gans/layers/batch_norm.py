"""BatchNormalization with a fused training kernel, and its global-batch
variant for data-parallel training."""
import keras
from keras import ops

from keras_gans import backend


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

    # Set by the training core while the layer's network runs forward in
    # another network set's update: training-mode outputs (batch
    # statistics) without moving the moving statistics, instead of moving
    # them and restoring them afterwards.
    keeps_statistics = False

    def call(self, inputs, training=None, mask=None):
        if training and self.trainable and self.keeps_statistics and not self.renorm:
            return self._normalize_with_batch_statistics(inputs, mask)
        last_axis = self.axis in (-1, len(inputs.shape) - 1)
        if not (training and self.trainable and last_axis) or (
                mask is not None or self.renorm or self.synchronized):
            return super().call(inputs, training=training, mask=mask)
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = ops.cast(inputs, compute_dtype)
        gamma = ops.cast(self.gamma, compute_dtype) if self.scale else None
        beta = ops.cast(self.beta, compute_dtype) if self.center else None
        outputs = backend.batch_norm_training(x, gamma, beta, self.epsilon, self.moving_mean,
                                              self.moving_variance, self.momentum)
        if outputs is None:
            return super().call(inputs, training=training, mask=mask)
        return ops.cast(outputs, self.compute_dtype)

    def _normalize_with_batch_statistics(self, inputs, mask):
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = ops.cast(inputs, compute_dtype)
        gamma = ops.cast(self.gamma, compute_dtype) if self.scale else None
        beta = ops.cast(self.beta, compute_dtype) if self.center else None
        last_axis = self.axis in (-1, len(inputs.shape) - 1)
        outputs = None
        if last_axis and mask is None and not self.synchronized:
            outputs = backend.batch_norm_training(x, gamma, beta, self.epsilon, None, None,
                                                  self.momentum)
        if outputs is None:
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

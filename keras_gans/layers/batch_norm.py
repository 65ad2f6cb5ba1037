"""BatchNormalization over the global batch of data-parallel training."""
import keras

from keras_gans import backend


@keras.saving.register_keras_serializable(package="keras_gans")
class SyncBatchNormalization(keras.layers.BatchNormalization):
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

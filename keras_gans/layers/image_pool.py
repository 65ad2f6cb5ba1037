"""A pool of past generated images for the discriminator (CycleGAN)."""
import keras
from keras import ops

from keras_gans import backend
from keras_gans.utils.checks import at_least


@keras.saving.register_keras_serializable(package="keras_gans")
class ImagePool(keras.layers.Layer):
    """Shows the discriminator a mix of new and earlier fakes.

    Shrivastava et al. 2017 (SimGAN) and CycleGAN (Zhu et al. 2017) update
    the discriminator on a history of generated images, which damps
    oscillation. The pool holds `pool_size` images as a non-trainable
    variable (saved with the weights, carried through `fit()` on every
    backend). Until it is full, each fake is stored and passed through.
    Afterwards each fake, with probability 1/2, is swapped for a random
    stored image, which it replaces in the pool; otherwise it passes
    through. Swapped rows go to distinct slots, so the result does not
    depend on the order of scattered writes; fakes of the batch that fills
    the pool and find no free slot pass through. Like `Dropout`, the pool
    acts in training only: with `training=False` (the default outside
    `fit()`) the fakes pass through and the pool is left as it is.

    Args:
        pool_size: images kept; 0 disables the pool (fakes pass through).
            Must be at least the batch size.
        seed: seed of the swaps.

    Example:

    >>> import numpy as np
    >>> pool = ImagePool(pool_size=4, seed=0)
    >>> first = np.ones((4, 2, 2, 1), "float32")
    >>> bool(np.all(np.asarray(pool(first, training=True)) == 1.0))   # filling
    True
    >>> out = np.asarray(pool(np.zeros((4, 2, 2, 1), "float32"), training=True))
    >>> sorted(set(out.ravel().tolist())) in ([0.0], [1.0], [0.0, 1.0])
    True
    >>> int(pool.count.numpy()), float(np.asarray(pool(2 * first)).max())  # inference
    (4, 2.0)
    """

    def __init__(self, pool_size=50, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = at_least(pool_size, 0, "pool_size")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        # One spare slot at the end absorbs the writes of rows that keep
        # their fake, so a single scatter serves every row. Not autocast:
        # under mixed precision Keras's torch backend drops writes to an
        # autocast float32 variable inside the layer's call.
        self.images = self.add_weight(
            shape=(self.pool_size + 1,) + tuple(input_shape[1:]),
            initializer="zeros", trainable=False, name="images", autocast=False,
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="count"
        )

    def call(self, fakes, training=None):
        fakes = ops.stop_gradient(ops.convert_to_tensor(fakes, self.images.dtype))
        if self.pool_size == 0 or not training:
            return fakes
        batch = fakes.shape[0]
        if batch is not None and batch > self.pool_size:
            raise ValueError(
                f"ImagePool(pool_size={self.pool_size}) needs batches of at most "
                f"{self.pool_size} images, got {batch}; raise pool_size."
            )
        batch = ops.shape(fakes)[0]
        slot = ops.cast(self.count, "int32") + ops.arange(batch, dtype="int32")
        filling = slot < self.pool_size
        # Swaps start once the pool was full before this batch, so they
        # never read an empty slot or race a slot being filled.
        full = ops.cast(self.count, "int32") >= self.pool_size
        swap = ops.logical_and(
            full, backend.random_uniform((batch,), seed=self.seed_generator) < 0.5
        )
        # Distinct random slots: the first `batch` of a random permutation.
        order = ops.argsort(backend.random_uniform((self.pool_size,), seed=self.seed_generator))
        random_slot = ops.cast(order[:batch], "int32")
        stored = ops.take(self.images, random_slot, axis=0)
        mask = ops.reshape(swap, (-1,) + (1,) * (len(fakes.shape) - 1))
        out = ops.where(mask, stored, fakes)
        target = ops.where(filling, slot, ops.where(swap, random_slot, self.pool_size))
        self.images.assign(
            ops.scatter_update(self.images, ops.expand_dims(target, -1), fakes)
        )
        self.count.assign(ops.minimum(self.count + batch, self.pool_size))
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "seed": self.seed}

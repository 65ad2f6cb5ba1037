"""Layers that let a discriminator look at a whole batch at once, so a
collapsed generator (all samples alike) is easy to tell from real data."""
import keras
from keras import ops
from keras_gans.utils.checks import at_least


@keras.saving.register_keras_serializable(package="keras_gans")
class MinibatchStdDev(keras.layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018, ProGAN).

    Appends one feature map: the standard deviation of each feature over a
    group of images, averaged over features and positions. By default the
    group is the whole batch; with `group_size` (ProGAN uses 4) the batch
    size must be a multiple of it.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(8, 4, 4, 3)).astype("float32")
    >>> y = MinibatchStdDev(group_size=4)(x)
    >>> tuple(y.shape), bool(np.allclose(keras.ops.convert_to_numpy(y)[..., :3], x))
    ((8, 4, 4, 4), True)
    >>> same = np.repeat(x[:1], 8, axis=0)
    >>> out = keras.ops.convert_to_numpy(MinibatchStdDev()(same))
    >>> float(np.abs(out[..., 3]).max()) < 1e-3
    True
    """

    def __init__(self, group_size=None, **kwargs):
        super().__init__(**kwargs)
        self.group_size = None if group_size is None else int(group_size)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        spatial = tuple(x.shape[1:])
        group = self.group_size or ops.shape(x)[0]
        grouped = ops.reshape(x, (group, -1) + spatial)  # (group, batch/group, ...)
        std = ops.sqrt(ops.var(grouped, axis=0) + 1e-8)
        stat = ops.mean(std, axis=tuple(range(1, len(spatial) + 1)))  # (batch/group,)
        stat = ops.reshape(stat, (1, -1) + (1,) * len(spatial))
        stat = ops.reshape(
            ops.broadcast_to(stat, (group, ops.shape(stat)[1]) + spatial[:-1] + (1,)),
            (-1,) + spatial[:-1] + (1,),
        )
        return ops.cast(ops.concatenate([x, stat], axis=-1), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="keras_gans")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, "Improved Techniques").

    Projects each sample's features `f` to `num_kernels` matrices rows
    `M_i` of shape `(kernel_dim,)`, and appends `o_i(x) = sum_j exp(-||M_i(x)
    - M_i(x_j)||_1)` over the other samples of the batch: large when the
    batch is made of near-copies.

    Example:

    >>> import numpy as np
    >>> layer = MinibatchDiscrimination(num_kernels=5, kernel_dim=3)
    >>> tuple(layer(np.zeros((6, 10), "float32")).shape)
    (6, 15)
    """

    def __init__(self, num_kernels=50, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = at_least(num_kernels, 1, "num_kernels")
        self.kernel_dim = at_least(kernel_dim, 1, "kernel_dim")

    def build(self, input_shape):
        self.tensor = self.add_weight(
            shape=(int(input_shape[-1]), self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05),
            name="tensor",
        )

    def call(self, inputs):
        m = ops.reshape(
            ops.matmul(inputs, self.tensor), (-1, self.num_kernels, self.kernel_dim)
        )
        distances = ops.sum(
            ops.abs(ops.expand_dims(m, 0) - ops.expand_dims(m, 1)), axis=-1
        )  # (batch, batch, kernels)
        # Subtract each sample's similarity to itself (exp(0) = 1).
        closeness = ops.sum(ops.exp(-distances), axis=1) - 1.0
        return ops.concatenate([inputs, ops.cast(closeness, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + self.num_kernels,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_kernels": self.num_kernels,
            "kernel_dim": self.kernel_dim,
        }


@keras.saving.register_keras_serializable(package="keras_gans")
class GlobalSumPooling2D(keras.layers.Layer):
    """Sum over the spatial positions of a `(batch, h, w, c)` map (SNGAN's
    critic pools this way, so its logit scales with the image area).

    >>> import numpy as np
    >>> keras.ops.convert_to_numpy(GlobalSumPooling2D()(np.ones((1, 2, 3, 2)))).tolist()
    [[6.0, 6.0]]
    """

    def call(self, inputs):
        return ops.sum(inputs, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

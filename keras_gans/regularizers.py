"""Regularizers and training tricks as small reusable pieces.

>>> import keras, numpy as np
>>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> ema = averaged_copy(net)
>>> [round(float(a), 6) for a in np.ravel(ema.weights[0].numpy())] == [
...     round(float(a), 6) for a in np.ravel(net.weights[0].numpy())]
True
"""
import functools

import keras
from keras import ops

from keras_gans import backend


def averaged_copy(network, name=None):
    """A frozen clone of `network` with the same weights, to hold an EMA.

    Its variables are non-trainable, so no optimizer touches them and
    Keras trainers carry them as model state on every backend.
    """
    copy = keras.models.clone_model(network)
    if name is not None:
        copy.name = name
    if not copy.built:
        copy.build(network.input_shape)
    copy.set_weights(network.get_weights())
    copy.trainable = False
    return copy


def ema_decay_at(decay, step):
    """`min(decay, (1 + step) / (10 + step))`: the average follows the
    weights closely early on, so it does not drag the random initial
    weights along for thousands of steps (as tf.train.ExponentialMovingAverage
    with num_updates).

    >>> round(float(ema_decay_at(0.999, 0)), 4), round(float(ema_decay_at(0.999, 10**6)), 4)
    (0.1, 0.999)
    """
    step = ops.cast(step, "float32")
    return ops.minimum(decay, (1.0 + step) / (10.0 + step))


def ema_update(averaged, source, decay, step=None):
    """`averaged <- d * averaged + (1 - d) * source`, weight by weight.

    `d` is `decay`, or `ema_decay_at(decay, step)` when `step` is given.
    Used for the generator EMA (Karras et al. 2018; Yazici et al. 2019):
    samples from the averaged generator are smoother than from the raw one.
    Covers BatchNorm statistics too.
    """
    if step is not None:
        decay = ema_decay_at(decay, step)
    for avg, value in zip(averaged.weights, source.weights):
        current = ops.cast(value, avg.dtype)
        avg.assign(avg * decay + current * (1.0 - decay))


# ------------------------------------------------------------------ penalties
# Pure functions of a critic `images -> logits`; the classes below add a
# weight, their random draws and serialization. Gradients with respect to
# the images come from the backend seam and are themselves differentiable.


def gradient_norms(critic, images):
    """Per-image L2 norm of d sum(critic(images)) / d images."""
    _, grads = backend.input_gradient(critic, images)
    # float32, plus 1e-12 under the root: differentiable where it is zero.
    return backend.row_norms(grads)


def gradient_penalty(critic, real, fake, alpha, target=1.0, one_sided=False):
    """WGAN-GP's `E[(||grad D(x_hat)|| - target)^2]` (Gulrajani et al. 2017)
    at `x_hat = real + alpha * (fake - real)`; `one_sided` penalizes only
    norms above the target.

    >>> import numpy as np
    >>> w = np.array([3.0, 4.0], "float32")   # a linear critic, ||w|| = 5
    >>> critic = lambda x: keras.ops.sum(keras.ops.multiply(x, w), axis=1, keepdims=True)
    >>> x = np.zeros((4, 2), "float32")
    >>> round(float(gradient_penalty(critic, x, x + 1, np.full((4, 1), 0.5))), 4)
    16.0
    """
    real, fake = ops.convert_to_tensor(real), ops.convert_to_tensor(fake)
    # Under mixed precision real batches come in the compute dtype and fakes
    # often in float32 (the generator's output layer): interpolate in the wider.
    dtype = real.dtype if real.dtype == fake.dtype else keras.backend.result_type(real.dtype, fake.dtype)
    real, fake = ops.cast(real, dtype), ops.cast(fake, dtype)
    mixed = real + ops.cast(alpha, dtype) * (fake - real)
    gap = gradient_norms(critic, mixed) - target
    if one_sided:
        gap = ops.relu(gap)
    return backend.float32_mean(ops.square(gap))


def squared_gradient_norm(critic, images):
    """`E[||grad D(x)||^2]`: R1 at real images, R2 at fakes (Mescheder et
    al. 2018)."""
    return backend.float32_mean(ops.square(gradient_norms(critic, images)))


def clip_weights(network, bound):
    """Clips every trainable weight of `network` into `[-bound, bound]` (WGAN)."""
    for variable in network.trainable_variables:
        variable.assign(ops.clip(variable, -bound, bound))


def _uniform(shape, seed, dtype):
    """U[0, 1) draws; each tf.distribute replica gets its own rows."""
    draw = functools.partial(backend.random_uniform, seed=seed, dtype=dtype)
    return backend.draw_for_replica(draw, tuple(shape))


def _interpolation_weights(images, seed):
    # float32 even under mixed precision: float16 would round the weights.
    images = ops.convert_to_tensor(images)
    shape = (ops.shape(images)[0],) + (1,) * (len(images.shape) - 1)
    return _uniform(shape, seed, "float32")


class Penalty:
    """Base of discriminator regularizers used by `GAN(penalties=[...])`.

    `__call__(critic, real, fake, seed)` returns the weighted term added to
    the discriminator loss (logged under `name`); `after_update(network)`
    runs after each discriminator step (e.g. weight clipping).

    >>> class ZeroMean(Penalty):   # a custom penalty: keep real logits near 0
    ...     name = "zero_mean"
    ...     def __call__(self, critic, real, fake, seed):
    ...         return keras.ops.mean(keras.ops.square(critic(real)))
    >>> import numpy as np
    >>> float(ZeroMean()(lambda x: x, np.full((2, 1), 3.0, "float32"), None, None))
    9.0
    """

    name = "penalty"

    def __call__(self, critic, real, fake, seed):
        return None

    def after_update(self, network):
        pass

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_gans")
class GradientPenalty(Penalty):
    """WGAN-GP: `weight * E[(||grad D(x_hat)|| - target)^2]` on random
    interpolates of real and fake images.

    >>> import numpy as np
    >>> w = np.array([[3.0], [4.0]], "float32")
    >>> critic = lambda x: keras.ops.matmul(x, w)
    >>> gp = GradientPenalty(weight=1.0)
    >>> x = np.zeros((4, 2), "float32")
    >>> round(float(gp(critic, x, x + 1, keras.random.SeedGenerator(0))), 4)
    16.0
    """

    name = "gp"

    def __init__(self, weight=10.0, target=1.0, one_sided=False):
        self.weight, self.target, self.one_sided = weight, target, one_sided

    def __call__(self, critic, real, fake, seed):
        alpha = _interpolation_weights(real, seed)
        penalty = gradient_penalty(
            critic, real, fake, alpha, self.target, self.one_sided
        )
        return self.weight * penalty

    def get_config(self):
        return {"weight": self.weight, "target": self.target, "one_sided": self.one_sided}


@keras.saving.register_keras_serializable(package="keras_gans")
class DRAGANPenalty(GradientPenalty):
    """DRAGAN (Kodali et al. 2017): the gradient penalty around the data,
    at `x + alpha * noise` with `noise ~ U[0, 1) * scale * std(x)`.

    >>> import numpy as np
    >>> w = np.array([[3.0], [4.0]], "float32")   # linear critic: ||grad|| = 5
    >>> x = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    >>> dragan = DRAGANPenalty(weight=1.0)
    >>> round(float(dragan(lambda t: keras.ops.matmul(t, w), x, None,
    ...                    keras.random.SeedGenerator(0))), 4)
    16.0
    """

    name = "dragan"

    def __init__(self, weight=10.0, target=1.0, scale=0.5):
        super().__init__(weight, target)
        self.scale = scale

    def __call__(self, critic, real, fake, seed):
        real = ops.convert_to_tensor(real)
        noise = _uniform(ops.shape(real), seed, real.dtype)
        perturbed = real + self.scale * ops.std(real) * noise
        alpha = _interpolation_weights(real, seed)
        return self.weight * gradient_penalty(critic, real, perturbed, alpha, self.target)

    def get_config(self):
        return {"weight": self.weight, "target": self.target, "scale": self.scale}


@keras.saving.register_keras_serializable(package="keras_gans")
class R1Penalty(Penalty):
    """R1: `gamma / 2 * E[||grad D(real)||^2]` (Mescheder et al. 2018).

    >>> import numpy as np
    >>> w = np.array([[3.0], [4.0]], "float32")
    >>> x = np.zeros((4, 2), "float32")
    >>> float(R1Penalty(gamma=2.0)(lambda t: keras.ops.matmul(t, w), x, x, None))
    25.0
    """

    name = "r1"

    def __init__(self, gamma=10.0):
        self.gamma = gamma

    def _images(self, real, fake):
        return real

    def __call__(self, critic, real, fake, seed):
        return 0.5 * self.gamma * squared_gradient_norm(critic, self._images(real, fake))

    def get_config(self):
        return {"gamma": self.gamma}


@keras.saving.register_keras_serializable(package="keras_gans")
class R2Penalty(R1Penalty):
    """R2: the R1 penalty at generated images.

    >>> import numpy as np
    >>> fake = np.ones((3, 2), "float32")
    >>> critic = lambda t: keras.ops.sum(keras.ops.square(t), axis=1, keepdims=True)
    >>> round(float(R2Penalty(gamma=2.0)(critic, None, fake, None)), 4)  # ||2x||^2 = 8
    8.0
    """

    name = "r2"

    def _images(self, real, fake):
        return fake


@keras.saving.register_keras_serializable(package="keras_gans")
class WeightClipping(Penalty):
    """WGAN's constraint: critic weights clipped into `[-bound, bound]`
    after every critic update (Arjovsky et al. 2017).

    >>> net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> WeightClipping(0.01).after_update(net)
    >>> bool(max(abs(w.numpy()).max() for w in net.trainable_weights) <= 0.01)
    True
    """

    name = "weight_clipping"

    def __init__(self, bound=0.01):
        self.bound = bound

    def after_update(self, network):
        clip_weights(network, self.bound)

    def get_config(self):
        return {"bound": self.bound}


def get_penalties(identifiers):
    """`Penalty` objects from a list of instances or configs, or from one.

    >>> [type(p).__name__ for p in get_penalties(R1Penalty())]
    ['R1Penalty']
    """
    if isinstance(identifiers, (Penalty, dict, str)):
        identifiers = [identifiers]  # one penalty (a string is refused below)
    return [get_penalty(p) for p in identifiers]


def get_penalty(identifier):
    """A `Penalty` from an instance or a serialized config."""
    if isinstance(identifier, Penalty):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    raise TypeError(
        f"Expected a keras_gans.regularizers.Penalty (e.g. GradientPenalty()), "
        f"got {identifier!r}."
    )

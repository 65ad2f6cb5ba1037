"""Adversarial losses as small pure functions of discriminator outputs.

Each loss is a pair of functions: `<name>_d(real_logits, fake_logits)` for the
discriminator and `<name>_g(fake_logits, real_logits=None)` for the
generator, written with `keras.ops` and reduced to a scalar mean. `get(name)`
returns an `AdversarialLoss` holding both, which is what models use.

Example:

>>> import numpy as np
>>> loss = get("non_saturating")
>>> real, fake = np.array([[2.0]]), np.array([[-2.0]])
>>> round(float(loss.discriminator(real, fake)), 4)
0.2539
>>> round(float(loss.generator(fake)), 4)
2.1269
"""
import keras
from keras import ops

from keras_gans import backend


def _mean(x):
    return backend.float32_mean(x)  # ops.mean(ops.cast(x, "float32"))


def _softplus(x):
    return ops.softplus(ops.cast(x, "float32"))


def non_saturating_d(real_logits, fake_logits, label_smoothing=0.0):
    """Binary cross-entropy on logits: real -> 1 (or 1 - smoothing), fake -> 0.

    One-sided label smoothing (Salimans et al. 2016) softens the real target.
    """
    real = _softplus(-real_logits)
    # Eager torch pays for each op, even a product with 0.
    if not isinstance(label_smoothing, (int, float)) or label_smoothing:
        target = 1.0 - label_smoothing
        real = real * target + _softplus(real_logits) * label_smoothing
    return _mean(real) + _mean(_softplus(fake_logits))


def non_saturating_g(fake_logits, real_logits=None):
    """-log D(G(z)) (Goodfellow et al. 2014, the non-saturating heuristic)."""
    return _mean(_softplus(-fake_logits))


def minimax_g(fake_logits, real_logits=None):
    """log(1 - D(G(z))), the original saturating minimax generator loss."""
    return -_mean(_softplus(fake_logits))


def least_squares_d(real_logits, fake_logits, label_smoothing=0.0):
    """LSGAN (Mao et al. 2017), targets b = 1 for real, a = 0 for fake."""
    real = ops.cast(real_logits, "float32")
    fake = ops.cast(fake_logits, "float32")
    target = 1.0 - label_smoothing
    return 0.5 * (_mean(ops.square(real - target)) + _mean(ops.square(fake)))


def least_squares_g(fake_logits, real_logits=None):
    """LSGAN generator loss, target c = 1."""
    return 0.5 * _mean(ops.square(ops.cast(fake_logits, "float32") - 1.0))


def wasserstein_d(real_logits, fake_logits, label_smoothing=0.0):
    """Critic loss E[D(fake)] - E[D(real)] (Arjovsky et al. 2017)."""
    return _mean(fake_logits) - _mean(real_logits)


def wasserstein_g(fake_logits, real_logits=None):
    """Generator loss -E[D(fake)]."""
    return -_mean(fake_logits)


def hinge_d(real_logits, fake_logits, label_smoothing=0.0):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018)."""
    real = ops.cast(real_logits, "float32")
    fake = ops.cast(fake_logits, "float32")
    return _mean(ops.relu(1.0 - real)) + _mean(ops.relu(1.0 + fake))


def hinge_g(fake_logits, real_logits=None):
    """Hinge generator loss -E[D(fake)]."""
    return -_mean(fake_logits)


def _relativistic(logits, others):
    """C(x) - E[C(other)]: how much more real x looks than the other batch."""
    logits = ops.cast(logits, "float32")
    return logits - ops.mean(ops.cast(others, "float32"))


def relativistic_average_d(real_logits, fake_logits, label_smoothing=0.0):
    """RaGAN (Jolicoeur-Martineau 2019): real must look more real than the
    average fake, fake less real than the average real."""
    return non_saturating_d(
        _relativistic(real_logits, fake_logits),
        _relativistic(fake_logits, real_logits),
        label_smoothing,
    )


def relativistic_average_g(fake_logits, real_logits):
    """The discriminator's loss with real and fake swapped."""
    if real_logits is None:
        raise ValueError("The relativistic generator loss needs real_logits.")
    return non_saturating_d(
        _relativistic(fake_logits, real_logits),
        _relativistic(real_logits, fake_logits),
    )


def feature_matching(real_features, fake_features):
    """`||E f(real) - E f(fake)||^2` over a discriminator's intermediate
    features (Salimans et al. 2016), a generator objective.

    >>> import numpy as np
    >>> float(feature_matching(np.ones((4, 3)), np.zeros((2, 3))))
    3.0
    """
    real = ops.mean(ops.cast(real_features, "float32"), axis=0)
    fake = ops.mean(ops.cast(fake_features, "float32"), axis=0)
    return ops.sum(ops.square(real - fake))


# Losses on raw critic values: no target for label smoothing to move.
_NO_TARGET = ("wasserstein", "hinge")


@keras.saving.register_keras_serializable(package="keras_gans")
class AdversarialLoss:
    """A named pair of discriminator and generator losses.

    Args:
        name: one of `names()`.
        label_smoothing: one-sided smoothing of the real target in the
            discriminator loss (0 disables it); only losses with a target
            take it (not `wasserstein` or `hinge`).

    Example:

    >>> import numpy as np
    >>> loss = AdversarialLoss("hinge")
    >>> float(loss.discriminator(np.ones((2, 1)), -np.ones((2, 1))))
    0.0
    """

    def __init__(self, name="non_saturating", label_smoothing=0.0):
        if name not in _LOSSES:
            raise ValueError(
                f"Unknown adversarial loss {name!r}. Known losses: {names()}."
            )
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1), got {label_smoothing}."
            )
        if label_smoothing and name in _NO_TARGET:
            raise ValueError(
                f"The {name} loss has no real target to smooth; label_smoothing applies to "
                f"{', '.join(n for n in names() if n not in _NO_TARGET)}.")
        self.name = name
        self.label_smoothing = label_smoothing
        self._d, self._g = _LOSSES[name]

    @property
    def needs_real_logits(self):
        """Whether the generator loss compares with real images' logits."""
        return self.name in _RELATIVISTIC

    def discriminator(self, real_logits, fake_logits):
        return self._d(real_logits, fake_logits, self.label_smoothing)

    def generator(self, fake_logits, real_logits=None):
        return self._g(fake_logits, real_logits)

    def get_config(self):
        return {"name": self.name, "label_smoothing": self.label_smoothing}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_LOSSES = {
    "non_saturating": (non_saturating_d, non_saturating_g),
    "minimax": (non_saturating_d, minimax_g),
    "least_squares": (least_squares_d, least_squares_g),
    "wasserstein": (wasserstein_d, wasserstein_g),
    "hinge": (hinge_d, hinge_g),
    "relativistic_average": (relativistic_average_d, relativistic_average_g),
}
_RELATIVISTIC = ("relativistic_average",)


def names():
    """Names accepted by `get`."""
    return sorted(_LOSSES)


def get(identifier):
    """An `AdversarialLoss` from a name, a config dict or an instance."""
    if isinstance(identifier, AdversarialLoss):
        return identifier
    if isinstance(identifier, dict):
        return AdversarialLoss.from_config(identifier)
    return AdversarialLoss(identifier)

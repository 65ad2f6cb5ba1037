"""Wasserstein GANs: weight clipping (WGAN) and gradient penalty (WGAN-GP)."""
import keras

from keras_gans import regularizers
from keras_gans.models.dcgan import DCGAN
from keras_gans.utils.checks import non_negative


def _with_own_penalty(kwargs, own, arguments):
    """Sets `kwargs["penalties"]` to the variant's own penalty, then the
    other penalties given. One of the own penalty's type among them must be
    that penalty (as a saved config holds it): the variant's arguments set
    it, so a different one would be silently overridden."""
    given = regularizers.get_penalties(kwargs.get("penalties", ()))
    for penalty in given:
        if type(penalty) is type(own) and penalty.get_config() != own.get_config():
            raise ValueError(
                f"penalties holds {type(own).__name__}({penalty.get_config()}), but this "
                f"variant builds its own from {arguments} ({own.get_config()}); "
                f"set it with {arguments} and leave it out of penalties."
            )
    kwargs["penalties"] = [own] + [p for p in given if type(p) is not type(own)]


@keras.saving.register_keras_serializable(package="keras_gans")
class WGAN(DCGAN):
    """Wasserstein GAN with weight clipping (Arjovsky et al. 2017).

    DCGAN networks; the critic minimizes `E[D(fake)] - E[D(real)]` with its
    weights clipped to `[-clip_value, clip_value]` after each update,
    `n_critic=5` critic updates per generator update and RMSprop(5e-5) on
    both networks unless `compile()` says otherwise. Takes DCGAN's arguments.

    Example:

    >>> import numpy as np
    >>> gan = WGAN(latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (20, 28, 28, 1)).astype("float32")
    >>> _ = gan.fit(images, batch_size=10, epochs=1, verbose=0)
    >>> bool(max(abs(w.numpy()).max() for w in gan.discriminator.trainable_weights) <= 0.01)
    True
    """

    def __init__(self, *args, clip_value=0.01, **kwargs):
        if not float(clip_value) > 0:
            raise ValueError(f"clip_value must be positive; got {clip_value}.")
        kwargs.setdefault("loss", "wasserstein")
        kwargs.setdefault("n_critic", 5)
        _with_own_penalty(kwargs, regularizers.WeightClipping(clip_value), "clip_value")
        super().__init__(*args, **kwargs)
        self.clip_value = clip_value

    def default_optimizer(self, key):
        return keras.optimizers.RMSprop(5e-5)

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="keras_gans")
class WGANGP(DCGAN):
    """WGAN with gradient penalty (Gulrajani et al. 2017).

    DCGAN networks without BatchNorm in the critic (the penalty is per
    image, BatchNorm mixes images), the Wasserstein loss plus
    `gp_weight * E[(||grad D(x_hat)|| - 1)^2]` on random interpolates,
    `n_critic=5`, and Adam(1e-4, beta_1=0.5, beta_2=0.9) unless `compile()`
    says otherwise. `one_sided=True` penalizes only norms above 1.

    Example:

    >>> import numpy as np
    >>> gan = WGANGP(latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (20, 28, 28, 1)).astype("float32")
    >>> sorted(gan.fit(images, batch_size=10, epochs=1, verbose=0).history)
    ['d_loss', 'g_loss', 'gp']
    """

    def __init__(self, *args, gp_weight=10.0, one_sided=False, **kwargs):
        kwargs.setdefault("loss", "wasserstein")
        kwargs.setdefault("n_critic", 5)
        kwargs.setdefault("discriminator_batch_norm", False)
        non_negative(gp_weight, "gp_weight")
        _with_own_penalty(kwargs, regularizers.GradientPenalty(gp_weight, one_sided=one_sided),
                          "gp_weight and one_sided")
        super().__init__(*args, **kwargs)
        self.gp_weight, self.one_sided = gp_weight, one_sided

    def default_optimizer(self, key):
        return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)

    def get_config(self):
        return {**super().get_config(), "gp_weight": self.gp_weight, "one_sided": self.one_sided}

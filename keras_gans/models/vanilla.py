"""The original GAN (Goodfellow et al. 2014) with fully connected networks."""
import keras

from keras_gans.core import GAN
from keras_gans.models.sngan import _networks_or_default
from keras_gans.networks import mlp_discriminator
from keras_gans.networks import mlp_generator


@keras.saving.register_keras_serializable(package="keras_gans")
class VanillaGAN(GAN):
    """The original GAN (Goodfellow et al. 2014): fully connected networks.

    The generator is an MLP with ReLU (and BatchNorm), the discriminator an
    MLP with LeakyReLU and dropout; the loss is the non-saturating one the
    paper recommends in practice (`loss="minimax"` gives the saturating
    original).

    Example:

    >>> gan = VanillaGAN(latent_dim=8, units=(16,), seed=0)
    >>> gan.compile()
    >>> gan.generate(n=2).shape
    (2, 28, 28, 1)
    """

    def __init__(self, image_shape=(28, 28, 1), latent_dim=100, units=(256, 512, 1024),
                 dropout=0.3, generator=None, discriminator=None, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        units = tuple(int(u) for u in units)
        generator, discriminator = _networks_or_default(
            generator, discriminator,
            lambda: mlp_generator(image_shape, latent_dim, units),
            lambda: mlp_discriminator(image_shape, units[::-1], dropout),
        )
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.units, self.dropout = units, dropout

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": list(self.image_shape),
            "units": list(self.units),
            "dropout": self.dropout,
        }

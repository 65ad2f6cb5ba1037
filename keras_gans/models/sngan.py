"""SNGAN (Miyato et al. 2018): ResNet networks, spectral norm, hinge loss."""
import keras

from keras_gans.core import GAN
from keras_gans.networks import resnet_discriminator
from keras_gans.networks import resnet_generator


def _networks_or_default(generator, discriminator, make_generator, make_discriminator):
    return (
        generator if generator is not None else make_generator(),
        discriminator if discriminator is not None else make_discriminator(),
    )


@keras.saving.register_keras_serializable(package="keras_gans")
class SNGAN(GAN):
    """Spectrally normalized GAN with ResNet blocks and the hinge loss.

    "Spectral Normalization for Generative Adversarial Networks", Miyato et
    al., ICLR 2018. Every critic convolution and its linear head are
    spectrally normalized (`keras_gans.layers.SpectralConv2D`). Defaults
    follow the paper's setting C: one critic step per generator step and
    Adam(2e-4, beta_1=0.5, beta_2=0.999).

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: latent size.
        base_filters: critic width is `2 * base_filters`, generator width
            `4 * base_filters`.
        generator, discriminator: your own networks instead.
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `ema_decay`...).

    Example:

    >>> import numpy as np
    >>> gan = SNGAN(latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    >>> _ = gan.fit(images, batch_size=8, epochs=1, verbose=0)
    >>> gan.generate(n=2).shape
    (2, 28, 28, 1)
    """

    def __init__(self, image_shape=(28, 28, 1), latent_dim=128, base_filters=64,
                 generator=None, discriminator=None, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        generator, discriminator = _networks_or_default(
            generator, discriminator,
            lambda: resnet_generator(image_shape, latent_dim, base_filters),
            lambda: resnet_discriminator(image_shape, base_filters),
        )
        kwargs.setdefault("loss", "hinge")
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.base_filters = base_filters

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": list(self.image_shape),
            "base_filters": self.base_filters,
        }

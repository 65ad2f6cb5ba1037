"""Generator and discriminator builders, one module per family."""
from keras_gans.networks.dcgan import dcgan_discriminator
from keras_gans.networks.dcgan import dcgan_generator

__all__ = ["dcgan_discriminator", "dcgan_generator"]

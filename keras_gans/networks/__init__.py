"""Generator and discriminator builders, one module per family."""
from keras_gans.networks.dcgan import dcgan_discriminator
from keras_gans.networks.dcgan import dcgan_generator
from keras_gans.networks.mlp import mlp_discriminator
from keras_gans.networks.mlp import mlp_generator
from keras_gans.networks.resnet import resnet_discriminator
from keras_gans.networks.resnet import resnet_generator

__all__ = [
    "dcgan_discriminator", "dcgan_generator", "mlp_discriminator",
    "mlp_generator", "resnet_discriminator", "resnet_generator",
]

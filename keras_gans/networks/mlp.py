"""Fully connected networks of the original GAN (Goodfellow et al. 2014)."""
import math

import keras
from keras import layers

from keras_gans.layers import BatchNormalization
from keras_gans.networks.dcgan import latent_input


def mlp_generator(image_shape=(28, 28, 1), latent_dim=100, units=(256, 512, 1024),
                  name="generator"):
    """An MLP generator: latents -> ReLU hidden layers -> tanh images.

    >>> mlp_generator((28, 28, 1), latent_dim=8, units=(16,)).output_shape
    (None, 28, 28, 1)
    """
    latents = latent_input(latent_dim)
    x = latents
    for i, width in enumerate(units):
        x = layers.Dense(width, name=f"dense{i + 1}")(x)
        x = BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.ReLU()(x)
    x = layers.Dense(math.prod(image_shape), name="to_image")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    images = layers.Reshape(tuple(image_shape), dtype="float32")(x)
    return keras.Model(latents, images, name=name)


def mlp_discriminator(image_shape=(28, 28, 1), units=(1024, 512, 256), dropout=0.3,
                      name="discriminator"):
    """An MLP discriminator: LeakyReLU hidden layers with dropout, one logit.

    >>> mlp_discriminator((28, 28, 1), units=(16,)).output_shape
    (None, 1)
    """
    images = keras.Input(tuple(image_shape), name="image")
    x = layers.Flatten()(images)
    for i, width in enumerate(units):
        x = layers.Dense(width, name=f"dense{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name=name)

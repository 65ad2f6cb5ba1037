"""Autoencoder discriminators (EBGAN, BEGAN, MMD GAN), for any image size.

The autoencoder is a functional model `images -> [reconstruction, code]`
built from two sub-models named `"encoder"` (images -> code) and
`"decoder"` (code -> images in [-1, 1]), so a variant can read the code
(EBGAN's pulling-away term, MMD GAN's kernel features) and constrain one
part (MMD GAN clips the encoder only). The encoder halves the image with
stride-2 convolutions like the DCGAN discriminator; the decoder mirrors it
like the DCGAN generator (see `keras_gans.networks.dcgan.upsampling_plan`).
No BatchNorm: an image's energy must not depend on the rest of its batch.
"""
import keras
from keras import layers

from keras_gans.layers import Conv2DTranspose
from keras_gans.networks.dcgan import _check_image_shape
from keras_gans.networks.dcgan import upsampling_plan


def autoencoder_encoder(
    image_shape=(28, 28, 1), base_filters=32, code_dim=32, name="encoder"
):
    """Images -> codes `(batch, code_dim)` (stride-2 convs, LeakyReLU(0.2)).

    >>> autoencoder_encoder((28, 28, 1), base_filters=4, code_dim=8).output_shape
    (None, 8)
    """
    _check_image_shape(image_shape)
    _, stages = upsampling_plan(image_shape)
    images = keras.Input(tuple(image_shape), name="image")
    x = images
    for stage in range(max(stages, 1)):
        x = layers.Conv2D(
            base_filters * 2**stage, 4, strides=2 if stages else 1,
            padding="same", name=f"down{stage + 1}",
        )(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    code = layers.Dense(code_dim, dtype="float32", name="code")(x)
    return keras.Model(images, code, name=name)


def autoencoder_decoder(
    image_shape=(28, 28, 1), base_filters=32, code_dim=32, name="decoder"
):
    """Codes -> images in [-1, 1] (the DCGAN generator's shape plan, no BN).

    >>> autoencoder_decoder((28, 28, 1), base_filters=4, code_dim=8).output_shape
    (None, 28, 28, 1)
    """
    _check_image_shape(image_shape)
    (h0, w0), stages = upsampling_plan(image_shape)
    width = base_filters * 2 ** max(stages - 1, 0)
    code = keras.Input((code_dim,), name="code")
    x = layers.Dense(h0 * w0 * width, name="project")(code)
    x = layers.ReLU()(x)
    x = layers.Reshape((h0, w0, width))(x)
    for stage in range(stages - 1):
        width = max(width // 2, 1)
        x = Conv2DTranspose(
            width, 4, strides=2, padding="same", name=f"up{stage + 1}"
        )(x)
        x = layers.ReLU()(x)
    channels = int(image_shape[-1])
    if stages:
        x = Conv2DTranspose(channels, 4, strides=2, padding="same", name="to_image")(x)
    else:
        x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(code, images, name=name)


def autoencoder_discriminator(
    image_shape=(28, 28, 1), base_filters=32, code_dim=32, name="discriminator"
):
    """Autoencoder `images -> [reconstruction, code]` with sub-models
    `"encoder"` and `"decoder"`.

    >>> ae = autoencoder_discriminator((28, 28, 1), base_filters=4, code_dim=8)
    >>> [tuple(s) for s in ae.output_shape]
    [(None, 28, 28, 1), (None, 8)]
    >>> [layer.name for layer in ae.layers[1:]]
    ['encoder', 'decoder']
    """
    encoder = autoencoder_encoder(image_shape, base_filters, code_dim)
    decoder = autoencoder_decoder(image_shape, base_filters, code_dim)
    images = keras.Input(tuple(image_shape), name="image")
    code = encoder(images)
    return keras.Model(images, [decoder(code), code], name=name)

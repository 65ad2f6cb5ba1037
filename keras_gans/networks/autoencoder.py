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

from keras_gans.networks.dcgan import dcgan_discriminator
from keras_gans.networks.dcgan import dcgan_generator


def autoencoder_encoder(
    image_shape=(28, 28, 1), base_filters=32, code_dim=32, name="encoder"
):
    """Images -> codes `(batch, code_dim)`: the DCGAN discriminator without
    BatchNorm, with a `code_dim`-wide linear head.

    >>> autoencoder_encoder((28, 28, 1), base_filters=4, code_dim=8).output_shape
    (None, 8)
    """
    return dcgan_discriminator(
        image_shape, base_filters, batch_norm=False, outputs=code_dim, name=name
    )


def autoencoder_decoder(
    image_shape=(28, 28, 1), base_filters=32, code_dim=32, name="decoder"
):
    """Codes -> images in [-1, 1]: the DCGAN generator without BatchNorm.

    >>> autoencoder_decoder((28, 28, 1), base_filters=4, code_dim=8).output_shape
    (None, 28, 28, 1)
    """
    return dcgan_generator(
        image_shape, code_dim, base_filters, batch_norm=False, name=name
    )


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

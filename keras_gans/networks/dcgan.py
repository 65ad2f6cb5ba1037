"""DCGAN networks (Radford et al. 2016), for any image size.

The generator projects the latent to an `s0 x s0` map and doubles it with
stride-2 transposed convolutions until it reaches the image size; `s0` is the
size left after halving the image side while it is even and larger than 7
(28 -> 7, two stages; 64 -> 4, four stages). Widths halve at each stage from
`base_filters * 2**stages`. The discriminator mirrors it with stride-2
convolutions and LeakyReLU(0.2); BatchNorm everywhere except the
discriminator's first block and both networks' ends.
"""
import keras
from keras import layers

from keras_gans.layers import BatchNormalization
from keras_gans.layers import Conv2D
from keras_gans.layers import Conv2DTranspose
from keras_gans.layers import MinibatchStdDev
from keras_gans.layers import SyncBatchNormalization
from keras_gans.utils.checks import at_least


def upsampling_plan(image_shape):
    """`(start_size, stages)` for an image shape `(height, width, channels)`.

    >>> upsampling_plan((28, 28, 1))
    ((7, 7), 2)
    >>> upsampling_plan((64, 64, 3))
    ((4, 4), 4)
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    stages = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) > 7:
        height, width, stages = height // 2, width // 2, stages + 1
    return (height, width), stages


def _batch_norm(synchronized, name):
    """BatchNorm; `synchronized` takes its statistics over the global batch
    of tf.distribute replicas (see `SyncBatchNormalization`)."""
    if synchronized:
        return SyncBatchNormalization(name=name)
    return BatchNormalization(name=name)


def latent_input(latent_dim, name="latent"):
    """`keras.Input((latent_dim,))` of a generator, `latent_dim` checked.

    >>> latent_input(8).shape
    (None, 8)
    """
    return keras.Input((at_least(latent_dim, 1, "latent_dim"),), name=name)


def _check_image_shape(image_shape):
    if len(image_shape) != 3 or min(image_shape) < 1:
        raise ValueError(
            f"image_shape must be (height, width, channels), got {image_shape}."
        )


def dcgan_generator(
    image_shape=(28, 28, 1), latent_dim=100, base_filters=64, batch_norm=True,
    name="generator", synchronized_batch_norm=False, refine_blocks=0,
):
    """DCGAN generator: latent `(batch, latent_dim)` -> images in [-1, 1].

    `batch_norm=False` drops BatchNorm (e.g. for an autoencoder's decoder,
    whose output for an image must not depend on the rest of its batch);
    `synchronized_batch_norm=True` normalizes over the global batch of
    tf.distribute replicas (`SyncBatchNormalization`); `refine_blocks` adds
    that many stride-1 3x3 convolution blocks at the starting resolution
    (depth where it is cheapest: at 28x28 one block costs a quarter of the
    default generator's FLOPs).

    >>> g = dcgan_generator((28, 28, 1), latent_dim=16, base_filters=8)
    >>> g.output_shape
    (None, 28, 28, 1)
    >>> deeper = dcgan_generator((28, 28, 1), 16, 8, refine_blocks=1)
    >>> deeper.get_layer("refine1").output.shape, deeper.output_shape
    ((None, 7, 7, 32), (None, 28, 28, 1))
    """
    _check_image_shape(image_shape)
    (h0, w0), stages = upsampling_plan(image_shape)
    width = base_filters * 2**stages
    latents = latent_input(latent_dim)

    def block(layer, x):
        """`layer`, then BatchNorm (if any) and ReLU."""
        x = layer(x)
        if batch_norm:
            x = _batch_norm(synchronized_batch_norm, f"{layer.name}_bn")(x)
        return layers.ReLU()(x)

    x = block(layers.Dense(h0 * w0 * width, use_bias=not batch_norm, name="project"), latents)
    x = layers.Reshape((h0, w0, width))(x)
    for index in range(refine_blocks):
        x = block(layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm,
                                name=f"refine{index + 1}"), x)
    for stage in range(stages - 1):
        width //= 2
        x = block(Conv2DTranspose(width, 4, strides=2, padding="same",
                                  use_bias=not batch_norm, name=f"up{stage + 1}"), x)
    channels = int(image_shape[-1])
    if stages:
        x = Conv2DTranspose(channels, 4, strides=2, padding="same", name="to_image")(x)
    else:
        x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(latents, images, name=name)


def dcgan_discriminator(
    image_shape=(28, 28, 1), base_filters=64, batch_norm=True, dropout=0.0,
    minibatch_stddev=False, outputs=1, name="discriminator",
    synchronized_batch_norm=False,
):
    """DCGAN discriminator: images -> one logit per image, shape (batch, 1).

    `batch_norm=False` drops BatchNorm (a batch-free critic, needed by
    gradient penalties); `dropout` adds Dropout after each block;
    `minibatch_stddev=True` appends ProGAN's minibatch standard deviation
    feature before the last block's output (against mode collapse);
    `outputs` sets the width of the final linear layer (1 logit, or e.g. an
    autoencoder's code); `synchronized_batch_norm` as in `dcgan_generator`.

    >>> d = dcgan_discriminator((28, 28, 1), base_filters=8)
    >>> d.output_shape
    (None, 1)
    """
    _check_image_shape(image_shape)
    _, stages = upsampling_plan(image_shape)
    images = keras.Input(tuple(image_shape), name="image")
    x = images
    for stage in range(max(stages, 1)):
        x = Conv2D(
            base_filters * 2**stage, 4, strides=2 if stages else 1,
            padding="same", use_bias=stage == 0 or not batch_norm,
            name=f"down{stage + 1}",
        )(x)
        if stage and batch_norm:
            x = _batch_norm(synchronized_batch_norm, f"down{stage + 1}_bn")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"down{stage + 1}_dropout")(x)
    if minibatch_stddev:
        x = MinibatchStdDev(name="minibatch_stddev")(x)
    x = layers.Flatten()(x)
    head = "logit" if outputs == 1 else "code"
    logits = layers.Dense(outputs, dtype="float32", name=head)(x)
    return keras.Model(images, logits, name=name)

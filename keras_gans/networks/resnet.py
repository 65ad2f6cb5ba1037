"""ResNet generator and spectrally normalized critic of SNGAN (Miyato et
al. 2018, appendix; the CIFAR-10 design) for any image size.

The generator starts at the size given by `upsampling_plan` (7x7 for 28x28,
4x4 for 32x32) and doubles it in residual blocks; the critic halves it in
residual blocks with spectrally normalized convolutions, then sums ReLU
features over positions into one spectrally normalized linear logit.
"""
import keras
from keras import layers

from keras_gans.layers import BatchNormalization
from keras_gans.layers import GlobalSumPooling2D
from keras_gans.layers import SpectralConv2D
from keras_gans.layers import SpectralDense
from keras_gans.networks.dcgan import _check_image_shape
from keras_gans.networks.dcgan import latent_input
from keras_gans.networks.dcgan import upsampling_plan


def _stages(image_shape):
    """`upsampling_plan`, for sizes the ResNet blocks can take (at least
    one halving)."""
    start, stages = upsampling_plan(image_shape)
    if stages < 1:
        raise ValueError(
            f"The ResNet networks halve the image at least once, down to no less than "
            f"4 pixels a side: height and width must be even and at least 8, got "
            f"{tuple(image_shape)[:2]} (e.g. 28x28, 32x32 or 64x64).")
    return start, stages


def _generator_block(x, filters, name):
    shortcut = layers.UpSampling2D(name=f"{name}_up_skip")(x)
    shortcut = layers.Conv2D(filters, 1, name=f"{name}_skip")(shortcut)
    x = BatchNormalization(name=f"{name}_bn1")(x)
    x = layers.ReLU()(x)
    x = layers.UpSampling2D(name=f"{name}_up")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    x = BatchNormalization(name=f"{name}_bn2")(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def resnet_generator(
    image_shape=(28, 28, 1), latent_dim=128, base_filters=64, name="generator"
):
    """SNGAN's ResNet generator: latents -> images in [-1, 1].

    >>> g = resnet_generator((28, 28, 1), latent_dim=8, base_filters=8)
    >>> g.output_shape
    (None, 28, 28, 1)
    """
    _check_image_shape(image_shape)
    (h0, w0), stages = _stages(image_shape)
    width = base_filters * 4
    latents = latent_input(latent_dim)
    x = layers.Dense(h0 * w0 * width, name="project")(latents)
    x = layers.Reshape((h0, w0, width))(x)
    for stage in range(stages):
        x = _generator_block(x, width, name=f"block{stage + 1}")
    x = BatchNormalization(name="out_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(int(image_shape[-1]), 3, padding="same", name="to_image")(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(latents, images, name=name)


def _critic_block(x, filters, downsample, first, name):
    shortcut = x
    if not first:
        x = layers.ReLU()(x)
    x = SpectralConv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    x = layers.ReLU()(x)
    x = SpectralConv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    if downsample:
        x = layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    if first:  # the "optimized" first block pools before its 1x1 shortcut
        shortcut = layers.AveragePooling2D(2, name=f"{name}_pool_skip")(shortcut)
    if first or downsample or shortcut.shape[-1] != filters:
        shortcut = SpectralConv2D(filters, 1, name=f"{name}_skip")(shortcut)
    if downsample and not first:
        shortcut = layers.AveragePooling2D(2, name=f"{name}_pool_skip")(shortcut)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def resnet_discriminator(
    image_shape=(28, 28, 1), base_filters=64, name="discriminator"
):
    """SNGAN's ResNet critic with spectral normalization: images -> (batch, 1).

    >>> d = resnet_discriminator((28, 28, 1), base_filters=8)
    >>> d.output_shape
    (None, 1)
    """
    _check_image_shape(image_shape)
    _, stages = _stages(image_shape)
    width = base_filters * 2
    images = keras.Input(tuple(image_shape), name="image")
    x = images
    for stage in range(max(stages, 1)):
        x = _critic_block(
            x, width, downsample=stages > 0, first=stage == 0,
            name=f"block{stage + 1}",
        )
    for stage in range(2):  # two blocks at the lowest resolution
        x = _critic_block(x, width, False, False, name=f"block{max(stages, 1) + stage + 1}")
    x = layers.ReLU()(x)
    x = GlobalSumPooling2D(name="sum_pool")(x)
    logits = SpectralDense(1, dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name=name)

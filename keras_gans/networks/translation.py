"""Image-to-image networks: pix2pix's U-Net, CycleGAN's ResNet generator
and the PatchGAN discriminator (Isola et al. 2017; Zhu et al. 2017).

Widths follow the papers' `base_filters * min(2**i, 8)` rule; `norm` picks
`"batch"`, `"instance"` or `"none"`. Keras 3 has no InstanceNormalization:
`GroupNormalization(groups=-1)` (one group per channel) is the same thing.
"""
import math

import keras
from keras import layers

from keras_gans.layers import BatchNormalization
from keras_gans.layers import Conv2DTranspose
from keras_gans.layers import ReflectionPadding2D
from keras_gans.layers import TanhResidual
from keras_gans.networks.dcgan import _check_image_shape
from keras_gans.utils.checks import at_least


def _output_channels(output_channels, image_shape):
    # None: as many as the input has; 0 is refused, not read as None.
    return at_least(image_shape[-1] if output_channels is None else output_channels,
                    1, "output_channels")


NORMS = ("batch", "instance", "none")


def normalization(norm, name):
    """A normalization layer by name (`"none"` gives the identity)."""
    if norm == "batch":
        return BatchNormalization(name=name)
    if norm == "instance":
        return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)
    if norm == "none":
        return layers.Identity(name=name)
    raise ValueError(f"Unknown norm {norm!r}; choose from {NORMS}.")


def _width(base_filters, level):
    return base_filters * min(2**level, 8)


def _halvings(image_shape):
    """How many times both sides halve evenly, down to 1 pixel."""
    height, width = int(image_shape[0]), int(image_shape[1])
    count = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) > 1:
        height, width, count = height // 2, width // 2, count + 1
    return count


def _to_image(x):
    # float32 output, also under mixed precision.
    return layers.Activation("tanh", dtype="float32", name="tanh")(x)


def unet_generator(image_shape=(64, 64, 3), output_channels=None, base_filters=64,
                   depth=None, norm="batch", dropout=0.5, name="unet_generator"):
    """pix2pix's U-Net: images -> images in [-1, 1], with skip connections.

    `depth` stride-2 4x4 convolutions (default: down to 1x1, 6 for 64x64,
    8 for 256x256) encode; mirrored transposed convolutions decode, each
    concatenated with the encoder map of the same size. The innermost three
    decoder blocks use dropout (the paper's noise source).

    >>> g = unet_generator((32, 32, 1), output_channels=3, base_filters=8)
    >>> g.output_shape
    (None, 32, 32, 3)
    """
    _check_image_shape(image_shape)
    if _halvings(image_shape) < 1:
        raise ValueError(
            f"The U-Net halves the image at each level: height and width must be even "
            f"(e.g. 16x16, 64x64 or 256x256), got {tuple(image_shape)[:2]}.")
    depth = _halvings(image_shape) if depth is None else at_least(depth, 0, "depth")
    if depth < 1 or depth > _halvings(image_shape):
        raise ValueError(
            f"depth must be between 1 and {_halvings(image_shape)} for images "
            f"of shape {tuple(image_shape)}, got {depth}."
        )
    out_channels = _output_channels(output_channels, image_shape)
    inputs = keras.Input(tuple(image_shape), name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = layers.Conv2D(_width(base_filters, level), 4, strides=2, padding="same",
                          use_bias=norm != "batch" or level == 0, name=f"down{level + 1}")(x)
        # No normalization on the first block nor on the 1x1 innermost one.
        if 0 < level < depth - 1:
            x = normalization(norm, f"down{level + 1}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    for level in reversed(range(depth - 1)):
        x = Conv2DTranspose(_width(base_filters, level), 4, strides=2, padding="same",
                            name=f"up{level + 1}")(x)
        x = normalization(norm, f"up{level + 1}_norm")(x)
        if dropout and level >= depth - 4:
            x = layers.Dropout(dropout, name=f"up{level + 1}_dropout")(x)
        x = layers.ReLU()(x)
        x = layers.Concatenate(name=f"skip{level + 1}")([x, skips[level]])
    x = Conv2DTranspose(out_channels, 4, strides=2, padding="same", name="to_image")(x)
    return keras.Model(inputs, _to_image(x), name=name)


def _residual_block(x, filters, norm, name):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, name=f"{name}_conv1")(y)
    y = normalization(norm, f"{name}_norm1")(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)
    y = layers.Conv2D(filters, 3, name=f"{name}_conv2")(y)
    y = normalization(norm, f"{name}_norm2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def resnet_translator(image_shape=(64, 64, 3), output_channels=None, base_filters=64,
                      n_blocks=None, norm="instance", residual_output=False,
                      name="resnet_generator"):
    """CycleGAN's ResNet generator: images -> images in [-1, 1].

    A 7x7 convolution, two stride-2 downsamplings, `n_blocks` residual
    blocks (default 6 below 256 pixels, 9 from 256 up, as in the paper),
    two stride-2 upsamplings and a 7x7 convolution, with reflection padding.
    `residual_output=True` (same channels in and out) makes the last
    convolution, zero-initialized, an edit of the input image
    (`TanhResidual`): the generator starts as the identity, which suits
    domains that already look alike. Not in the paper.

    >>> g = resnet_translator((32, 32, 3), base_filters=8, n_blocks=2)
    >>> g.output_shape
    (None, 32, 32, 3)
    """
    _check_image_shape(image_shape)
    if int(image_shape[0]) % 4 or int(image_shape[1]) % 4:
        raise ValueError(
            f"The ResNet generator halves the image twice; height and width "
            f"must be multiples of 4, got {tuple(image_shape)}."
        )
    if n_blocks is None:
        n_blocks = 9 if min(image_shape[:2]) >= 256 else 6
    n_blocks = at_least(n_blocks, 0, "n_blocks")
    out_channels = _output_channels(output_channels, image_shape)
    if residual_output and out_channels != int(image_shape[-1]):
        raise ValueError("residual_output needs as many output channels as input channels.")
    inputs = keras.Input(tuple(image_shape), name="image")
    x = ReflectionPadding2D(3)(inputs)
    x = layers.Conv2D(base_filters, 7, name="stem")(x)
    x = layers.ReLU()(normalization(norm, "stem_norm")(x))
    for i in (1, 2):
        x = layers.Conv2D(base_filters * 2**i, 3, strides=2, padding="same", name=f"down{i}")(x)
        x = layers.ReLU()(normalization(norm, f"down{i}_norm")(x))
    for i in range(n_blocks):
        x = _residual_block(x, base_filters * 4, norm, f"block{i + 1}")
    for i in (1, 0):
        x = Conv2DTranspose(base_filters * 2**i, 3, strides=2, padding="same", name=f"up{i + 1}")(x)
        x = layers.ReLU()(normalization(norm, f"up{i + 1}_norm")(x))
    x = ReflectionPadding2D(3)(x)
    # Zero-initialized for residual_output: the generator starts as the identity.
    x = layers.Conv2D(out_channels, 7, name="to_image",
                      kernel_initializer="zeros" if residual_output else "glorot_uniform")(x)
    if residual_output:
        images = TanhResidual(dtype="float32", name="tanh_residual")([inputs, x])
    else:
        images = _to_image(x)
    return keras.Model(inputs, images, name=name)


def patchgan_layers(image_shape):
    """Stride-2 layers giving the paper's receptive-field-to-image ratio.

    The 70x70 PatchGAN (3 layers) judges ~27% of a 256-pixel side; keeping
    that share gives 2 layers (34x34) at 128 and 1 layer (16x16) at 64.

    >>> patchgan_layers((256, 256, 3)), patchgan_layers((64, 64, 3))
    (3, 1)
    """
    return max(1, int(round(math.log2(min(image_shape[:2])))) - 5)


def receptive_field(n_layers):
    """Receptive field of a PatchGAN with `n_layers` stride-2 layers.

    >>> [receptive_field(n) for n in (1, 2, 3)]
    [16, 34, 70]
    """
    field, jump = 1, 1
    strides = [2] * n_layers + [1, 1]
    for stride in strides:
        field += 3 * jump
        jump *= stride
    return field


def patchgan_discriminator(image_shape=(64, 64, 3), base_filters=64, n_layers=None,
                           norm="batch", name="patchgan"):
    """PatchGAN: images -> a map of logits, one per overlapping patch.

    `n_layers` stride-2 4x4 convolutions (default `patchgan_layers`), one
    stride-1 4x4 convolution, then a 1-channel 4x4 convolution; LeakyReLU
    (0.2), no normalization on the first layer. For pix2pix the input is
    the source and the target image concatenated along channels.

    >>> d = patchgan_discriminator((64, 64, 6), base_filters=8)
    >>> d.output_shape
    (None, 32, 32, 1)
    """
    _check_image_shape(image_shape)
    n_layers = n_layers or patchgan_layers(image_shape)
    inputs = keras.Input(tuple(image_shape), name="image")
    x = inputs
    for level in range(n_layers + 1):
        stride = 2 if level < n_layers else 1
        x = layers.Conv2D(_width(base_filters, level), 4, strides=stride, padding="same",
                          use_bias=level == 0 or norm != "batch", name=f"conv{level + 1}")(x)
        if level > 0:
            x = normalization(norm, f"conv{level + 1}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 4, padding="same", dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)

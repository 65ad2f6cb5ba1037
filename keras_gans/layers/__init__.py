"""Reusable layers."""
from keras_gans.layers.batch_norm import BatchNormalization
from keras_gans.layers.batch_norm import SyncBatchNormalization
from keras_gans.layers.conv import Conv2D
from keras_gans.layers.conv_transpose import Conv2DTranspose
from keras_gans.layers.image_pool import ImagePool
from keras_gans.layers.minibatch import GlobalSumPooling2D
from keras_gans.layers.minibatch import MinibatchDiscrimination
from keras_gans.layers.minibatch import MinibatchStdDev
from keras_gans.layers.padding import ReflectionPadding2D
from keras_gans.layers.residual import TanhResidual
from keras_gans.layers.spectral_norm import SpectralConv2D
from keras_gans.layers.spectral_norm import SpectralDense

__all__ = [
    "BatchNormalization", "Conv2D", "Conv2DTranspose", "GlobalSumPooling2D", "ImagePool", "MinibatchDiscrimination",
    "MinibatchStdDev", "ReflectionPadding2D", "SpectralConv2D", "SpectralDense", "SyncBatchNormalization",
    "TanhResidual",
]

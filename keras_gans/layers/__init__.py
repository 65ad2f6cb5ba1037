"""Reusable layers."""
from keras_gans.layers.conv_transpose import Conv2DTranspose

__all__ = ["Conv2DTranspose"]

"""keras-gans: Generative Adversarial Networks for Keras 3.

One training core runs on the TensorFlow, JAX and PyTorch backends; pick the
backend with `KERAS_BACKEND` before importing.

>>> import keras_gans
>>> gan = keras_gans.models.DCGAN(latent_dim=16, base_filters=8)
"""
from keras_gans import callbacks
from keras_gans import core
from keras_gans import datasets
from keras_gans import losses
from keras_gans import models
from keras_gans import networks
from keras_gans import utils
from keras_gans import zoo

__version__ = "0.1.0"

__all__ = [
    "callbacks", "core", "datasets", "losses", "models", "networks", "utils", "zoo",
    "__version__",
]

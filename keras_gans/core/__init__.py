"""The training core: network sets, their optimizers, the train step."""
from keras_gans.core.adversarial import AdversarialModel
from keras_gans.core.adversarial import default_optimizer
from keras_gans.core.gan import GAN
from keras_gans.core.gan import sample_latents
from keras_gans.core.optimizer import GANOptimizer

__all__ = [
    "AdversarialModel", "GAN", "GANOptimizer", "default_optimizer", "sample_latents",
]

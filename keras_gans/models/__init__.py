"""GAN variants: each picks networks and losses; none copies a train step.

>>> from keras_gans import models
>>> "dcgan" in models.names(), "wgangp" in models.names()
(True, True)
>>> type(models.get("dcgan", latent_dim=8, base_filters=4)).__name__
'DCGAN'
"""
from keras_gans.models.conditional import ACGAN
from keras_gans.models.conditional import CGAN
from keras_gans.models.conditional import ConditionalGAN
from keras_gans.models.conditional import ProjectionGAN
from keras_gans.models.dcgan import DCGAN
from keras_gans.models.dcgan import LSGAN
from keras_gans.models.dcgan import RaGAN
from keras_gans.models.energy import BEGAN
from keras_gans.models.energy import EBGAN
from keras_gans.models.infogan import InfoGAN
from keras_gans.models.mmd import MMDGAN
from keras_gans.models.sgan import SGAN
from keras_gans.models.self_conditioned import SelfConditionedGAN
from keras_gans.models.sngan import SNGAN
from keras_gans.models.translation import CycleGAN
from keras_gans.models.translation import Pix2Pix
from keras_gans.models.unrolled import UnrolledGAN
from keras_gans.models.vanilla import VanillaGAN
from keras_gans.models.wgan import WGAN
from keras_gans.models.wgan import WGANGP

_REGISTRY = {
    "ebgan": EBGAN, "began": BEGAN, "unrolled_gan": UnrolledGAN, "mmdgan": MMDGAN,
    "dcgan": DCGAN, "lsgan": LSGAN, "ragan": RaGAN, "sngan": SNGAN,
    "vanilla_gan": VanillaGAN, "wgan": WGAN, "wgangp": WGANGP,
    "cgan": CGAN, "acgan": ACGAN, "projection_gan": ProjectionGAN, "infogan": InfoGAN,
    "sgan": SGAN, "self_conditioned_gan": SelfConditionedGAN, "pix2pix": Pix2Pix, "cyclegan": CycleGAN,
}


def names():
    """Model names accepted by `get` and `keras-gans train`."""
    return sorted(_REGISTRY)


def get_class(name):
    """The variant class called `name` (case and dashes ignored)."""
    key = name.lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"Unknown model {name!r}. Known models: {names()}.")
    return _REGISTRY[key]


def get(name, **kwargs):
    """Builds the variant called `name` with `kwargs`."""
    return get_class(name)(**kwargs)


__all__ = [
    "BEGAN", "EBGAN", "MMDGAN", "UnrolledGAN",
    "DCGAN", "LSGAN", "RaGAN", "SNGAN", "VanillaGAN", "WGAN", "WGANGP",
    "ACGAN", "CGAN", "ConditionalGAN", "InfoGAN", "ProjectionGAN", "SGAN", "SelfConditionedGAN",
    "CycleGAN", "Pix2Pix",
    "get", "get_class", "names",
]

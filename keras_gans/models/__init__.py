"""GAN variants: each picks networks and losses; none copies a train step.

>>> from keras_gans import models
>>> models.names()
['dcgan']
>>> type(models.get("dcgan", latent_dim=8, base_filters=4)).__name__
'DCGAN'
"""
from keras_gans.models.dcgan import DCGAN

_REGISTRY = {"dcgan": DCGAN}


def names():
    """Model names accepted by `get` and `keras-gans train`."""
    return sorted(_REGISTRY)


def get(name, **kwargs):
    """Builds the variant called `name` with `kwargs`."""
    key = name.lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"Unknown model {name!r}. Known models: {names()}.")
    return _REGISTRY[key](**kwargs)


__all__ = ["DCGAN", "get", "names"]

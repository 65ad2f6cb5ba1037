"""The zoo: pretrained GANs as Hub repos (or local folders), loaded in one line.

An entry is a keras-hub-style folder (`config.json`, `metadata.json`,
`model.weights.h5`, a `README.md` model card and `samples.png`). Names are a
built-in entry (`list()`), `hf://organisation/name[@revision]` or a local
entry folder.

>>> from keras_gans import zoo
>>> "dcgan-mnist" in zoo.list()
True
>>> zoo.load("no-such-gan")
Traceback (most recent call last):
...
keras_gans.zoo.errors.UnknownModelError: Unknown zoo entry 'no-such-gan'. ...
"""
from keras_gans.zoo.entry import load_entry
from keras_gans.zoo.entry import save_entry
from keras_gans.zoo.errors import CorruptEntryError
from keras_gans.zoo.errors import IncompatibleEntryError
from keras_gans.zoo.errors import IntegrityError
from keras_gans.zoo.errors import OfflineError
from keras_gans.zoo.errors import RepositoryNotFoundError
from keras_gans.zoo.errors import RevisionNotFoundError
from keras_gans.zoo.errors import UnknownModelError
from keras_gans.zoo.errors import ZooError
from keras_gans.zoo.hub import export_run
from keras_gans.zoo.hub import info
from keras_gans.zoo.hub import list_entries as list  # noqa: A001  (zoo.list(), as asked)
from keras_gans.zoo.hub import load
from keras_gans.zoo.hub import load_gan
from keras_gans.zoo.hub import publish
from keras_gans.zoo.hub import resolve

__all__ = [
    "CorruptEntryError", "IncompatibleEntryError", "IntegrityError", "OfflineError",
    "RepositoryNotFoundError", "RevisionNotFoundError", "UnknownModelError", "ZooError",
    "export_run", "info", "list", "load", "load_entry", "load_gan", "publish", "resolve",
    "save_entry",
]

"""What can go wrong when finding, fetching or trusting a zoo entry.

Every error says what to do next. All derive from `ZooError` (a
`RuntimeError`), so `except keras_gans.zoo.ZooError` catches them all.
"""


class ZooError(RuntimeError):
    """A zoo entry could not be found, downloaded, trusted or loaded.

    >>> from keras_gans import zoo
    >>> try:
    ...     zoo.load("dcgan-mnsit")
    ... except zoo.ZooError as err:
    ...     print(type(err).__name__)
    UnknownModelError
    """


class UnknownModelError(ZooError):
    """The name is neither a built-in entry, an `hf://` repo nor a folder.

    >>> issubclass(UnknownModelError, ZooError)
    True
    """


class RepositoryNotFoundError(ZooError):
    """The Hub has no such repository (or it is private and no token was given).

    >>> issubclass(RepositoryNotFoundError, ZooError)
    True
    """


class RevisionNotFoundError(ZooError):
    """The repository exists but has no such branch, tag or commit.

    >>> issubclass(RevisionNotFoundError, ZooError)
    True
    """


class OfflineError(ZooError):
    """The Hub cannot be reached (or `HF_HUB_OFFLINE=1`) and the cache lacks the entry.

    >>> issubclass(OfflineError, ZooError)
    True
    """


class IntegrityError(ZooError):
    """A downloaded file's sha256 differs from the pinned one.

    >>> issubclass(IntegrityError, ZooError)
    True
    """


class IncompatibleEntryError(ZooError):
    """The entry was written by a newer keras-gans (or a newer entry format).

    >>> issubclass(IncompatibleEntryError, ZooError)
    True
    """


class CorruptEntryError(ZooError):
    """A file of the entry is missing, truncated or unreadable.

    >>> issubclass(CorruptEntryError, ZooError)
    True
    """

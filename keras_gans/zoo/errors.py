"""What can go wrong when finding, fetching or trusting a zoo entry.

Every error says what to do next. All derive from `ZooError` (a
`RuntimeError`), so `except keras_gans.zoo.ZooError` catches them all.
"""


class ZooError(RuntimeError):
    """A zoo entry could not be found, downloaded, trusted or loaded."""


class UnknownModelError(ZooError):
    """The name is neither a built-in entry, an `hf://` repo nor a folder."""


class RepositoryNotFoundError(ZooError):
    """The Hub has no such repository (or it is private and no token was given)."""


class RevisionNotFoundError(ZooError):
    """The repository exists but has no such branch, tag or commit."""


class OfflineError(ZooError):
    """The Hub cannot be reached (or `HF_HUB_OFFLINE=1`) and the cache lacks the entry."""


class IntegrityError(ZooError):
    """A downloaded file's sha256 differs from the pinned one."""


class IncompatibleEntryError(ZooError):
    """The entry was written by a newer keras-gans (or a newer entry format)."""


class CorruptEntryError(ZooError):
    """A file of the entry is missing, truncated or unreadable."""

"""Emoji in two art styles, Twitter (Twemoji) and Google (Noto): 64x64 RGB.

The 3,786 emoji of ``emoji-datasource`` 16.0.0 (skin-tone variants
included) exist in both styles under the same file names, so the styles
pair up image to image. Get them once with ``bash scripts/fetch_emoji.sh``
(npm, about 140 MB downloaded, 39 MB kept); they are looked for in, in
order: the ``root`` argument, the ``KERAS_GANS_EMOJI_DIR`` environment
variable, ``data/emoji`` under the current directory, and
``~/.cache/keras_gans/emoji``. Layout::

    <root>/twitter/*.png  <root>/google/*.png  <root>/emoji.json

Transparent backgrounds are composited on white. The train/test split is
fixed by a hash of each emoji's base file name (skin-tone variants follow
their base emoji, so no emoji is in both splits) and is identical for both
styles: 3,385 train and 401 test images. Art licences: Twemoji CC-BY 4.0,
Noto Emoji Apache-2.0 (see ``<root>/LICENSE.md``).

Example:
    >>> from keras_gans import datasets
    >>> x = datasets.load_emoji("twitter")              # doctest: +SKIP
    >>> x.shape                                         # doctest: +SKIP
    (3385, 64, 64, 3)
    >>> tw, go = datasets.load_emoji_pairs("test", image_size=32)  # doctest: +SKIP
"""
import functools
import hashlib
import json
import os

import numpy as np

from keras_gans.datasets._sources import DataUnavailableError
from keras_gans.datasets.folder import read_images, to_float

EMOJI_ENV_VAR = "KERAS_GANS_EMOJI_DIR"
EMOJI_STYLES = ("twitter", "google")
EMOJI_FETCH = "bash scripts/fetch_emoji.sh"
# Share of base emoji (with their skin-tone variants) in the test split.
TEST_FRACTION = 0.11
_SPLITS = ("train", "test")


def _is_complete(folder):
    return os.path.isfile(os.path.join(folder, "emoji.json")) and all(
        os.path.isdir(os.path.join(folder, style)) for style in EMOJI_STYLES
    )


def emoji_dir(root=None):
    """The folder holding the emoji data (see the module docstring for the order).

    Raises:
        DataUnavailableError: no complete folder was found; the message says
            where it looked and how to fetch the data.

    Example:
        >>> import tempfile
        >>> try:
        ...     emoji_dir(tempfile.mkdtemp())
        ... except DataUnavailableError as err:
        ...     print(str(err).split(":")[0])
        Emoji data is unavailable
    """
    if root is not None:
        candidates = [os.fspath(root)]
    elif os.environ.get(EMOJI_ENV_VAR):
        candidates = [os.environ[EMOJI_ENV_VAR]]
    else:
        candidates = [
            os.path.join(os.getcwd(), "data", "emoji"),
            os.path.join(os.path.expanduser("~"), ".cache", "keras_gans", "emoji"),
        ]
    for folder in candidates:
        if _is_complete(folder):
            return folder
    raise DataUnavailableError(
        "Emoji data is unavailable: no emoji.json with twitter/ and google/ "
        f"folders in {' or '.join(repr(c) for c in candidates)}. Fetch it with: "
        f"{EMOJI_FETCH} [DEST] (default DEST: data/emoji; pass root=DEST or "
        f"set {EMOJI_ENV_VAR}=DEST when loading from elsewhere)."
    )


def check_emoji(root=None):
    """Raise :class:`DataUnavailableError` unless the emoji data is present."""
    emoji_dir(root)


@functools.lru_cache(maxsize=4)
def _index(folder, mtime):
    """``{file name: (base file name, category)}`` from ``emoji.json``."""
    del mtime  # part of the cache key only
    with open(os.path.join(folder, "emoji.json"), encoding="utf-8") as fh:
        entries = json.load(fh)
    index = {}
    for entry in entries:
        base, category = entry["image"], entry["category"]
        index[base] = (base, category)
        for variant in (entry.get("skin_variations") or {}).values():
            index[variant["image"]] = (base, category)
    return index


def _read_index(folder):
    return _index(folder, os.path.getmtime(os.path.join(folder, "emoji.json")))


def _in_test(base_name):
    digest = hashlib.sha256(base_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") < TEST_FRACTION * 2.0**64


def _check(style=None, split="train"):
    if style is not None and style not in EMOJI_STYLES:
        raise ValueError(f"Unknown emoji style {style!r}; use 'twitter' or 'google'.")
    if split not in _SPLITS:
        raise ValueError(f"Unknown split {split!r}; use 'train' or 'test'.")


def emoji_file_names(split="train", root=None):
    """Sorted PNG names of ``split`` that exist in both styles.

    Use it to pair the styles by file name (``<root>/twitter/NAME`` and
    ``<root>/google/NAME`` show the same emoji).

    Example:
        >>> names = emoji_file_names("test")               # doctest: +SKIP
        >>> len(names), names[0]                          # doctest: +SKIP
        (401, '0030-fe0f-20e3.png')
    """
    _check(split=split)
    folder = emoji_dir(root)
    index = _read_index(folder)
    found = [
        {n for n in os.listdir(os.path.join(folder, s)) if n.lower().endswith(".png")}
        for s in EMOJI_STYLES
    ]
    want_test = split == "test"
    return tuple(
        name for name in sorted(set.intersection(*found))
        if _in_test(index.get(name, (name,))[0]) == want_test
    )


def emoji_categories(root=None):
    """The sorted category names of ``emoji.json``; label ``i`` is entry ``i``.

    Example:
        >>> emoji_categories()[:3]                        # doctest: +SKIP
        ('Activities', 'Animals & Nature', 'Component')
    """
    return tuple(sorted({c for _, c in _read_index(emoji_dir(root)).values()}))


def _labels_for(folder, names):
    index = _read_index(folder)
    missing = [n for n in names if n not in index]
    if missing:
        raise ValueError(
            f"{len(missing)} emoji files have no category in emoji.json "
            f"(e.g. {missing[0]!r}); refetch with: {EMOJI_FETCH}"
        )
    ids = {c: i for i, c in enumerate(sorted({c for _, c in index.values()}))}
    return np.array([ids[index[n][1]] for n in names], dtype=np.int32)


def _read_style(folder, style, names, image_size, channels):
    return read_images(os.path.join(folder, style), names, image_size, channels)


def load_emoji(style="twitter", split="train", image_size=64, channels=3,
               root=None, labels=False):
    """Emoji of one ``style`` as float32 ``(N, H, W, C)`` in ``[-1, 1]``.

    Args:
        style: ``"twitter"`` or ``"google"``.
        split: ``"train"`` (3,385 images) or ``"test"`` (401), the same
            file names for both styles, in :func:`emoji_file_names` order.
        image_size: int or ``(height, width)`` (area-averaged when
            shrinking); None keeps 64x64.
        channels: 3 (RGB) or 1 (grey); transparency becomes white.
        root: the data folder (default: see the module docstring).
        labels: True returns ``(images, labels)``, int32 ids of the emoji's
            category (see :func:`emoji_categories`, 10 of them).

    Raises:
        DataUnavailableError: the data is missing (run ``bash scripts/fetch_emoji.sh``).

    Example:
        >>> x, y = load_emoji("google", "test", image_size=32, labels=True)  # doctest: +SKIP
        >>> x.shape, y.shape                              # doctest: +SKIP
        ((401, 32, 32, 3), (401,))
    """
    _check(style, split)
    folder = emoji_dir(root)
    names = emoji_file_names(split, folder)
    raw, kept, _ = _read_style(folder, style, names, image_size, channels)
    images = to_float(raw)
    if labels:
        return images, _labels_for(folder, kept)
    return images


def load_emoji_pairs(split="train", image_size=64, channels=3, root=None):
    """Aligned ``(twitter, google)`` float32 arrays: row ``i`` is the same emoji.

    Arguments as in :func:`load_emoji`. A file unreadable in either style
    is left out of both (with a warning).

    Example:
        >>> tw, go = load_emoji_pairs("test")             # doctest: +SKIP
        >>> tw.shape == go.shape == (401, 64, 64, 3)      # doctest: +SKIP
        True
    """
    _check(split=split)
    folder = emoji_dir(root)
    names = emoji_file_names(split, folder)
    read = [_read_style(folder, s, names, image_size, channels) for s in EMOJI_STYLES]
    common = set(read[0][1]) & set(read[1][1])
    pairs = []
    for raw, kept, _ in read:
        rows = [i for i, name in enumerate(kept) if name in common]
        pairs.append(to_float(raw if len(rows) == len(kept) else raw[rows]))
    return tuple(pairs)

"""Images from a folder on disk, as arrays or a ``fit()``-ready dataset.

Decoding uses Pillow only (numpy out; no deep-learning framework). The
public entry point is :func:`from_directory`; :func:`read_images` is the
lower-level reader that :mod:`keras_gans.datasets.emoji` shares.
"""
import os
import warnings
from typing import NamedTuple, Optional

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
# Pillow modes that hold one grey channel (with or without alpha).
_GRAY_MODES = frozenset(
    {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# Errors that mean "this file is not a readable image"; with Pillow's
# DecompressionBombError (a header claiming > 179M pixels), which is none
# of these.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError)


def _decompression_bomb():
    from PIL import Image

    return Image.DecompressionBombError


class FolderImages(NamedTuple):
    """What :func:`from_directory` returns when ``batch_size`` is None.

    Attributes:
        images: float32 ``(N, H, W, C)`` in ``[-1, 1]``.
        labels: int32 ``(N,)`` class ids, or None when unlabelled.
        class_names: the sorted class folder names (label ``i`` is
            ``class_names[i]``); ``()`` when unlabelled.
        files: the ``N`` loaded files, relative to the folder ("/"-separated),
            in the order of ``images``.
        skipped: the unreadable files that were left out (relative paths).

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("L", (4, 4)).save(root / "a.png")
        >>> found = from_directory(root)
        >>> found.images.shape, found.labels, found.skipped
        ((1, 4, 4, 1), None, ())
    """

    images: np.ndarray
    labels: Optional[np.ndarray]
    class_names: tuple
    files: tuple
    skipped: tuple


def is_image_file(name):
    """True when ``name`` ends with a supported image extension (any case).

    Example:
        >>> is_image_file("cat.PNG"), is_image_file("notes.txt")
        (True, False)
    """
    return name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(path):
    """Sorted image files under ``path`` (recursive), "/"-separated and relative.

    Hidden files and folders (names starting with ".") are ignored.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ["b/2.png", "a/1.jpg", "readme.txt"]:
        ...     (root / name).parent.mkdir(exist_ok=True)
        ...     _ = (root / name).write_bytes(b"")
        >>> list_images(root)
        ['a/1.jpg', 'b/2.png']
    """
    found = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(folder, path)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        found.extend(
            prefix + n for n in names if is_image_file(n) and not n.startswith(".")
        )
    return sorted(found)


def _size_hw(image_size):
    """``image_size`` (int or (h, w)) as ``(h, w)``, or None."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif isinstance(image_size, str):
        size = ()
    else:
        try:
            size = tuple(int(s) for s in image_size)
        except (TypeError, ValueError):
            size = ()
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"image_size must be a positive int or a (height, width) pair, "
            f"got {image_size!r}."
        )
    return size


def _flatten(img, mode):
    """``img`` as Pillow mode ``"L"`` or ``"RGB"``, transparency composited on white."""
    from PIL import Image

    if img.mode.startswith("I;16"):  # 16-bit grey: keep the top 8 bits
        img = Image.fromarray((np.asarray(img, dtype=np.uint16) >> 8).astype(np.uint8))
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img if img.mode == mode else img.convert(mode)


def _resize(img, size_hw):
    """Resize to ``(h, w)``: area averaging when shrinking, bicubic otherwise."""
    from PIL import Image

    h, w = size_hw
    if img.size == (w, h):
        return img
    shrink = w <= img.width and h <= img.height
    return img.resize((w, h), Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC)


def _decode(path, channels, size_hw):
    """One file as a uint8 ``(H, W)`` (grey) or ``(H, W, 3)`` array."""
    from PIL import Image
    from PIL import ImageOps

    with Image.open(path) as img:
        img.load()  # decodes now, so truncated files fail here
        img = ImageOps.exif_transpose(img)  # phone photos: upright, as shown
        if channels is None:
            mode = "L" if img.mode in _GRAY_MODES else "RGB"
        else:
            mode = "L" if channels == 1 else "RGB"
        img = _flatten(img, mode)
        if size_hw is not None:
            img = _resize(img, size_hw)
        return np.asarray(img, dtype=np.uint8)


def _warn_skipped(skipped, total, why="could not be read (corrupt, truncated or not images)"):
    if skipped:
        shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        warnings.warn(f"Skipped {len(skipped)} of {total} image files that {why}: {shown}",
                      stacklevel=3)


_TOO_LARGE = ("are too large to decode safely (more pixels than PIL.Image.MAX_IMAGE_PIXELS); "
              "downscale them, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust them")


def read_images(root, files, image_size=None, channels=None, limit=None):
    """Decode ``files`` (relative to ``root``) into one uint8 ``(N, H, W, C)`` array.

    Returns ``(images, kept, skipped)``: the stacked array, the files it
    holds (in order) and the unreadable files that were left out (one
    ``warnings.warn`` names them). See :func:`from_directory` for
    ``image_size``, ``channels`` and ``limit``.

    Raises:
        ValueError: bad ``channels``/``image_size``, sizes that differ with
            ``image_size=None``, or no file could be read.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = tempfile.mkdtemp()
        >>> Image.new("L", (4, 6), 200).save(f"{root}/g.png")
        >>> x, kept, skipped = read_images(root, ["g.png"], channels=3)
        >>> x.shape, x.dtype, int(x.max()), kept, skipped
        ((1, 6, 4, 3), dtype('uint8'), 200, ('g.png',), ())
    """
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, got {channels!r}.")
    size_hw = _size_hw(image_size)
    arrays, kept, skipped, too_large = [], [], [], []
    for name in files:
        if limit is not None and len(arrays) >= limit:
            break
        try:
            array = _decode(os.path.join(root, name), channels, size_hw)
        except _decompression_bomb():
            too_large.append(name)
            skipped.append(name)
            continue
        except _DECODE_ERRORS:
            skipped.append(name)
            continue
        if arrays and array.shape[:2] != arrays[0].shape[:2]:
            (h0, w0), (h, w) = arrays[0].shape[:2], array.shape[:2]
            raise ValueError(
                f"Images differ in size: {kept[0]} is {h0}x{w0} but {name} is "
                f"{h}x{w} (height x width). Pass image_size=(height, width) "
                "to resize them all (keras-gans finetune: --resize)."
            )
        arrays.append(array)
        kept.append(name)
    total = len(kept) + len(skipped)
    _warn_skipped([name for name in skipped if name not in too_large], total)
    _warn_skipped(too_large, total, _TOO_LARGE)
    if not arrays:
        raise ValueError(
            f"None of the {total} image files under {os.fspath(root)!r} could be read "
            f"(first: {skipped[0] if skipped else None})"
            + (f"; {len(too_large)} {_TOO_LARGE}." if too_large else ".")
        )
    if channels is None and any(a.ndim == 3 for a in arrays):
        arrays = [a if a.ndim == 3 else np.repeat(a[..., None], 3, -1) for a in arrays]
    images = np.stack(arrays)
    if images.ndim == 3:
        images = images[..., None]
    return images, tuple(kept), tuple(skipped)


def to_float(images):
    """uint8 images as float32 in ``[-1, 1]`` (``x / 127.5 - 1``).

    Example:
        >>> to_float(np.array([0, 255], np.uint8)).tolist()
        [-1.0, 1.0]
    """
    out = np.asarray(images).astype(np.float32)
    out /= np.float32(127.5)
    out -= np.float32(1.0)
    return out


def _class_of(files):
    """The top-level folder of each file ("" for files directly in the root)."""
    return [f.split("/", 1)[0] if "/" in f else "" for f in files]


def _infer_labels(path, files, labels):
    """``(class_names, label_of_file)``; ``((), None)`` when unlabelled."""
    if labels is None:
        return (), None
    if labels != "inferred":
        raise ValueError(f"labels must be 'inferred' or None, got {labels!r}.")
    folders = _class_of(files)
    class_names = tuple(sorted(set(folders) - {""}))
    if len(class_names) < 2:
        return (), None
    if "" in folders:
        loose = [f for f, c in zip(files, folders) if c == ""]
        raise ValueError(
            f"{path!r} has class folders {list(class_names[:5])} but also "
            f"{len(loose)} image(s) directly inside it (e.g. {loose[0]!r}); move "
            "them into a class folder, or pass labels=None to ignore the folders."
        )
    index = {name: i for i, name in enumerate(class_names)}
    return class_names, {f: index[c] for f, c in zip(files, folders)}


def _check_folder(path):
    if not os.path.exists(path):
        raise ValueError(f"Image folder {path!r} does not exist.")
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not a folder; pass the folder that holds the images.")
    files = list_images(path)
    if files:
        return files
    if not any(os.scandir(path)):
        raise ValueError(f"Image folder {path!r} is empty.")
    raise ValueError(
        f"No image files under {path!r} (searched recursively for "
        f"{', '.join(IMAGE_EXTENSIONS)}; hidden files are ignored)."
    )


def from_directory(path, image_size=None, channels=None, labels="inferred",
                   batch_size=None, shuffle=True, seed=0, limit=None):
    """Load every image under ``path`` (recursive) scaled to float32 ``[-1, 1]``.

    Files are read in sorted path order (PNG, JPEG, BMP, GIF (first frame),
    WebP). Transparent pixels are composited on white; palette images count
    as colour.

    Args:
        path: the folder. With ``labels="inferred"`` and two or more
            immediate sub-folders holding images, each sub-folder is a class:
            label ``i`` is the ``i``-th folder name in sorted order (images
            deeper down belong to their top-level folder).
        image_size: int or ``(height, width)``; images are resized (area
            averaging when shrinking, bicubic when enlarging). Default: keep
            sizes, which must then all match.
        channels: 1 (grey) or 3 (RGB). Default: 1 if every file is greyscale,
            else 3.
        labels: ``"inferred"`` (see ``path``) or None (no labels).
        batch_size: None returns arrays (a :class:`FolderImages`); an int
            returns ``make_dataset(images, batch_size, labels=..., shuffle=...,
            seed=...)``, i.e. ``(dataset, steps_per_epoch)`` for ``fit``.
        shuffle, seed: passed to ``make_dataset`` (only with ``batch_size``).
        limit: stop after this many images (in sorted order) are loaded.

    Unreadable files (corrupt, truncated) are skipped with one warning.

    Raises:
        ValueError: ``path`` missing, empty, not a folder or holding no
            images; sizes differ without ``image_size``; loose images next
            to class folders; bad arguments.

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for cls, colour in [("cats", "red"), ("dogs", "blue")]:
        ...     (root / cls).mkdir()
        ...     Image.new("RGB", (8, 8), colour).save(root / cls / "a.png")
        ...     Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(root / cls / "b.png")
        >>> data = from_directory(root, image_size=8)
        >>> data.images.shape, data.labels.tolist(), data.class_names
        ((4, 8, 8, 3), [0, 0, 1, 1], ('cats', 'dogs'))
        >>> float(data.images[1].min())   # transparent -> white
        1.0
        >>> ds, steps = from_directory(root, image_size=8, batch_size=2)
        >>> steps
        2
    """
    path = os.fspath(path)
    if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}.")
    files = _check_folder(path)
    class_names, label_of = _infer_labels(path, files, labels)
    raw, kept, skipped = read_images(path, files, image_size, channels, limit)
    images = to_float(raw)
    label_array = None
    if label_of is not None:
        label_array = np.array([label_of[f] for f in kept], dtype=np.int32)
    if batch_size is None:
        return FolderImages(images, label_array, class_names, kept, skipped)
    from keras_gans.datasets import make_dataset

    return make_dataset(images, batch_size, labels=label_array, shuffle=shuffle, seed=seed)

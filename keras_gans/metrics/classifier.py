"""A small CNN that judges generated 28x28 digits / clothes.

The committed weights (``keras_gans/metrics/weights/<name>_classifier.weights.h5``)
are made by ``python benchmarks/train_domain_classifier.py``. The network is
built from ``keras.layers`` only, so it loads and runs on the TensorFlow, JAX
and PyTorch backends alike.
"""
import functools
import os

import keras
import numpy as np

from keras_gans.utils.images import check_image_array

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
TRAIN_SCRIPT = "benchmarks/train_domain_classifier.py"
DATASETS = ("mnist", "fashion_mnist")
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)


def weights_path(dataset):
    """Path of the committed weights file for ``dataset``.

    Example:
        >>> os.path.basename(weights_path("mnist"))
        'mnist_classifier.weights.h5'
    """
    _check_dataset(dataset)
    return os.path.join(WEIGHTS_DIR, f"{dataset}_classifier.weights.h5")


def _check_dataset(dataset):
    if dataset not in DATASETS:
        raise ValueError(
            f"No domain classifier for {dataset!r}; known: "
            f"{', '.join(repr(d) for d in DATASETS)}"
        )


class DomainClassifier(keras.Model):
    """10-way softmax CNN on ``(28, 28, 1)`` images scaled to ``[-1, 1]``.

    Layers: Conv(32, 3x3) -> MaxPool -> Conv(64, 3x3) -> MaxPool ->
    Conv(64, 3x3, valid) -> Flatten -> Dropout -> Dense(128) -> Dropout ->
    Dense(10, softmax). About 0.26 M parameters (~1 MB of weights).

    The committed weights were trained with outlier exposure (synthetic
    garbage images with a uniform target), so noise and blobs get a low top
    probability instead of a confident wrong class.

    Example:
        >>> import numpy as np
        >>> clf = DomainClassifier.load("mnist")          # trained weights
        >>> images = np.zeros((2, 28, 28, 1), "float32")  # in [-1, 1]
        >>> clf.predict(images, verbose=0).shape
        (2, 10)
        >>> fresh = DomainClassifier(dataset="mnist")     # untrained, to fit
    """

    def __init__(self, dataset=None, name=None, **kwargs):
        inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
        x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Conv2D(64, 3, padding="valid", activation="relu")(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dropout(0.3)(x)
        x = keras.layers.Dense(128, activation="relu")(x)
        x = keras.layers.Dropout(0.3)(x)
        outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax")(x)
        if name is None:
            name = f"{dataset}_classifier" if dataset else "domain_classifier"
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self.dataset = dataset

    @classmethod
    def load(cls, dataset="mnist"):
        """Build the classifier for ``dataset`` and load its committed weights.

        Raises:
            ValueError: unknown ``dataset``.
            FileNotFoundError: the weights file is missing (the message names
                the script that makes it).

        Example:
            >>> clf = DomainClassifier.load("fashion_mnist")
        """
        path = weights_path(dataset)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Domain classifier weights for {dataset!r} not found at {path}. "
                f"Make them with: python {TRAIN_SCRIPT}"
            )
        model = cls(dataset=dataset)
        model.load_weights(path)
        model.trainable = False
        return model


@functools.lru_cache(maxsize=None)
def _cached_classifier(dataset, backend):
    # ``backend`` is part of the key only so that a cache never outlives a
    # (rare) in-process backend switch.
    return DomainClassifier.load(dataset)


def _validate_images(images):
    if isinstance(images, np.ndarray):
        x = images
    else:  # a backend tensor (or a list)
        try:
            x = np.asarray(keras.ops.convert_to_numpy(images))
        except Exception:
            x = np.asarray(images)
    if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"classify_samples expects images of shape (N, 28, 28, 1); got "
            f"{tuple(x.shape)}."
        )
    x = check_image_array(x, "classify_samples").astype(np.float32, copy=False)
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.5 or hi > 1.5:
        raise ValueError(
            f"classify_samples expects images scaled to [-1, 1]; values span "
            f"[{lo:.3g}, {hi:.3g}]. Convert uint8 data with x / 127.5 - 1."
        )
    # Small overshoots (a generator without a final tanh) are clipped.
    return np.clip(x, -1.0, 1.0)


def classify_samples(images, dataset="mnist", threshold=0.9, batch_size=500):
    """Judge images with the committed domain classifier.

    Args:
        images: float array (or backend tensor) of shape ``(N, 28, 28, 1)``
            with values in ``[-1, 1]`` (a tanh generator's output).
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        threshold: an image is "confident" when its top softmax probability
            is above this.
        batch_size: prediction batch size (the input is zero-padded to a
            multiple of it, so repeated calls reuse one compiled function).

    Returns:
        dict with ``confident_share`` (fraction of images whose top
        probability > ``threshold``), ``class_histogram`` (10 fractions of the
        argmax classes, summing to 1), ``min_class_share`` (smallest entry of
        the histogram: 0 means a class is never produced, a sign of mode
        collapse), ``mean_confidence`` (mean top probability) and ``n``.

    Raises:
        ValueError: wrong shape, non-float dtype, empty input, non-finite
            values, or values far outside ``[-1, 1]`` (beyond +-1.5; smaller
            overshoots are clipped).

    Example:
        >>> from keras_gans import datasets
        >>> x = datasets.load("mnist", "test")[:1000]
        >>> report = classify_samples(x, "mnist")
        >>> report["confident_share"] > 0.9, report["min_class_share"] > 0.05
        (True, True)
    """
    _check_dataset(dataset)
    x = _validate_images(images)
    model = _cached_classifier(dataset, keras.backend.backend())
    n = int(len(x))
    # Pad to whole batches so every call sees one shape: no retracing (TF)
    # or recompiling (JAX) for each new sample count.
    padded = -(-n // batch_size) * batch_size
    if padded != n:
        x = np.concatenate([x, np.zeros((padded - n,) + x.shape[1:], x.dtype)])
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    probs = np.asarray(probs)[:n]
    top = probs.max(axis=1)
    classes = probs.argmax(axis=1)
    hist = np.bincount(classes, minlength=NUM_CLASSES).astype(np.float64) / n
    return {
        "confident_share": float(np.mean(top > threshold)),
        "class_histogram": [float(v) for v in hist],
        "min_class_share": float(hist.min()),
        "mean_confidence": float(top.mean()),
        "n": n,
    }

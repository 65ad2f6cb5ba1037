"""Label-based measures with the domain classifier (28x28 MNIST / Fashion-MNIST).

* :func:`conditional_accuracy`: do a conditional GAN's samples show the class
  they were asked for? (share whose classifier argmax is the requested label)
* :func:`class_coverage`: which classes do (unconditional) samples cover?
  (class histogram of the confidently classified samples, modes covered)
* :func:`evaluate_conditional`: both, per class, for a conditional GAN.

They use the committed classifier of :mod:`keras_gans.metrics.classifier`
(the one :func:`~keras_gans.metrics.classify_samples` uses), on images of
shape ``(N, 28, 28, 1)`` in ``[-1, 1]``.

Example:
    >>> import numpy as np
    >>> from keras_gans import datasets
    >>> x, y = datasets.load("mnist", "test", labels=True)
    >>> conditional_accuracy(x[:200], y[:200]) > 0.95
    True
    >>> class_coverage(x[:200])["modes_covered"]
    10
"""

import keras
import numpy as np

from keras_gans.metrics import classifier as _clf
from keras_gans.utils.checks import at_least

NUM_CLASSES = _clf.NUM_CLASSES


def class_probabilities(images, dataset="mnist", batch_size=500):
    """The domain classifier's softmax, float64 ``(N, 10)``.

    Same checks, classifier and fixed-shape batching as
    :func:`~keras_gans.metrics.classify_samples`.

    Example:
        >>> class_probabilities(np.zeros((3, 28, 28, 1), "float32")).shape
        (3, 10)
    """
    _clf._check_dataset(dataset)
    x = _clf._validate_images(images)
    model = _clf._cached_classifier(dataset, keras.backend.backend())
    n = int(len(x))
    padded = -(-n // batch_size) * batch_size  # one compiled shape per batch size
    if padded != n:
        x = np.concatenate([x, np.zeros((padded - n,) + x.shape[1:], x.dtype)])
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(probs, dtype=np.float64)[:n]


def _check_labels(labels, n):
    from keras_gans.models.conditional import check_label_array

    return check_label_array(labels, NUM_CLASSES, n=n, context="labels")


def _check_threshold(threshold):
    if threshold is not None and not 0.0 <= float(threshold) < 1.0:
        raise ValueError(f"threshold must be in [0, 1) or None; got {threshold}.")


def _hits(probs, labels, threshold):
    hits = probs.argmax(axis=1) == labels
    if threshold is not None:
        hits &= probs.max(axis=1) > float(threshold)
    return hits


def conditional_accuracy(images, labels, dataset="mnist", threshold=None):
    """Share of images whose classifier argmax equals the requested label.

    Args:
        images: ``(N, 28, 28, 1)`` floats in ``[-1, 1]``.
        labels: the requested class ids, ``(N,)`` or ``(N, 1)`` ints in [0, 10).
        dataset: ``"mnist"`` or ``"fashion_mnist"``: which classifier.
        threshold: if set, an image counts as correct only when its top
            probability is also above ``threshold`` (unrecognisable images
            never count); the share is still over all ``N`` images.

    Returns:
        float in ``[0, 1]``. Chance level is about 0.1.

    Example:
        >>> from keras_gans import datasets
        >>> x, y = datasets.load("mnist", "test", labels=True)
        >>> round(conditional_accuracy(x[:100], y[:100], threshold=0.5), 2)
        1.0
        >>> conditional_accuracy(x[:100], (y[:100] + 1) % 10)
        0.0
    """
    _check_threshold(threshold)
    probs = class_probabilities(images, dataset)
    labels = _check_labels(labels, len(probs))
    return float(_hits(probs, labels, threshold).mean())


def class_coverage(images, dataset="mnist", threshold=0.9, min_share=0.01):
    """Class histogram of the confidently classified images and modes covered.

    An image is *confident* when the classifier's top probability is above
    ``threshold``; a class is a *covered mode* when its share among the
    confident images is at least ``min_share``.

    Returns:
        dict with ``class_histogram`` (10 shares of the confident images'
        classes; sums to 1, all zero when none is confident),
        ``modes_covered`` (int), ``missing_classes`` (ids not covered),
        ``confident_share`` (confident images / all), ``n`` and
        ``n_confident``.

    Example:
        >>> from keras_gans import datasets
        >>> x = datasets.load("mnist", "test")[:1]
        >>> report = class_coverage(np.repeat(x, 50, axis=0))
        >>> report["modes_covered"], report["missing_classes"]
        (1, [0, 1, 2, 3, 4, 5, 6, 8, 9])
    """
    _check_threshold(threshold)
    if not 0.0 < float(min_share) <= 1.0:
        raise ValueError(f"min_share must be in (0, 1]; got {min_share}.")
    probs = class_probabilities(images, dataset)
    confident = probs.max(axis=1) > (0.0 if threshold is None else float(threshold))
    counts = np.bincount(probs.argmax(axis=1)[confident], minlength=NUM_CLASSES)
    total = int(confident.sum())
    hist = counts / total if total else np.zeros(NUM_CLASSES)
    covered = (hist >= float(min_share)) & (counts > 0)
    return {
        "class_histogram": [float(v) for v in hist],
        "modes_covered": int(covered.sum()),
        "missing_classes": [int(c) for c in np.flatnonzero(~covered)],
        "confident_share": total / len(probs),
        "n": int(len(probs)),
        "n_confident": total,
    }


def evaluate_conditional(gan, dataset="mnist", n_per_class=100, seed=0,
                         threshold=None):
    """Accuracy of a conditional GAN's samples w.r.t. their labels.

    Generates ``n_per_class`` images for every class with
    ``gan.generate(labels=..., latents=...)`` (latents drawn with numpy from
    ``seed``, so the same on every backend) and classifies them.

    Args:
        gan: a conditional model with ``num_classes`` (10) and
            ``generate(labels=..., latents=...)`` (``CGAN``, ``ACGAN``,
            ``ProjectionGAN``, any ``ConditionalGAN``).
        dataset: which domain classifier.
        threshold: see :func:`conditional_accuracy`.

    Returns:
        dict with ``accuracy``, ``per_class_accuracy`` (10 floats),
        ``min_class_accuracy``, ``confident_share`` (top probability > 0.9),
        ``n_per_class``, ``seed`` and ``dataset``.

    Example:
        >>> from keras_gans.models import CGAN
        >>> gan = CGAN(num_classes=10, latent_dim=8, base_filters=4, seed=0)
        >>> report = evaluate_conditional(gan, "mnist", n_per_class=2)
        >>> len(report["per_class_accuracy"]), 0 <= report["accuracy"] <= 1
        (10, True)
    """
    from keras_gans.core import sample_latents
    from keras_gans.models.self_conditioned import is_conditional
    from keras_gans.models.self_conditioned import labels_itself

    num_classes = getattr(gan, "num_classes", None)
    if labels_itself(gan):
        raise ValueError(
            f"{type(gan).__name__}'s labels are clusters of its training images, not "
            "the dataset's classes; score its samples with class_coverage(samples).")
    if num_classes is None or not is_conditional(gan):
        raise ValueError(
            f"evaluate_conditional needs a conditional GAN with num_classes and "
            f"generate(labels=...); {type(gan).__name__} has not. For an "
            f"unconditional model use class_coverage(samples).")
    if int(num_classes) != NUM_CLASSES:
        raise ValueError(
            f"The domain classifier knows {NUM_CLASSES} classes; the GAN has "
            f"num_classes={num_classes}.")
    n_per_class = at_least(n_per_class, 1, "n_per_class")
    _check_threshold(threshold)
    _clf._check_dataset(dataset)
    labels = np.repeat(np.arange(NUM_CLASSES, dtype="int32"), n_per_class)
    latents = sample_latents(len(labels), int(gan.latent_dim), seed)
    images = np.asarray(gan.generate(labels=labels, latents=latents))
    probs = class_probabilities(images, dataset)
    hits = _hits(probs, labels, threshold).reshape(NUM_CLASSES, n_per_class)
    per_class = hits.mean(axis=1)
    return {
        "accuracy": float(hits.mean()),
        "per_class_accuracy": [float(v) for v in per_class],
        "min_class_accuracy": float(per_class.min()),
        "confident_share": float(np.mean(probs.max(axis=1) > 0.9)),
        "n_per_class": n_per_class,
        "seed": int(seed),
        "dataset": dataset,
    }

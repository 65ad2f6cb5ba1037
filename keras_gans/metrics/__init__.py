"""Metrics for judging generated samples.

Example:
    >>> from keras_gans.metrics import classify_samples
    >>> classify_samples(fake_images, dataset="mnist")  # doctest: +SKIP
    {'confident_share': 0.93, 'class_histogram': [...], 'min_class_share': 0.07, ...}
"""
from keras_gans.metrics.classifier import DomainClassifier, classify_samples

__all__ = ["DomainClassifier", "classify_samples"]

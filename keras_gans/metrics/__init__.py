"""Metrics for judging generated samples.

* :mod:`~keras_gans.metrics.classifier`: the domain classifier (class
  histogram, confident share) for 28x28 digits / clothes.
* :mod:`~keras_gans.metrics.distribution`: FID, KID, precision/recall and
  density/coverage on the FID Inception network's features
  (:mod:`~keras_gans.metrics.inception`), each printed with its protocol.
* :mod:`~keras_gans.metrics.translation`: L1, SSIM and a test-pair report
  (KID, identity baseline, cycle error) for image-to-image models.

Example:
    >>> from keras_gans.metrics import classify_samples, FID
    >>> classify_samples(fake_images, dataset="mnist")  # doctest: +SKIP
    {'confident_share': 0.93, 'class_histogram': [...], 'min_class_share': 0.07, ...}
    >>> print(FID("mnist", n=10000)(generator))         # doctest: +SKIP
    FID = 12.345 | protocol: FID InceptionV3 pool3 ... N=10000, reference=mnist:test ...
"""
from keras_gans.metrics.callback import EvaluationCallback
from keras_gans.metrics.classifier import DomainClassifier, classify_samples
from keras_gans.metrics.distribution import (
    FID,
    KID,
    DensityCoverage,
    Evaluator,
    PrecisionRecall,
    Protocol,
    Result,
    density_coverage,
    evaluate,
    fid_from_features,
    frechet_distance,
    kid_from_features,
    load_folder,
    precision_recall,
)
from keras_gans.metrics.inception import InceptionFeatures, WeightsError
from keras_gans.metrics.inception_score import (
    InceptionScore,
    InceptionScoreUnavailable,
    inception_score,
)
from keras_gans.metrics.bootstrap import bootstrap_interval
from keras_gans.metrics.translation import l1_error, paired_gain, ssim, translation_report
from keras_gans.metrics.labels import (
    class_coverage,
    class_probabilities,
    conditional_accuracy,
    evaluate_conditional,
)

__all__ = [
    "DensityCoverage", "DomainClassifier", "EvaluationCallback", "Evaluator",
    "FID", "InceptionFeatures", "KID", "PrecisionRecall", "Protocol", "Result",
    "WeightsError", "classify_samples", "density_coverage", "evaluate",
    "fid_from_features", "frechet_distance", "kid_from_features", "load_folder",
    "precision_recall",
    "InceptionScore", "InceptionScoreUnavailable", "inception_score",
    "class_coverage", "class_probabilities", "conditional_accuracy",
    "evaluate_conditional", "bootstrap_interval", "l1_error", "paired_gain", "ssim", "translation_report",
]

"""Paired-image metrics for translation models: L1, SSIM, and a report that
adds KID against the target domain and the cycle reconstruction error.

Images are float arrays in ``[-1, 1]`` (the models' range); SSIM is taken
on ``[0, 1]``. Everything is numpy, float64, identical on every backend.
"""
import numpy as np

from keras_gans.metrics.bootstrap import bootstrap_interval


def _as_unit(images, name):
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"{name} must be (N, height, width, channels) images, got {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or inf values.")
    return (x + 1.0) / 2.0


def _same_shape(x, y):
    if x.shape != y.shape:
        raise ValueError(f"Image sets differ in shape: {x.shape} vs {y.shape}.")


def l1_error(x, y, per_image=False):
    """Mean absolute difference of two image sets in ``[-1, 1]`` units.

    Returns the mean over images, or one value per image with `per_image`.

    Example:
        >>> import numpy as np
        >>> l1_error(np.zeros((1, 2, 2, 1)), np.ones((1, 2, 2, 1)))
        1.0
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _same_shape(x, y)
    values = np.abs(x - y).reshape(len(x), -1).mean(axis=1)
    return values if per_image else float(values.mean())


def paired_gain(model_scores, baseline_scores, resamples=2000, seed=0):
    """How much a model beats a baseline on the same images, with the
    sampling error of a finite test set.

    Takes per-image scores where higher is better (negate errors) and
    returns the mean gain, a bootstrap 95% interval of it (images
    resampled with replacement), and the share of images the model wins.
    An interval that excludes 0 is a difference this test set resolves.

    Example:
        >>> gain = paired_gain([0.9, 0.8, 0.7, 0.9], [0.5, 0.6, 0.7, 0.5])
        >>> gain["mean"], gain["wins"], gain["ci95"][0] > 0
        (0.25, 0.75, True)
    """
    model_scores = np.asarray(model_scores, np.float64)
    baseline_scores = np.asarray(baseline_scores, np.float64)
    if model_scores.ndim != 1 or model_scores.shape != baseline_scores.shape or not len(model_scores):
        raise ValueError("paired_gain needs two equal-length score vectors (one score per "
                         f"image); got {model_scores.shape} and {baseline_scores.shape}.")
    diff = model_scores - baseline_scores
    low, high = bootstrap_interval(diff, np.mean, resamples, seed)
    return {"mean": round(float(diff.mean()), 6), "ci95": [round(float(low), 6), round(float(high), 6)],
            "wins": round(float(np.mean(diff > 0)), 4)}


def _gaussian_window(size=11, sigma=1.5):
    offsets = np.arange(size) - (size - 1) / 2.0
    window = np.exp(-(offsets**2) / (2.0 * sigma**2))
    return window / window.sum()


def _filter(x, window):
    """Separable 'valid' Gaussian filter over axes 1 and 2 of (N, H, W, C)."""
    size = len(window)
    rows = np.lib.stride_tricks.sliding_window_view(x, size, axis=1) @ window
    return np.lib.stride_tricks.sliding_window_view(rows, size, axis=2) @ window


def ssim(x, y, window_size=11, sigma=1.5, per_image=False):
    """Structural similarity (Wang et al. 2004) of two image sets in ``[-1, 1]``.

    The standard settings: images mapped to ``[0, 1]`` (data range 1),
    an 11x11 Gaussian window with sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``,
    population (co)variances, the SSIM map averaged over the window
    positions fully inside the image and over channels (as
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    use_sample_covariance=False, data_range=1)``).

    Returns the mean over images, or one value per image with `per_image`.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3))
        >>> ssim(x, x)
        1.0
        >>> ssim(x, -x) < 0
        True
    """
    x, y = _as_unit(x, "x"), _as_unit(y, "y")
    _same_shape(x, y)
    if min(x.shape[1:3]) < window_size:
        raise ValueError(
            f"SSIM's {window_size}x{window_size} window needs images at least that "
            f"large, got {x.shape[1]}x{x.shape[2]}."
        )
    c1, c2 = 0.01**2, 0.03**2
    window = _gaussian_window(window_size, sigma)
    mu_x, mu_y = _filter(x, window), _filter(y, window)
    var_x = _filter(x * x, window) - mu_x**2
    var_y = _filter(y * y, window) - mu_y**2
    cov = _filter(x * y, window) - mu_x * mu_y
    score = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    values = score.reshape(len(x), -1).mean(axis=1)
    return values if per_image else _mean_ssim(values)


def translation_report(model, a, b, direction="a2b", cycle=None, kid=True,
                       kid_subset_size=200, batch_size=64):
    """Scores a translation model on aligned test pairs ``(a, b)``.

    Returns a dict with ``l1`` and ``ssim`` of ``translate(a)`` against
    ``b``; ``kid`` / ``kid_std`` of the translated images against ``b``
    (FID Inception features, 100 subsets of ``kid_subset_size``) with its
    protocol; the same three for the identity baseline (output = input,
    when ``a`` and ``b`` have the same shape) under ``identity``; and, for
    models that translate both ways (``cycle`` None means "if the model
    can"), ``cycle_l1``, the L1 error of ``a -> b -> a``. With the identity
    baseline also ``gain_over_identity``: per metric, `paired_gain` of the
    model over the identity on the same images (``l1``: identity L1 minus
    the model's; ``ssim``: the model's minus identity's).

    Example (any object with the models' `translate` works):
        >>> class Negate:
        ...     generator_names = {"a2b": None, "b2a": None}
        ...     def translate(self, images, direction="a2b", batch_size=64):
        ...         return -images
        >>> x = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3))
        >>> report = translation_report(Negate(), x, -x, kid=False)
        >>> report["l1"], report["ssim"], report["cycle_l1"]
        (0.0, 1.0, 0.0)
        >>> sorted(report)
        ['cycle_l1', 'gain_over_identity', 'identity', 'l1', 'n', 'ssim']
        >>> report["gain_over_identity"]["l1"]["wins"]
        1.0
    """
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if len(a) != len(b):
        raise ValueError(f"translation_report needs aligned pairs; got {len(a)} a and {len(b)} b.")
    reverse = {"a2b": "b2a", "b2a": "a2b"}[direction]
    out = model.translate(a, direction=direction, batch_size=batch_size)
    scores, (l1_each, ssim_each) = _scores(out, b)
    report = {"n": len(a), **scores}
    kid_of = _kid_scorer(b, kid_subset_size) if kid else None
    if kid_of:
        report.update(kid_of(out))
    if a.shape == b.shape:
        report["identity"], (l1_base, ssim_base) = _scores(a, b)
        report["gain_over_identity"] = {"l1": paired_gain(-l1_each, -l1_base),
                                        "ssim": paired_gain(ssim_each, ssim_base)}
        if kid_of:
            report["identity"].update(kid_of(a))
    if cycle is None:
        cycle = reverse in getattr(model, "generator_names", {})
    if cycle:
        back = model.translate(out, direction=reverse, batch_size=batch_size)
        report["cycle_l1"] = l1_error(back, a)
    return report


def _scores(x, y):
    """`{"l1", "ssim"}` of `x` against `y` as `l1_error` and `ssim` give
    them, and the per-image values they average (for `paired_gain`)."""
    l1_each, ssim_each = l1_error(x, y, per_image=True), ssim(x, y, per_image=True)
    return {"l1": float(l1_each.mean()), "ssim": _mean_ssim(ssim_each)}, (l1_each, ssim_each)


def _mean_ssim(values):
    return round(float(values.mean()), 12)


def _kid_scorer(reference, subset_size):
    from keras_gans.metrics.distribution import Evaluator

    evaluator = Evaluator(metrics=("kid",), reference=reference,
                          kid_subset_size=min(subset_size, len(reference)), verbose=0)

    def score(images):
        result = evaluator(images)
        return {"kid": float(result["kid"]), "kid_std": float(result["kid_std"]),
                "kid_protocol": str(result.protocol)}

    return score

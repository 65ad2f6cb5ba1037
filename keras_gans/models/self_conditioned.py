"""Self-conditioned GAN (Liu et al., CVPR 2020): an unconditional GAN that
conditions both networks on clusters of its training images.

An unconditional generator must map one connected Gaussian onto data made
of separate classes, so some of its samples fall between them (on MNIST: a
DCGAN's malformed in-between digits). Clustering the training images
without labels and training a class-conditional GAN on the cluster ids
splits that mapping into many small ones; sampling draws a cluster from the
clusters' frequencies, so the model stays unconditional. The paper clusters
the discriminator's features during training; this variant clusters the
pixels once, before training (k-means++ on their top principal components),
which is cheap and enough for digits.
"""
import inspect
import math

import keras
import numpy as np

from keras_gans.models.conditional import CGAN
from keras_gans.utils import check_image_array
from keras_gans.utils.images import is_array
from keras_gans.utils.checks import at_least


def labels_itself(model):
    """Whether a variant (class or instance) makes its own training labels
    from the images (SelfConditionedGAN's clusters) instead of reading class
    labels: such a model is unconditional to its users.

    >>> from keras_gans.models import CGAN, SelfConditionedGAN
    >>> labels_itself(SelfConditionedGAN), labels_itself(CGAN)
    (True, False)
    """
    return hasattr(model, "assign_clusters")


def is_conditional(model):
    """Whether a variant's (class or instance) `generate()` takes class
    labels that its users pick: True for CGAN-like models; False for
    unconditional ones, for SGAN (trained on labels, samples without) and
    for SelfConditionedGAN (which draws its own clusters).

    >>> from keras_gans.models import CGAN, DCGAN, SGAN, SelfConditionedGAN
    >>> [is_conditional(m) for m in (CGAN, DCGAN, SGAN, SelfConditionedGAN)]
    [True, False, False, False]
    """
    generate = getattr(model, "generate", None)
    takes_labels = generate is not None and "labels" in inspect.signature(generate).parameters
    return takes_labels and not labels_itself(model)


def kmeans(features, num_clusters, iterations=30, seed=0):
    """k-means++ (Arthur & Vassilvitskii 2007) then Lloyd's iterations.

    Returns `(centers (num_clusters, dim), assignments (n,) int32)`.

    >>> rng = np.random.default_rng(0)
    >>> blobs = np.concatenate([rng.normal(c, 0.1, (50, 2)) for c in (1.0, 5.0, 10.0)])
    >>> centers, ids = kmeans(blobs, 3)
    >>> sorted(np.round(centers[:, 0]).tolist()), len(set(ids[:50])), len(set(ids))
    ([1.0, 5.0, 10.0], 1, 3)
    """
    x = np.asarray(features, dtype=np.float64)
    if len(x) < num_clusters:
        raise ValueError(
            f"Cannot make {num_clusters} clusters from {len(x)} images; pass "
            "more images or a smaller num_clusters."
        )
    rng = np.random.default_rng(seed)
    centers = [x[rng.integers(len(x))]]
    nearest = ((x - centers[0]) ** 2).sum(1)
    for _ in range(1, num_clusters):
        total = nearest.sum()
        pick = rng.choice(len(x), p=nearest / total) if total > 0 else rng.integers(len(x))
        centers.append(x[pick])
        nearest = np.minimum(nearest, ((x - centers[-1]) ** 2).sum(1))
    centers = np.stack(centers)
    for _ in range(iterations):
        ids = _nearest(x, centers)
        sums = np.zeros_like(centers)
        np.add.at(sums, ids, x)
        counts = np.bincount(ids, minlength=num_clusters)[:, None]
        # An emptied cluster keeps its center rather than becoming NaN.
        centers = np.where(counts > 0, sums / np.maximum(counts, 1), centers)
    return centers, _nearest(x, centers)


def _project(flat, mean, basis):
    """Centred pixels on the principal axes, as float64 for k-means (the
    same arithmetic when clustering and when assigning later)."""
    return ((flat - mean) @ basis).astype(np.float64)


def _nearest(x, centers):
    distances = (x**2).sum(1, keepdims=True) - 2.0 * x @ centers.T + (centers**2).sum(1)
    return distances.argmin(1).astype("int32")


@keras.saving.register_keras_serializable(package="keras_gans")
class SelfConditionedGAN(CGAN):
    """Unconditional DCGAN made of a CGAN over k-means clusters of the images.

    `fit(images)` first clusters the images (if the model has not clustered
    yet): pixels centred, projected on their top `components` principal
    components, k-means++ into `num_clusters` clusters. The projection, the
    centers and the clusters' frequencies are weights of the model, so they
    are saved with it and a later `fit` assigns images to the same
    clusters. Training is CGAN's with the cluster ids as labels; no labels
    of the data are used. `generate(n)` draws each sample's cluster from
    the clusters' frequencies (`generate(labels=...)` picks clusters).

    With a dataset instead of arrays, cluster first and feed the ids:
    `ids = gan.cluster(images)`, then a dataset of `(images, ids)`.

    Args:
        image_shape: `(height, width, channels)`.
        num_clusters: number of clusters (more clusters are purer; 40-200
            suit MNIST's 60,000 digits).
        components: principal components the clustering uses.
        latent_dim, base_filters, embedding_dim, discriminator_batch_norm,
            discriminator_dropout, generator, discriminator: as in `CGAN`.
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `ema_decay`,
            `penalties`).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import SelfConditionedGAN
    >>> gan = SelfConditionedGAN(num_clusters=4, components=8, latent_dim=8,
    ...                          base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, verbose=0)
    >>> round(float(gan.cluster_prior.numpy().sum()), 3), gan.generate(3).shape
    (1.0, (3, 28, 28, 1))
    """

    def __init__(self, image_shape=(28, 28, 1), num_clusters=100, components=50,
                 latent_dim=100, base_filters=64, **kwargs):
        if "num_classes" in kwargs:
            raise ValueError(
                "SelfConditionedGAN's classes are its clusters: pass "
                "num_clusters, not num_classes (CGAN takes labelled classes)."
            )
        super().__init__(image_shape=image_shape, num_classes=num_clusters,
                         latent_dim=latent_dim, base_filters=base_filters, **kwargs)
        pixels = math.prod(self.image_shape)
        components = at_least(components, 1, "components")
        if components > pixels:
            raise ValueError(f"components must be in [1, {pixels}], got {components}.")
        self.num_clusters, self.components = int(num_clusters), components

        def state(name, shape):
            return self.add_weight(shape=shape, initializer="zeros", trainable=False,
                                   name=name, dtype="float32")

        self.cluster_mean = state("cluster_mean", (pixels,))
        self.cluster_basis = state("cluster_basis", (pixels, components))
        self.cluster_centers = state("cluster_centers", (self.num_clusters, components))
        # All zeros until `cluster` runs: the "not clustered yet" mark.
        self.cluster_prior = state("cluster_prior", (self.num_clusters,))

    @property
    def clustered(self):
        return float(np.sum(keras.ops.convert_to_numpy(self.cluster_prior))) > 0

    def _features(self, images):
        """Flattened float32 pixels of a checked numpy image batch."""
        images = check_image_array(np.asarray(images), "SelfConditionedGAN")
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"{type(self).__name__} was built for images of shape "
                f"{self.image_shape}; got {tuple(images.shape)}."
            )
        return images.reshape(len(images), -1).astype(np.float32, copy=False)

    def cluster(self, images, iterations=30, max_pca_images=10_000):
        """Clusters `images` (numpy, like the training data), stores the
        clustering in the model and returns each image's cluster id."""
        flat = self._features(images)
        mean = flat.mean(0)
        rng = np.random.default_rng(self.seed)
        rows = rng.permutation(len(flat))[:max_pca_images]
        # Principal axes from a subsample: the same axes as the full set's
        # to within sampling error, at a fraction of the SVD's cost.
        _, _, axes = np.linalg.svd(flat[rows] - mean, full_matrices=False)
        basis = axes[: self.components].T
        if basis.shape[1] < self.components:
            raise ValueError(
                f"components={self.components} needs at least that many images; "
                f"got {len(flat)}."
            )
        centers, ids = kmeans(_project(flat, mean, basis), self.num_clusters,
                              iterations, seed=self.seed)
        prior = np.bincount(ids, minlength=self.num_clusters) / len(ids)
        for variable, value in ((self.cluster_mean, mean), (self.cluster_basis, basis),
                                (self.cluster_centers, centers),
                                (self.cluster_prior, prior)):
            variable.assign(value.astype("float32"))
        return ids

    def assign_clusters(self, images):
        """Cluster id of each image under the stored clustering."""
        if not self.clustered:
            raise ValueError(
                "This model has not clustered any images yet: call "
                "fit(images) or cluster(images) first."
            )
        to_numpy = keras.ops.convert_to_numpy
        features = _project(self._features(images), to_numpy(self.cluster_mean),
                            to_numpy(self.cluster_basis))
        return _nearest(features, to_numpy(self.cluster_centers).astype(np.float64))

    def fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
        """`fit(images)`: clusters the images (first time only) and trains
        on `(images, cluster ids)`. A dataset must yield `(images, ids)`
        from `assign_clusters`/`cluster`."""
        if is_array(x):
            if y is not None:
                raise ValueError(
                    "SelfConditionedGAN learns without labels: call "
                    "fit(images) and it clusters them. To train on class "
                    "labels use CGAN."
                )
            y = self.assign_clusters(x) if self.clustered else self.cluster(x)
        elif not self.clustered:
            raise ValueError(
                "SelfConditionedGAN.fit clusters image arrays; for a dataset, "
                "call ids = gan.cluster(images) first and feed (images, ids)."
            )
        validation = kwargs.get("validation_data")
        if is_array(validation):
            # Validation images go to the clusters fitted on the training set.
            kwargs["validation_data"] = (validation, self.assign_clusters(validation))
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        """`evaluate(images)`: the losses on the images assigned to the
        clusters found by `fit`."""
        if is_array(x) and y is None:
            if not self.clustered:
                raise ValueError(
                    "This model has no clusters yet; call fit(images) before "
                    "evaluate(images)."
                )
            y = self.assign_clusters(x)
        return super().evaluate(x, y, **kwargs)

    def sample_labels(self, n, labels=None):
        """Cluster ids for `generate`: `labels` checked, or drawn from the
        clusters' frequencies with a numpy generator seeded by `self.seed`."""
        if labels is not None or n is None:  # checked (or refused) as CGAN does
            return super().sample_labels(n, labels)
        if not self.clustered:
            raise ValueError(
                "This model has not been trained yet (it has no clusters to "
                "draw from); call fit(images) first."
            )
        prior = keras.ops.convert_to_numpy(self.cluster_prior).astype(np.float64)
        rng = np.random.default_rng(self.seed)
        return rng.choice(self.num_clusters, size=n, p=prior / prior.sum()).astype("int32")

    def get_config(self):
        config = super().get_config()
        config.pop("num_classes")
        config.update(num_clusters=self.num_clusters, components=self.components)
        return config

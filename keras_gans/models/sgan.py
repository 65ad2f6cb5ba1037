"""Semi-supervised GAN: a K-class discriminator that doubles as a classifier
(Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016;
Odena, "Semi-Supervised Learning with GANs", 2016).

Training batches are `(images, labels)` where label `-1` marks an unlabelled
image; `semi_supervised_batches` builds such a stream from a few labelled
images per class plus the whole (unlabelled) training set.
"""
import keras
import numpy as np
from keras import ops

from keras_gans import losses
from keras_gans.core import GAN
from keras_gans.models.conditional import ConditionalMixin
from keras_gans.models.conditional import class_accuracy
from keras_gans.models.conditional import class_crossentropy
from keras_gans.networks.conditional import feature_discriminator
from keras_gans.networks.dcgan import dcgan_generator
from keras_gans.utils.checks import at_least
from keras_gans.utils.checks import non_negative

UNLABELLED = -1


def _real_fake_logit(class_logits):
    """logsumexp of the K class logits: the K+1-class discriminator's
    real/fake logit with the fake class's logit fixed at 0."""
    return ops.logsumexp(ops.cast(class_logits, "float32"), axis=-1, keepdims=True)


def labelled_subset(labels, per_class, num_classes=None, seed=0):
    """Indices of `per_class` images of every class, drawn with `seed`.

    >>> idx = labelled_subset(np.arange(100) % 10, per_class=2, seed=0)
    >>> len(idx), sorted(np.bincount(np.arange(100)[idx] % 10).tolist())
    (20, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    """
    labels = np.asarray(labels).reshape(-1)
    num_classes = int(num_classes or labels.max() + 1)
    rng = np.random.default_rng(seed)
    chosen = []
    for k in range(num_classes):
        pool = np.flatnonzero(labels == k)
        if len(pool) < per_class:
            raise ValueError(f"Class {k} has {len(pool)} images; {per_class} requested.")
        chosen.append(rng.choice(pool, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


class SemiSupervisedBatches(keras.utils.PyDataset):
    """An endless stream of `(images, labels)` batches for `SGAN.fit`.

    Each batch holds `labelled_batch_size` images of the labelled set (with
    their labels; the set is cycled in a fresh random order each pass) and
    `batch_size - labelled_batch_size` images of the unlabelled pool (label
    -1), rows shuffled so that every `n_critic` chunk gets some of each.
    Reproducible from `seed`; pass `steps_per_epoch` to `fit`.

    >>> x = np.zeros((50, 28, 28, 1), "float32"); y = np.arange(50) % 10
    >>> ds = SemiSupervisedBatches(x, y, labelled_indices=np.arange(20),
    ...                            batch_size=8, labelled_batch_size=4)
    >>> images, labels = ds[0]
    >>> images.shape, int((labels >= 0).sum()), int((labels == -1).sum())
    ((8, 28, 28, 1), 4, 4)
    """

    def __init__(self, images, labels, labelled_indices, batch_size=64,
                 labelled_batch_size=None, unlabelled=None, seed=0):
        super().__init__()
        self.images = np.asarray(images)
        self.labels = np.asarray(labels).reshape(-1).astype("int32")
        self.labelled_indices = np.asarray(labelled_indices, dtype="int64")
        self.unlabelled = (np.arange(len(self.images)) if unlabelled is None
                           else np.asarray(unlabelled, dtype="int64"))
        self.batch_size = int(batch_size)
        if labelled_batch_size is None:
            labelled_batch_size = min(self.batch_size // 2, len(self.labelled_indices))
        self.labelled_batch_size = int(labelled_batch_size)
        if not 0 < self.labelled_batch_size <= self.batch_size:
            raise ValueError(
                f"labelled_batch_size must be in [1, batch_size={batch_size}]; "
                f"got {labelled_batch_size}."
            )
        if len(self.labelled_indices) == 0:
            raise ValueError("The labelled set is empty.")
        self.unlabelled_batch_size = self.batch_size - self.labelled_batch_size
        if self.unlabelled_batch_size > len(self.unlabelled):
            raise ValueError("batch_size exceeds the unlabelled pool.")
        self.steps_per_epoch = max(1, len(self.unlabelled) // max(self.unlabelled_batch_size, 1))
        self.seed = int(seed)

    def __len__(self):
        return self.steps_per_epoch

    @property
    def num_batches(self):
        return None  # endless

    def _take(self, pool, per_batch, index, salt):
        # Rows [index * per_batch, (index + 1) * per_batch) of an endless
        # sequence of random permutations of `pool`, one per pass.
        if per_batch == 0:
            return pool[:0]
        start = index * per_batch
        rows = []
        while len(rows) < per_batch:
            epoch, offset = divmod(start + len(rows), len(pool))
            perm = np.random.default_rng([self.seed, salt, epoch]).permutation(len(pool))
            take = min(per_batch - len(rows), len(pool) - offset)
            rows.extend(perm[offset : offset + take].tolist())
        return pool[np.asarray(rows)]

    def __getitem__(self, index):
        index = int(index)
        labelled = self._take(self.labelled_indices, self.labelled_batch_size, index, 1)
        unlabelled = self._take(self.unlabelled, self.unlabelled_batch_size, index, 2)
        rows = np.concatenate([labelled, unlabelled])
        labels = np.concatenate([
            self.labels[labelled],
            np.full(len(unlabelled), UNLABELLED, "int32"),
        ])
        order = np.random.default_rng([self.seed, 3, index]).permutation(len(rows))
        return self.images[rows[order]], labels[order]


def semi_supervised_batches(images, labels, labelled_per_class=10, batch_size=64,
                            labelled_batch_size=None, num_classes=None, seed=0):
    """A `SemiSupervisedBatches` stream using `labelled_per_class` labelled
    images per class (drawn with `seed`) and all `images` as the unlabelled
    pool. The labelled indices are in `.labelled_indices`.

    >>> x = np.zeros((100, 28, 28, 1), "float32"); y = np.arange(100) % 10
    >>> ds = semi_supervised_batches(x, y, labelled_per_class=1, batch_size=16)
    >>> len(ds.labelled_indices), ds.labelled_batch_size
    (10, 8)
    """
    indices = labelled_subset(labels, labelled_per_class, num_classes, seed)
    return SemiSupervisedBatches(images, labels, indices, batch_size,
                                 labelled_batch_size, seed=seed)


@keras.saving.register_keras_serializable(package="keras_gans")
class SGAN(ConditionalMixin, GAN):
    """Semi-supervised GAN whose discriminator is a `num_classes`-way
    classifier (the "K+1 classes" GAN with the fake logit fixed at 0).

    The discriminator outputs `[class logits l (batch, K), features]`. Its
    real/fake logit is `logsumexp(l)`, so `D(x) = Z(x) / (Z(x) + 1)` with
    `Z = sum_k exp(l_k)`. Its loss is the supervised cross-entropy of the
    labelled images of the batch (label >= 0) plus `unsupervised_weight`
    times the adversarial loss (non-saturating by default) of all real
    images against the fakes. The generator uses feature matching
    (`keras_gans.losses.feature_matching` on the discriminator's features,
    Salimans et al. 2016) or, with `generator_objective="adversarial"`, the
    adversarial loss. The generator is an unconditional DCGAN generator.

    Feed it `(images, labels)` with label -1 for unlabelled images, e.g.
    `semi_supervised_batches(x, y, labelled_per_class=10)`. `predict(images)`
    (or `model(images)`) returns class probabilities: the trained model is a
    classifier. `generate(n)` samples images. Logs `d_loss` (unsupervised),
    `class_loss`, `class_accuracy` (on the labelled images of each batch)
    and `g_loss`.

    Args:
        image_shape, latent_dim, base_filters: as in `DCGAN`.
        num_classes: number of classes K.
        unsupervised_weight: weight of the unsupervised term.
        generator_objective: "feature_matching" or "adversarial".
        discriminator_batch_norm: BatchNorm in the discriminator (off by
            default: labelled, unlabelled and fake batches would share
            statistics).
        discriminator_dropout: Dropout after each discriminator block.
        generator, discriminator: your own networks (the discriminator must
            output `[class logits, features]`).
        **kwargs: passed to `GAN` (`loss`, `seed`, `ema_decay`, ...).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import SGAN
    >>> from keras_gans.models.sgan import semi_supervised_batches
    >>> x = np.random.uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    >>> y = np.arange(64) % 10
    >>> gan = SGAN(num_classes=10, latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> data = semi_supervised_batches(x, y, labelled_per_class=2, batch_size=16)
    >>> history = gan.fit(data, steps_per_epoch=2, verbose=0)
    >>> probabilities = gan.predict(x[:5], verbose=0)
    >>> probabilities.shape, bool(np.allclose(probabilities.sum(1), 1, atol=1e-5))
    ((5, 10), True)
    """

    allow_unlabelled = True
    tracked_metrics = ("d_loss", "g_loss", "class_loss", "class_accuracy")

    def __init__(self, image_shape=(28, 28, 1), num_classes=10, latent_dim=100,
                 base_filters=64, unsupervised_weight=1.0,
                 generator_objective="feature_matching",
                 discriminator_batch_norm=False, discriminator_dropout=0.3,
                 generator=None, discriminator=None, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        if generator_objective not in ("feature_matching", "adversarial"):
            raise ValueError(
                "generator_objective must be 'feature_matching' or "
                f"'adversarial'; got {generator_objective!r}."
            )
        self.num_classes = at_least(num_classes, 2, "num_classes")
        if generator is None:
            generator = dcgan_generator(image_shape, latent_dim, base_filters)
        if discriminator is None:
            discriminator = feature_discriminator(
                image_shape, self.num_classes, base_filters,
                discriminator_batch_norm, discriminator_dropout,
            )
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        if self.image_shape != image_shape:
            raise ValueError(
                f"The generator makes images of shape {self.image_shape}, "
                f"not image_shape={image_shape}."
            )
        self.unsupervised_weight = non_negative(unsupervised_weight, "unsupervised_weight")
        self.generator_objective = generator_objective
        self.base_filters = base_filters
        self.discriminator_batch_norm = discriminator_batch_norm
        self.discriminator_dropout = discriminator_dropout

    def _check_networks(self):
        latents = keras.KerasTensor((None, self.latent_dim))
        image = self.generator(latents, training=False)
        outputs = self.discriminator(image, training=False)
        if (not isinstance(outputs, (list, tuple)) or len(outputs) != 2
                or tuple(outputs[0].shape[1:]) != (self.num_classes,)):
            raise ValueError(
                "SGAN's discriminator must output [class logits (batch, "
                f"{self.num_classes}), features (batch, f)]."
            )
        return tuple(int(d) for d in image.shape[1:])

    # ----------------------------------------------------------------- hooks
    def generate_images(self, latents, labels=None, training=True):
        return self.run_network(self.generator, latents, training)

    def class_logits(self, images, training=True):
        """Class logits and features of the discriminator (on augmented
        images, with `augment`)."""
        logits, features = self.discriminator_outputs(images, training)
        return logits, features

    def discriminate(self, images, labels=None, training=True):
        logits, _ = self.class_logits(images, training)
        return _real_fake_logit(logits)

    def discriminator_loss(self, real, fake, labels=None):
        real_classes, _ = self.class_logits(real)
        fake_classes, _ = self.class_logits(fake)
        unsupervised = self.loss_fn.discriminator(
            _real_fake_logit(real_classes), _real_fake_logit(fake_classes))
        mask = ops.cast(labels >= 0, "float32")
        count = ops.maximum(ops.sum(mask), 1.0)
        targets = ops.where(labels >= 0, labels, ops.zeros_like(labels))
        supervised = ops.sum(class_crossentropy(targets, real_classes) * mask) / count
        logs = {"d_loss": unsupervised, "class_loss": supervised,
                "class_accuracy": class_accuracy(targets, real_classes, mask)}
        self.adapt_augment(_real_fake_logit(real_classes), logs)
        loss = supervised + self.unsupervised_weight * unsupervised
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def generator_loss(self, real, fake, labels=None):
        fake_classes, fake_features = self.class_logits(fake)
        if self.generator_objective == "feature_matching":
            _, real_features = self.class_logits(real)
            loss = losses.feature_matching(ops.stop_gradient(real_features), fake_features)
        else:
            fake_logits = _real_fake_logit(fake_classes)
            real_logits = None
            if self.loss_fn.needs_real_logits:
                real_logits = ops.stop_gradient(self.discriminate(real))
            loss = self.loss_fn.generator(fake_logits, real_logits)
        return loss, {"g_loss": loss}

    # ------------------------------------------------------------ classifier
    def call(self, inputs, training=False):
        """Images `(batch, H, W, C)` -> class probabilities (so `predict`
        classifies); latents `(batch, latent_dim)` -> generated images."""
        if len(inputs.shape) == 2:
            return self.sampler(inputs, training=training)
        logits, _ = self.discriminator(inputs, training=training)
        return ops.softmax(ops.cast(logits, "float32"), axis=-1)

    def classifier(self):
        """A plain Keras model `images -> class probabilities` sharing the
        discriminator's layers (e.g. to `evaluate` or export)."""
        logits = self.discriminator.outputs[0]
        probs = keras.layers.Softmax(name="probabilities")(logits)
        return keras.Model(self.discriminator.inputs, probs, name="sgan_classifier")

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            num_classes=self.num_classes,
            unsupervised_weight=self.unsupervised_weight,
            generator_objective=self.generator_objective,
            base_filters=self.base_filters,
            discriminator_batch_norm=self.discriminator_batch_norm,
            discriminator_dropout=self.discriminator_dropout,
        )
        return config


__all__ = ["SGAN", "SemiSupervisedBatches", "labelled_subset", "semi_supervised_batches",
           "UNLABELLED"]

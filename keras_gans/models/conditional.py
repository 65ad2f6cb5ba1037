"""Class-conditional GANs: CGAN, ACGAN and ProjectionGAN.

They share `ConditionalGAN`, which only overrides the core GAN's hooks: a
batch is `(images, labels)` with int class ids, the generator gets
`[latents, labels]`, and fakes in a step carry the labels of the real
images they are compared with. The train step itself is the core's.
"""
import keras
import numpy as np
from keras import ops

from keras_gans import backend
from keras_gans.core import GAN
from keras_gans.core.gan import generation_latents
from keras_gans.networks.conditional import auxiliary_classifier_discriminator
from keras_gans.networks.conditional import conditional_discriminator
from keras_gans.networks.conditional import conditional_generator
from keras_gans.networks.conditional import projection_discriminator
from keras_gans.utils.images import is_array
from keras_gans.utils.checks import at_least
from keras_gans.utils.checks import non_negative


def class_crossentropy(labels, logits):
    """Per-example sparse categorical cross-entropy on logits (float32)."""
    return ops.sparse_categorical_crossentropy(
        ops.cast(labels, "int32"), ops.cast(logits, "float32"), from_logits=True
    )


def class_accuracy(labels, logits, mask=None):
    """Share of examples whose argmax class is `labels` (over `mask` if given)."""
    hits = ops.cast(ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"),
                              ops.cast(labels, "int32")), "float32")
    if mask is None:
        return backend.float32_mean(hits)
    return ops.sum(hits * mask) / ops.maximum(ops.sum(mask), 1.0)


def check_label_array(labels, num_classes, n=None, allow_unlabelled=False,
                      context="labels"):
    """Validated int32 class ids of shape `(n,)` from an array-like.

    Accepts shapes `(n,)` and `(n, 1)`; refuses non-integer values, a wrong
    length and ids outside `[0, num_classes)` (`-1`, "unlabelled", is
    allowed with `allow_unlabelled`).

    >>> check_label_array([[1], [2]], 10).tolist()
    [1, 2]
    >>> check_label_array([3, 10], 10)
    Traceback (most recent call last):
    ...
    ValueError: labels must be class ids in [0, 10); got values [10] (at index 1).
    """
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{context} must have shape (n,) or (n, 1) (one class id per "
            f"image); got shape {np.shape(labels)}."
        )
    if array.dtype.kind not in "iu" and array.size:
        raise ValueError(
            f"{context} must be integer class ids; got dtype {array.dtype} "
            "(convert with .astype('int32'))."
        )
    array = array.astype("int64")
    if n is not None and len(array) != n:
        raise ValueError(
            f"{context} has {len(array)} entries but there are {n} images."
        )
    low = -1 if allow_unlabelled else 0
    bad = np.flatnonzero((array < low) | (array >= num_classes))
    if bad.size:
        allowed = f"[0, {num_classes})" + (" or -1 (unlabelled)" if allow_unlabelled else "")
        raise ValueError(
            f"{context} must be class ids in {allowed}; got values "
            f"{sorted(set(array[bad].tolist()))[:5]} (at index {int(bad[0])})."
        )
    return array.astype("int32")


class ConditionalMixin:
    """Label handling shared by the conditional variants (and SGAN)."""

    #: whether label -1 ("unlabelled") is valid in training data
    allow_unlabelled = False
    labels_in_fit = True

    def split_batch(self, data):
        images, labels = super().split_batch(data)
        if labels is None:
            raise ValueError(
                f"{type(self).__name__} is conditional: fit() needs "
                "(images, labels) batches, e.g. fit(images, labels) or a "
                "dataset yielding (images, labels) with int class ids."
                + (" Use -1 for unlabelled images." if self.allow_unlabelled else "")
            )
        labels = self.check_labels(labels, ops.shape(images)[0])
        # Arrays were checked by fit(); a dataset's ids are checked here.
        low = -1 if self.allow_unlabelled else 0
        return backend.check_class_ids(
            images, labels, low, self.num_classes,
            f"{type(self).__name__}: labels must be class ids in [{low}, {self.num_classes})"
            + (" (-1: unlabelled)" if self.allow_unlabelled else "")
            + "; a batch of the training data holds other values. Check the dataset's labels.")

    def check_labels(self, labels, batch=None):
        """Labels of a training batch as int32 `(batch,)` (shape and dtype
        checks; `split_batch` checks the ids' range as the step runs)."""
        labels = ops.convert_to_tensor(labels)
        shape = tuple(labels.shape)
        if len(shape) == 2 and shape[1] == 1:
            labels = ops.reshape(labels, (-1,))
        elif len(shape) != 1:
            raise ValueError(
                f"{type(self).__name__} needs labels of shape (batch,) or "
                f"(batch, 1) (one int class id per image); got {shape}."
            )
        dtype = keras.backend.standardize_dtype(labels.dtype)
        if not dtype.startswith(("int", "uint")):
            raise ValueError(
                f"Labels must be integer class ids; got dtype {dtype}. "
                "Convert them with labels.astype('int32')."
            )
        if isinstance(batch, int) and shape[0] is not None and shape[0] != batch:
            raise ValueError(
                f"A batch has {batch} images but {shape[0]} labels."
            )
        return ops.cast(labels, "int32")

    def fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
        """`keras.Model.fit` on `(images, labels)`: `fit(images, labels)`,
        `fit((images, labels))` or a dataset yielding `(images, labels)`.
        Array labels are checked (shape, integer ids in range) first."""
        images, labels = x, y
        if isinstance(x, (tuple, list)) and len(x) == 2 and y is None:
            images, labels = x
        if is_array(images):
            if labels is None:
                raise ValueError(
                    f"{type(self).__name__} is conditional: call "
                    "fit(images, labels) with one int class id per image."
                )
            checked = check_label_array(labels, self.num_classes, n=len(images),
                                        allow_unlabelled=self.allow_unlabelled)
            # Keras takes arrays, not lists: pass on the checked ids.
            if y is None:
                x = (images, checked)
            else:
                y = checked
        validation = kwargs.get("validation_data")
        if is_array(validation):
            raise ValueError(
                f"{type(self).__name__} is conditional: pass "
                "validation_data=(images, labels)."
            )
        if (isinstance(validation, (tuple, list)) and len(validation) >= 2
                and is_array(validation[1]) and is_array(validation[0])):
            check_label_array(validation[1], self.num_classes, n=len(validation[0]),
                              allow_unlabelled=self.allow_unlabelled)
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)

    def sample_labels(self, n, labels=None):
        """Numpy labels for `generate`: `labels` checked, or `0, 1, ..., K-1,
        0, 1, ...` (every class in turn) when None."""
        if labels is None:
            if n is None:
                raise ValueError("generate() needs n, labels or latents.")
            return (np.arange(n) % self.num_classes).astype("int32")
        return check_label_array(labels, self.num_classes, n=n)


@keras.saving.register_keras_serializable(package="keras_gans")
class ConditionalGAN(ConditionalMixin, GAN):
    """A GAN whose generator and discriminator both see class labels.

    The generator maps `[latents (batch, latent_dim), labels (batch,)]` to
    images; the discriminator `[images, labels]` to `(batch, 1)` logits
    (variants whose discriminator sees images only override
    `discriminate`). Training data are `(images, labels)` with int labels of
    shape `(batch,)` or `(batch, 1)`; fakes in each step are generated with
    the labels of the real batch.

    Args:
        generator, discriminator: Keras models as above.
        num_classes: number of classes; labels are ids in `[0, num_classes)`.
        latent_dim: latent size; inferred from the generator's first input.
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `ema_decay`,
            `penalties`, `name`).

    Example:

    >>> import keras, numpy as np
    >>> from keras_gans.networks.conditional import (
    ...     conditional_discriminator, conditional_generator)
    >>> gan = ConditionalGAN(
    ...     conditional_generator((28, 28, 1), 8, 10, base_filters=4),
    ...     conditional_discriminator((28, 28, 1), 10, base_filters=4),
    ...     num_classes=10, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> labels = np.arange(32) % 10
    >>> _ = gan.fit(images, labels, batch_size=16, verbose=0)
    >>> gan.generate(labels=[3, 3, 7]).shape
    (3, 28, 28, 1)
    """

    def __init__(self, generator, discriminator, num_classes=10, latent_dim=None,
                 **kwargs):
        self.num_classes = at_least(num_classes, 2, "num_classes")
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)

    # ---------------------------------------------------------------- checks
    def _infer_latent_dim(self, latent_dim):
        if latent_dim is not None:
            return at_least(latent_dim, 1, "latent_dim")
        inputs = getattr(self.generator, "inputs", None)
        if not inputs:
            raise ValueError(
                "latent_dim is required when the generator has no defined "
                "inputs (e.g. an unbuilt subclassed model)."
            )
        return int(inputs[0].shape[-1])

    def symbolic_labels(self):
        """A symbolic labels batch, for checking the networks' shapes."""
        return keras.KerasTensor((None,), dtype="int32")

    def _check_networks(self):
        latents = keras.KerasTensor((None, self.latent_dim))
        labels = self.symbolic_labels()
        try:
            image = self.generate_images(latents, labels, training=False)
        except Exception as err:
            raise ValueError(
                f"{type(self).__name__}'s generator must take [latents "
                f"(batch, {self.latent_dim}), labels] and return images; "
                f"calling it failed: {err}"
            ) from err
        if len(image.shape) != 4:
            raise ValueError(f"The generator must output images; it outputs {image.shape}.")
        logits = self.discriminate(image, labels, training=False)
        if len(logits.shape) != 2 or logits.shape[-1] != 1:
            raise ValueError(
                "The discriminator must give one logit per image, shape "
                f"(batch, 1); it gives {tuple(logits.shape)}."
            )
        return tuple(int(d) for d in image.shape[1:])

    # ----------------------------------------------------------------- hooks
    def generate_images(self, latents, labels=None, training=True):
        return self.run_network(self.generator, [latents, labels], training)

    def discriminate(self, images, labels=None, training=True):
        images = self.augment_images(images, training)
        return self.run_network(self.discriminator, [images, labels], training)

    # -------------------------------------------------------------- sampling
    def call(self, inputs, training=False):
        """`model([latents, labels])` -> images from the sampler."""
        latents, labels = inputs
        return self.sampler([latents, self.check_labels(labels)], training=training)

    def generate(self, n=None, labels=None, latents=None, batch_size=256,
                 truncation=None):
        """Generated images of the given classes (numpy).

        Args:
            n: number of images (optional when `labels` or `latents` give it).
            labels: int class ids, shape `(n,)` or `(n, 1)`; default: the
                classes in turn `0, 1, ..., K-1, 0, ...`.
            latents: `(n, latent_dim)` latents; default: drawn with numpy
                from `self.seed`, so the images are reproducible on every
                backend.
            truncation: redraw latent entries beyond this magnitude.
        """
        if n is None:
            if labels is not None:
                n = len(np.asarray(labels))
            elif latents is not None:
                n = len(latents)
        labels = self.sample_labels(n, labels)
        if latents is not None and len(latents) != len(labels):
            raise ValueError(
                f"Got {len(latents)} latents but {len(labels)} labels."
            )
        latents = generation_latents(len(labels), latents, self.latent_dim, self.seed,
                                     truncation)
        return self.sampler.predict([latents, labels], batch_size=batch_size, verbose=0)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def _image_shape(image_shape):
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) != 3:
        raise ValueError(
            f"image_shape must be (height, width, channels), got {image_shape}."
        )
    return image_shape


class _ConvConditional(ConditionalGAN):
    """DCGAN-style networks for the built-in conditional variants."""

    default_loss = "non_saturating"
    default_batch_norm = True

    def __init__(self, image_shape=(28, 28, 1), num_classes=10, latent_dim=100,
                 base_filters=64, embedding_dim=None, discriminator_batch_norm=None,
                 discriminator_dropout=0.0, generator=None, discriminator=None,
                 **kwargs):
        image_shape = _image_shape(image_shape)
        if discriminator_batch_norm is None:
            discriminator_batch_norm = self.default_batch_norm
        if generator is None:
            generator = conditional_generator(
                image_shape, latent_dim, num_classes, base_filters, embedding_dim
            )
        if discriminator is None:
            discriminator = self.build_discriminator(
                image_shape, num_classes, base_filters,
                discriminator_batch_norm, discriminator_dropout,
            )
        kwargs.setdefault("loss", self.default_loss)
        super().__init__(generator, discriminator, num_classes=num_classes,
                         latent_dim=latent_dim, **kwargs)
        if self.image_shape != image_shape:
            raise ValueError(
                f"The generator makes images of shape {self.image_shape}, "
                f"not image_shape={image_shape}."
            )
        self.base_filters = base_filters
        self.embedding_dim = embedding_dim
        self.discriminator_batch_norm = discriminator_batch_norm
        self.discriminator_dropout = discriminator_dropout

    def build_discriminator(self, image_shape, num_classes, base_filters, batch_norm,
                            dropout):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": list(self.image_shape),
            "base_filters": self.base_filters,
            "embedding_dim": self.embedding_dim,
            "discriminator_batch_norm": self.discriminator_batch_norm,
            "discriminator_dropout": self.discriminator_dropout,
        }


@keras.saving.register_keras_serializable(package="keras_gans")
class CGAN(_ConvConditional):
    """Conditional GAN (Mirza & Osindero 2014) with DCGAN networks.

    A learned label embedding is concatenated to the generator's latent,
    and a learned per-class map is concatenated to the discriminator's input
    as an extra channel. Non-saturating loss and Adam(2e-4, 0.5) by default.

    Args:
        image_shape: `(height, width, channels)`.
        num_classes: number of classes.
        latent_dim: size of the Gaussian latent (the label embedding comes on
            top).
        base_filters: width of the DCGAN networks.
        embedding_dim: size of the generator's label embedding (default
            `num_classes`).
        discriminator_batch_norm, discriminator_dropout: as in `DCGAN`.
        generator, discriminator: your own networks (two-input models).
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `ema_decay`,
            `penalties`).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import CGAN
    >>> gan = CGAN(num_classes=10, latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, np.arange(32) % 10, batch_size=16, verbose=0)
    >>> gan.generate(labels=np.array([0, 1, 2, 3])).shape
    (4, 28, 28, 1)
    """

    def build_discriminator(self, image_shape, num_classes, base_filters, batch_norm,
                            dropout):
        return conditional_discriminator(image_shape, num_classes, base_filters,
                                         batch_norm, dropout)


@keras.saving.register_keras_serializable(package="keras_gans")
class ProjectionGAN(_ConvConditional):
    """GAN with a projection discriminator (Miyato & Koyama, ICLR 2018).

    The discriminator's logit is `psi(phi(x)) + <embed(y), phi(x)>`: an
    unconditional linear head on the image features `phi(x)` plus their
    inner product with a learned class embedding. Hinge loss by default,
    no BatchNorm in the discriminator; the generator is CGAN's.

    Args: as `CGAN` (`loss` defaults to "hinge").

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import ProjectionGAN
    >>> gan = ProjectionGAN(num_classes=10, latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, np.arange(32) % 10, batch_size=16, verbose=0)
    >>> gan.loss_fn.name, gan.generate(labels=[5, 6]).shape
    ('hinge', (2, 28, 28, 1))
    """

    default_loss = "hinge"
    default_batch_norm = False

    def build_discriminator(self, image_shape, num_classes, base_filters, batch_norm,
                            dropout):
        return projection_discriminator(image_shape, num_classes, base_filters,
                                        batch_norm, dropout)


@keras.saving.register_keras_serializable(package="keras_gans")
class ACGAN(_ConvConditional):
    """Auxiliary-classifier GAN (Odena, Olah & Shlens, ICML 2017).

    The discriminator sees images only and outputs `[logit (batch, 1),
    class logits (batch, num_classes)]`. Both losses add `class_weight`
    times the class cross-entropy: the discriminator's on real images (and
    on fakes, labelled with the class they were generated for, when
    `fake_class_loss`), the generator's on its fakes. `discriminate` returns
    the adversarial logit (used by the loss and penalties); `classify`
    returns the class logits. Logs `d_class_loss` (on real images),
    `g_class_loss` and `d_class_accuracy` (on real images).

    Args: as `CGAN`, plus
        class_weight: weight of the class cross-entropy in both losses.
        fake_class_loss: include the class loss on fakes in the
            discriminator's loss (the paper's L_C does).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import ACGAN
    >>> gan = ACGAN(num_classes=10, latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, np.arange(32) % 10, batch_size=16, verbose=0)
    >>> sorted(history.history)
    ['d_class_accuracy', 'd_class_loss', 'd_loss', 'g_class_loss', 'g_loss']
    >>> gan.classify(images[:3]).shape
    (3, 10)
    """

    tracked_metrics = ("d_loss", "g_loss", "d_class_loss", "g_class_loss",
                       "d_class_accuracy")

    def __init__(self, *args, class_weight=1.0, fake_class_loss=True, **kwargs):
        self.class_weight = non_negative(class_weight, "class_weight")
        self.fake_class_loss = bool(fake_class_loss)
        super().__init__(*args, **kwargs)

    def build_discriminator(self, image_shape, num_classes, base_filters, batch_norm,
                            dropout):
        return auxiliary_classifier_discriminator(image_shape, num_classes,
                                                  base_filters, batch_norm, dropout)

    def discriminate(self, images, labels=None, training=True):
        return self.discriminator_outputs(images, training)[0]

    def classify(self, images, batch_size=256):
        """Class logits of the auxiliary classifier for `images` (numpy)."""
        outputs = self.discriminator.predict(np.asarray(images, "float32"),
                                             batch_size=batch_size, verbose=0)
        return outputs[1]

    def discriminator_loss(self, real, fake, labels=None):
        real_logits, real_classes = self.discriminator_outputs(real)
        fake_logits, fake_classes = self.discriminator_outputs(fake)
        adversarial = self.loss_fn.discriminator(real_logits, fake_logits)
        class_loss = backend.float32_mean(class_crossentropy(labels, real_classes))
        total_class = class_loss
        if self.fake_class_loss:
            total_class = total_class + backend.float32_mean(class_crossentropy(labels, fake_classes))
        logs = {"d_loss": adversarial, "d_class_loss": class_loss,
                "d_class_accuracy": class_accuracy(labels, real_classes)}
        self.adapt_augment(real_logits, logs)
        loss = adversarial + self.class_weight * total_class
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def generator_loss(self, real, fake, labels=None):
        fake_logits, fake_classes = self.discriminator_outputs(fake)
        real_logits = None
        if self.loss_fn.needs_real_logits:
            real_logits = ops.stop_gradient(self.discriminate(real, labels))
        adversarial = self.loss_fn.generator(fake_logits, real_logits)
        class_loss = ops.mean(class_crossentropy(labels, fake_classes))
        loss = adversarial + self.class_weight * class_loss
        return loss, {"g_loss": adversarial, "g_class_loss": class_loss}

    def get_config(self):
        return {**super().get_config(), "class_weight": self.class_weight,
                "fake_class_loss": self.fake_class_loss}

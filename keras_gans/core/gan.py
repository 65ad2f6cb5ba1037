"""The generator/discriminator GAN on which the variants are built."""
import functools

import keras
import numpy as np
from keras import ops

from keras_gans import augment as augment_lib
from keras_gans import backend
from keras_gans import losses
from keras_gans import regularizers
from keras_gans.core.adversarial import AdversarialModel
from keras_gans.utils.checks import at_least
from keras_gans.utils.images import is_array
from keras_gans.utils.seeds import SavesSeedState


def _shape_tail(shape):
    return tuple(None if d is None else int(d) for d in shape[1:])


def _network_output_shape(network, input_shape):
    if not network.built:
        network.build(input_shape)
    spec = network.compute_output_spec(
        keras.KerasTensor(input_shape, dtype=network.compute_dtype)
    )
    return tuple(spec.shape)


def sample_latents(n, latent_dim, seed=None, truncation=None):
    """Standard normal latents drawn with numpy (identical on every backend).

    With `truncation`, entries with magnitude above it are redrawn until
    none is left (a truncated normal).

    >>> z = sample_latents(1000, 8, seed=0, truncation=0.5)
    >>> z.shape, bool(abs(z).max() <= 0.5)
    ((1000, 8), True)
    """
    rng = np.random.default_rng(seed)
    latents = rng.standard_normal((n, latent_dim))
    if truncation is not None:
        if truncation <= 0:
            raise ValueError(f"truncation must be positive, got {truncation}.")
        outside = np.abs(latents) > truncation
        while outside.any():
            latents[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(latents) > truncation
    return latents.astype("float32")


def generation_latents(n, latents, latent_dim, seed, truncation=None):
    """The latents a `generate()` call samples from: `latents` checked
    against `n` and `latent_dim`, or `n` drawn by `sample_latents`.

    >>> generation_latents(3, None, 8, seed=0).shape
    (3, 8)
    >>> generation_latents(5, np.zeros((2, 8)), 8, seed=0)
    Traceback (most recent call last):
    ...
    ValueError: generate() got n=5 but 2 latents.
    """
    if latents is None:
        if n is None:
            raise ValueError("generate() needs n or latents.")
        return sample_latents(at_least(n, 1, "n"), latent_dim, seed, truncation)
    if truncation is not None:
        raise ValueError(
            "truncation redraws the latents generate() draws itself; it does not "
            "change latents you pass. Draw them truncated instead: "
            "sample_latents(n, latent_dim, seed, truncation=...)."
        )
    latents = np.asarray(latents, "float32")
    if latents.ndim != 2 or latents.shape[1] != latent_dim or not len(latents):
        raise ValueError(
            f"latents must have shape (n, {latent_dim}) with n >= 1; got {latents.shape}.")
    if n is not None and n != len(latents):
        raise ValueError(f"generate() got n={n} but {len(latents)} latents.")
    return latents


@keras.saving.register_keras_serializable(package="keras_gans")
class GAN(SavesSeedState, AdversarialModel):
    """A generator and a discriminator trained with an adversarial loss.

    Each train step makes `n_critic` discriminator updates and one generator
    update. A `fit()` batch of `B` images is split into `n_critic`
    consecutive chunks of `B // n_critic` (any remainder is dropped): the
    i-th discriminator update sees chunk i, so every critic step gets fresh
    real images, as in WGAN's Algorithm 1; the generator update generates
    `B // n_critic` images. Latents are drawn from a carried
    `keras.random.SeedGenerator`.

    Args:
        generator: Keras model mapping `(batch, latent_dim)` latents to images.
        discriminator: Keras model mapping images to `(batch, 1)` logits.
        latent_dim: latent size; inferred from `generator` when built.
        loss: an adversarial loss name (see `keras_gans.losses.names()`) or
            `keras_gans.losses.AdversarialLoss`.
        n_critic: discriminator updates per generator update.
        seed: seed of the latent sampler (an int, or None for a random one).
        ema_decay: if set (e.g. 0.999), keep `ema_generator`, an exponential
            moving average of the generator's weights updated after every
            generator step (with warm-up: the decay at generator step t is
            `min(ema_decay, (1 + t) / (10 + t))`); `call`, `generate` and
            `sampler` then use it.
        penalties: discriminator regularizers from `keras_gans.regularizers`
            (`GradientPenalty`, `R1Penalty`, `DRAGANPenalty`,
            `WeightClipping`...), each logged under its name.
        augment: DiffAugment for limited data (`keras_gans.augment`): a
            policy string such as `"color,translation,cutout"`, a
            `DiffAugment`, or an `AdaptiveAugment` (ADA: its probability
            follows the discriminator's overfitting, logged as `ada_p`).
            Real and fake images are augmented alike before every
            discriminator call in training.

    Example:

    >>> import keras, numpy as np
    >>> g = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16),
    ...                       keras.layers.Reshape((4, 4, 1))])
    >>> d = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                       keras.layers.Dense(1)])
    >>> gan = GAN(g, d, seed=0)
    >>> gan.compile()
    >>> history = gan.fit(np.zeros((32, 4, 4, 1), "float32"), batch_size=16,
    ...                   epochs=1, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss']
    """

    network_sets = {"d": ("discriminator",), "g": ("generator",)}
    tracked_metrics = ("d_loss", "g_loss")
    #: whether `fit(images, y)` trains on `y` (class labels); an
    #: unconditional GAN refuses a `y` it would ignore
    labels_in_fit = False

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        loss="non_saturating",
        n_critic=1,
        seed=None,
        ema_decay=None,
        penalties=(),
        augment=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        n_critic = at_least(n_critic, 1, "n_critic")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}.")
        self.generator = generator
        self.discriminator = discriminator
        self.loss_fn = losses.get(loss)
        self.n_critic = n_critic
        self.seed = seed
        self.latent_dim = self._infer_latent_dim(latent_dim)
        self.seed_generator = keras.random.SeedGenerator(seed)
        # A model attribute, so its seed and ADA state travel through fit()
        # (JAX) and are saved with the weights; set before the networks are
        # probed (`discriminate` uses it).
        self.augment = augment_lib.get_augment(augment)
        self.image_shape = self._check_networks()
        self.ema_decay = ema_decay
        self.ema_generator = (
            regularizers.averaged_copy(generator, name="ema_generator")
            if ema_decay
            else None
        )
        self.penalties = regularizers.get_penalties(penalties)
        self.track(*(p.name for p in self.penalties))
        if isinstance(self.augment, augment_lib.AdaptiveAugment):
            self.track("ada_p")
        self.built = True

    def _infer_latent_dim(self, latent_dim):
        if latent_dim is not None:
            return at_least(latent_dim, 1, "latent_dim")
        try:
            shape = self.generator.input_shape
        except (AttributeError, ValueError):
            raise ValueError(
                "latent_dim is required when the generator has no defined "
                "input shape (e.g. an unbuilt subclassed model)."
            ) from None
        return int(shape[-1])

    def _check_networks(self):
        image = _network_output_shape(self.generator, (None, self.latent_dim))
        logits = _network_output_shape(self.discriminator, image)
        if len(logits) != 2 or logits[-1] != 1:
            raise ValueError(
                "The discriminator must output one logit per image, shape "
                f"(batch, 1); it outputs {logits} for generated images of "
                f"shape {image}."
            )
        return _shape_tail(image)

    # ------------------------------------------------------------- sampling
    @property
    def sampler(self):
        """The network to sample from: the EMA generator when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def call(self, latents, training=False):
        return self.sampler(latents, training=training)

    def sample_latent(self, batch_size):
        """Standard normal latents drawn from the model's seed generator
        (each tf.distribute replica gets its own rows of a global draw)."""
        draw = functools.partial(backend.random_normal, seed=self.seed_generator)
        return backend.draw_for_replica(draw, (batch_size, self.latent_dim))

    def generate(self, n=None, latents=None, batch_size=256, truncation=None):
        """Generated images (numpy, in the generator's output range).

        Pass `latents` (e.g. drawn with numpy, for reproducible images on
        any backend) or a count `n` to draw them from a fresh numpy
        generator seeded with `self.seed`. `truncation` (e.g. 1.0) redraws
        latent entries whose magnitude exceeds it (the truncation trick of
        BigGAN, Brock et al. 2019): cleaner images, less variety.
        """
        latents = generation_latents(n, latents, self.latent_dim, self.seed, truncation)
        return self.sampler.predict(latents, batch_size=batch_size, verbose=0)

    # ------------------------------------------------------------- training
    # Conditional variants override the four hooks `split_batch`,
    # `generate_images`, `discriminate` and the losses; the step is shared.
    def split_batch(self, data):
        """`(images, labels)` of a batch; labels are None for unconditional GANs."""
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(images, (tuple, list)):
            images, labels = images[0], (images[1] if len(images) > 1 else labels)
        self.check_images(images)
        return ops.cast(images, self.compute_dtype), labels

    def real_images(self, data):
        """The image tensor of a batch, validated against the networks."""
        return self.split_batch(data)[0]

    def check_images(self, images):
        shape = _shape_tail(images.shape)
        if shape != self.image_shape:
            raise ValueError(
                f"{type(self).__name__} was built for images of shape "
                f"{self.image_shape} but got a batch of shape "
                f"{tuple(images.shape)}. Resize the data or build the model "
                f"with matching networks (e.g. image_shape={shape})."
            )
        dtype = keras.backend.standardize_dtype(images.dtype)
        if not dtype.startswith(("float", "bfloat")):
            raise ValueError(
                f"Images must be floats scaled like the generator's output "
                f"(usually [-1, 1]); got dtype {dtype}. Convert uint8 "
                "images with `images / 127.5 - 1`."
            )

    def generate_images(self, latents, labels=None, training=True):
        """Generated images for a training step."""
        return self.run_network(self.generator, latents, training)

    def augment_images(self, images, training=True):
        """`images` through the DiffAugment policy (identity without one)."""
        if self.augment is None:
            return images
        return self.augment(images, training=training)

    def discriminate(self, images, labels=None, training=True):
        """Discriminator logits `(batch, 1)` for a training step."""
        return self.discriminator_outputs(images, training)

    def discriminator_outputs(self, images, training=True):
        """The discriminator's outputs on `images` augmented by the policy
        (all of them, for networks with more than the logit: a variant's
        own losses call this so that every input is augmented)."""
        return self.run_network(self.discriminator, self.augment_images(images, training), training)

    def discriminator_loss(self, real, fake, labels=None):
        """Discriminator loss (adversarial + penalties) and its logs."""
        real_logits = self.discriminate(real, labels)
        fake_logits = self.discriminate(fake, labels)
        loss = self.loss_fn.discriminator(real_logits, fake_logits)
        logs = {"d_loss": loss}
        self.adapt_augment(real_logits, logs)
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def adapt_augment(self, real_logits, logs):
        """With adaptive augmentation (ADA), moves its probability from the
        real images' logits and logs it as `ada_p`; a variant's own
        `discriminator_loss` calls this as the default one does."""
        if isinstance(self.augment, augment_lib.AdaptiveAugment):
            logs["ada_p"] = self.augment.update(real_logits)

    def penalty_loss(self, real, fake, labels, logs):
        """Sum of the penalties' terms (each also written into `logs`)."""
        total = 0.0
        critic = lambda images: self.discriminate(images, labels)  # noqa: E731
        for penalty in self.penalties:
            value = penalty(critic, real, fake, self.seed_generator)
            if value is not None:
                logs[penalty.name] = value
                total = total + value
        return total

    def generator_loss(self, real, fake, labels=None):
        """Generator loss and logs; `real` serves relativistic losses."""
        fake_logits = self.discriminate(fake, labels)
        real_logits = None
        if self.loss_fn.needs_real_logits:
            real_logits = ops.stop_gradient(self.discriminate(real, labels))
        loss = self.loss_fn.generator(fake_logits, real_logits)
        return loss, {"g_loss": loss}

    def fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
        """`keras.Model.fit` on images (see `AdversarialModel.fit`); batches
        must hold at least `n_critic` images, checked first for arrays."""
        if y is not None and not self.labels_in_fit:
            raise ValueError(
                f"{type(self).__name__} is unconditional and would ignore y: call "
                "fit(images). To train on class labels use CGAN or ACGAN."
            )
        images = x[0] if isinstance(x, (tuple, list)) and x else x
        if is_array(images) and self.n_critic > 1:
            rows = len(images)
            size = 32 if batch_size is None else batch_size  # Keras's default
            sizes = {min(size, rows)}
            steps = kwargs.get("steps_per_epoch")
            if rows > size and rows % size and (steps is None or steps > rows // size):
                sizes.add(rows % size)  # the epoch's last, partial batch
            if min(sizes) < self.n_critic:
                raise ValueError(
                    f"fit() would make a batch of {min(sizes)} images ({rows} images, "
                    f"batch_size={size}), fewer than n_critic={self.n_critic}: each "
                    "critic update needs at least one image. Use a batch_size >= "
                    "n_critic that leaves no last batch smaller than n_critic "
                    f"(len(images) % batch_size is 0 or >= {self.n_critic})."
                )
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)

    def critic_batches(self, real, labels=None):
        """The `n_critic` consecutive `(images, labels)` chunks of a batch,
        remainder dropped."""
        rows = backend.check_rows(ops.shape(real)[0], self.n_critic, (
            f"A batch holds fewer images than n_critic={self.n_critic}: each critic "
            f"update needs at least one image. Batch the data by at least "
            f"{self.n_critic} images (and drop a smaller last batch)."))
        chunk = rows // self.n_critic
        parts = lambda x, i: None if x is None else x[i * chunk : (i + 1) * chunk]  # noqa: E731
        return [(parts(real, i), parts(labels, i)) for i in range(self.n_critic)]

    def discriminator_step(self, real, labels):
        latents = self.sample_latent(ops.shape(real)[0])

        def loss():
            with backend.no_gradient():
                fake = ops.stop_gradient(self.generate_images(latents, labels))
            return self.discriminator_loss(real, fake, labels)

        logs = self.update("d", loss)
        for penalty in self.penalties:
            penalty.after_update(self.discriminator)
        return logs

    def generator_step(self, real, labels):
        latents = self.sample_latent(ops.shape(real)[0])

        def loss():
            fake = self.generate_images(latents, labels)
            return self.generator_loss(real, fake, labels)

        logs = self.update("g", loss)
        if self.ema_generator is not None:
            regularizers.ema_update(
                self.ema_generator, self.generator, self.ema_decay,
                step=self.optimizer["g"].iterations,
            )
        return logs

    def adversarial_step(self, data):
        real, labels = self.split_batch(data)
        logs = {}
        for real_i, labels_i in self.critic_batches(real, labels):
            logs.update(self.discriminator_step(real_i, labels_i))
        # The generator step sees the last chunk's size and labels.
        logs.update(self.generator_step(real_i, labels_i))
        return logs

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            latent_dim=self.latent_dim,
            loss=self.loss_fn.get_config(),
            n_critic=self.n_critic,
            seed=self.seed,
            ema_decay=self.ema_decay,
            penalties=[
                keras.saving.serialize_keras_object(p) for p in self.penalties
            ],
            augment=None if self.augment is None
            else keras.saving.serialize_keras_object(self.augment),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

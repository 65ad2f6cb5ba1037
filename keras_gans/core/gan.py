"""The generator/discriminator GAN on which the variants are built."""
import keras
import numpy as np
from keras import ops

from keras_gans import losses
from keras_gans.core.adversarial import AdversarialModel


def _shape_tail(shape):
    return tuple(None if d is None else int(d) for d in shape[1:])


def _network_output_shape(network, input_shape):
    if not network.built:
        network.build(input_shape)
    spec = network.compute_output_spec(
        keras.KerasTensor(input_shape, dtype=network.compute_dtype)
    )
    return tuple(spec.shape)


@keras.saving.register_keras_serializable(package="keras_gans")
class GAN(AdversarialModel):
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

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        loss="non_saturating",
        n_critic=1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}.")
        self.generator = generator
        self.discriminator = discriminator
        self.loss_fn = losses.get(loss)
        self.n_critic = int(n_critic)
        self.seed = seed
        self.latent_dim = self._infer_latent_dim(latent_dim)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.image_shape = self._check_networks()
        self.built = True

    def _infer_latent_dim(self, latent_dim):
        if latent_dim is not None:
            return int(latent_dim)
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
    def call(self, latents, training=False):
        return self.generator(latents, training=training)

    def sample_latent(self, batch_size):
        """Standard normal latents drawn from the model's seed generator."""
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def generate(self, n=None, latents=None, batch_size=256):
        """Generated images (numpy, in the generator's output range).

        Pass `latents` (e.g. drawn with numpy, for reproducible images on
        any backend) or a count `n` to draw them from a fresh numpy
        generator seeded with `self.seed`.
        """
        if latents is None:
            if n is None:
                raise ValueError("generate() needs n or latents.")
            rng = np.random.default_rng(self.seed)
            latents = rng.standard_normal((n, self.latent_dim)).astype("float32")
        return self.generator.predict(latents, batch_size=batch_size, verbose=0)

    # ------------------------------------------------------------- training
    def real_images(self, data):
        """The image tensor of a batch, validated against the networks."""
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(images, (tuple, list)):
            images = images[0]
        self.check_images(images)
        return ops.cast(images, self.compute_dtype)

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

    def discriminator_loss(self, real, fake):
        """Discriminator loss and logs for one batch of real and fake images."""
        real_logits = self.discriminator(real, training=True)
        fake_logits = self.discriminator(fake, training=True)
        loss = self.loss_fn.discriminator(real_logits, fake_logits)
        return loss, {"d_loss": loss}

    def generator_loss(self, real, fake):
        """Generator loss and logs; `real` is there for relativistic losses."""
        fake_logits = self.discriminator(fake, training=True)
        loss = self.loss_fn.generator(fake_logits)
        return loss, {"g_loss": loss}

    def critic_batches(self, real):
        """The `n_critic` consecutive chunks of a batch, remainder dropped."""
        chunk = ops.shape(real)[0] // self.n_critic
        return [real[i * chunk : (i + 1) * chunk] for i in range(self.n_critic)]

    def adversarial_step(self, data):
        real = self.real_images(data)
        logs = {}
        for real_i in self.critic_batches(real):
            latents = self.sample_latent(ops.shape(real_i)[0])

            def d_loss(real_i=real_i, latents=latents):
                fake = ops.stop_gradient(self.generator(latents, training=True))
                return self.discriminator_loss(real_i, fake)

            logs.update(self.update("d", d_loss))
        latents = self.sample_latent(ops.shape(real_i)[0])

        def g_loss():
            fake = self.generator(latents, training=True)
            return self.generator_loss(real_i, fake)

        logs.update(self.update("g", g_loss))
        return logs

    # The latent sampler's state is saved with the weights (Keras does not
    # save SeedGenerator states), so a restored GAN continues the same draws.
    _SEED_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[self._SEED_KEY] = keras.ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if self._SEED_KEY in keys:
            self.seed_generator.state.assign(store[self._SEED_KEY])
        super().load_own_variables({k: store[k] for k in keys if k != self._SEED_KEY})

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
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

"""InfoGAN (Chen et al., NeurIPS 2016): latent codes the generator must keep
recoverable from its images.

The codes ride through the core GAN's step as the batch's "labels":
`split_batch` draws one code vector per real image (a one-hot categorical
code and uniform continuous codes) from the model's seed generator, so the
core step chunks them with the images and hands them to
`generate_images`, the losses and the penalties. No train step is copied.
"""
import functools

import keras
import numpy as np
from keras import ops

from keras_gans import backend
from keras_gans.core import GAN
from keras_gans.core.gan import generation_latents
from keras_gans.models.conditional import check_label_array
from keras_gans.models.conditional import class_accuracy
from keras_gans.models.conditional import class_crossentropy
from keras_gans.networks.conditional import code_generator
from keras_gans.networks.conditional import feature_discriminator
from keras_gans.networks.conditional import info_q_head
from keras_gans.utils.checks import at_least
from keras_gans.utils.checks import non_negative


@keras.saving.register_keras_serializable(package="keras_gans")
class InfoGAN(GAN):
    """InfoGAN with DCGAN networks, trained on unlabelled images.

    The generator gets `[noise (batch, latent_dim), codes (batch,
    categorical_dim + continuous_dim)]`, the codes being a one-hot
    categorical code (uniform over `categorical_dim` values) and
    `continuous_dim` codes uniform in [-1, 1]. The discriminator outputs
    `[logit, features]`; the Q head (`q_network`) maps the features to the
    categorical code's logits and the continuous codes' means. The
    mutual-information lower bound is estimated by

        info_loss = CE(c_cat, Q_cat(G(z, c))) + continuous_weight * ||c_cont - Q_cont(G(z, c))||^2

    (the continuous term is a unit-variance Gaussian log-likelihood, up to a
    constant). `info_weight * info_loss` is added to the generator's loss,
    minimised over the generator and the Q head (both in the `"g"`
    network set, so `g_optimizer` trains Q), and, with
    `discriminator_info=True` (as in the authors' code), to the
    discriminator's loss so that the shared body learns features Q can use.
    Logs `info_loss` (generator step) and `info_accuracy`, the share of
    fakes whose categorical code Q recovers.

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: size of the Gaussian noise (the codes come on top).
        categorical_dim: values of the categorical code (10 for digits).
        continuous_dim: number of continuous codes.
        info_weight: weight lambda of the information term.
        continuous_weight: weight of the continuous codes' squared error
            inside the information term.
        discriminator_info: also add the term to the discriminator's loss.
        base_filters, discriminator_batch_norm, discriminator_dropout: as
            in `DCGAN`.
        q_hidden: width of the Q head's hidden layer.
        generator, discriminator, q_network: your own networks.
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `ema_decay`,
            `penalties`).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import InfoGAN
    >>> gan = InfoGAN(latent_dim=8, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss', 'info_accuracy', 'info_loss']
    >>> gan.generate(categorical=[7, 7], continuous=[[-1, 0], [1, 0]]).shape
    (2, 28, 28, 1)
    """

    network_sets = {"d": ("discriminator",), "g": ("generator", "q_network")}
    tracked_metrics = ("d_loss", "g_loss", "info_loss", "info_accuracy")

    def __init__(self, image_shape=(28, 28, 1), latent_dim=62, categorical_dim=10,
                 continuous_dim=2, info_weight=1.0, continuous_weight=0.5,
                 discriminator_info=True, base_filters=64,
                 discriminator_batch_norm=True, discriminator_dropout=0.0,
                 q_hidden=128, generator=None, discriminator=None, q_network=None,
                 **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        self.categorical_dim = at_least(categorical_dim, 2, "categorical_dim")
        self.continuous_dim = at_least(continuous_dim, 0, "continuous_dim")
        self.code_dim = self.categorical_dim + self.continuous_dim
        if generator is None:
            generator = code_generator(image_shape, latent_dim, self.code_dim, base_filters)
        if discriminator is None:
            discriminator = feature_discriminator(
                image_shape, 1, base_filters, discriminator_batch_norm,
                discriminator_dropout,
            )
        if q_network is None:
            feature_dim = int(discriminator.output_shape[1][-1])
            q_network = info_q_head(feature_dim, self.categorical_dim,
                                    self.continuous_dim, q_hidden)
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        # Assigned after Model.__init__ so that Keras tracks its variables.
        self.q_network = q_network
        self._check_q_network()
        self.info_weight = non_negative(info_weight, "info_weight")
        self.continuous_weight = non_negative(continuous_weight, "continuous_weight")
        self.discriminator_info = bool(discriminator_info)
        self.base_filters = base_filters
        self.discriminator_batch_norm = discriminator_batch_norm
        self.discriminator_dropout = discriminator_dropout
        self.q_hidden = q_hidden
        if self.image_shape != image_shape:
            raise ValueError(
                f"The generator makes images of shape {self.image_shape}, "
                f"not image_shape={image_shape}."
            )

    def _check_networks(self):
        noise = keras.KerasTensor((None, self.latent_dim))
        codes = keras.KerasTensor((None, self.code_dim))
        image = self.generate_images(noise, codes, training=False)
        outputs = self.discriminator(image, training=False)
        if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
            raise ValueError(
                "InfoGAN's discriminator must output [logit (batch, 1), "
                "features (batch, f)] for the Q head."
            )
        if tuple(outputs[0].shape[1:]) != (1,):
            raise ValueError(
                f"The discriminator's logit must have shape (batch, 1); got "
                f"{tuple(outputs[0].shape)}."
            )
        self._feature_shape = tuple(outputs[1].shape)
        return tuple(int(d) for d in image.shape[1:])

    def _check_q_network(self):
        categorical, continuous = self.q_network(
            keras.KerasTensor(self._feature_shape), training=False)
        if categorical.shape[-1] != self.categorical_dim or (
            self.continuous_dim and continuous.shape[-1] != self.continuous_dim
        ):
            raise ValueError(
                f"The Q network must output [({self.categorical_dim},), "
                f"({self.continuous_dim},)] code predictions; got "
                f"{categorical.shape}, {continuous.shape}."
            )

    # ----------------------------------------------------------------- codes
    def sample_codes(self, batch_size):
        """Codes `(batch, categorical_dim + continuous_dim)` from the prior,
        drawn with the model's seed generator."""
        randint = functools.partial(
            keras.random.randint, minval=0, maxval=self.categorical_dim,
            seed=self.seed_generator,
        )
        index = backend.draw_for_replica(randint, (batch_size,))
        codes = ops.one_hot(index, self.categorical_dim)
        if self.continuous_dim:
            uniform = functools.partial(
                backend.random_uniform, minval=-1.0, maxval=1.0, seed=self.seed_generator
            )
            continuous = backend.draw_for_replica(uniform, (batch_size, self.continuous_dim))
            codes = ops.concatenate([codes, continuous], axis=-1)
        return codes

    def split_batch(self, data):
        images, _ = super().split_batch(data)  # labels, if any, are ignored
        return images, self.sample_codes(ops.shape(images)[0])

    def codes(self, categorical=None, continuous=None, n=None, seed=None):
        """Numpy code vectors for `generate`: one-hot `categorical` values
        (default: drawn uniformly) next to `continuous` values `(n,
        continuous_dim)` (default: drawn uniformly in [-1, 1])."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        if n is None:
            n = len(categorical) if categorical is not None else (
                len(continuous) if continuous is not None else None)
        if n is None:
            raise ValueError("codes() needs n, categorical or continuous.")
        if categorical is None:
            categorical = rng.integers(0, self.categorical_dim, n)
        categorical = check_label_array(categorical, self.categorical_dim, n=n,
                                        context="categorical")
        if continuous is None:
            continuous = rng.uniform(-1, 1, (n, self.continuous_dim))
        continuous = np.asarray(continuous, "float32")
        if continuous.shape != (n, self.continuous_dim):
            raise ValueError(
                f"continuous must have shape ({n}, {self.continuous_dim}); got "
                f"{continuous.shape}."
            )
        one_hot = np.eye(self.categorical_dim, dtype="float32")[categorical]
        return np.concatenate([one_hot, continuous], axis=1)

    # ----------------------------------------------------------------- hooks
    def generate_images(self, latents, labels=None, training=True):
        return self.run_network(self.generator, [latents, labels], training)

    def discriminate(self, images, labels=None, training=True):
        return self.discriminator_outputs(images, training)[0]

    def info_loss(self, features, codes, training=True):
        """The information term and Q's categorical accuracy on fakes."""
        categorical, continuous = self.q_network(features, training=training)
        codes = ops.cast(codes, "float32")
        target = ops.argmax(codes[:, : self.categorical_dim], axis=-1)
        loss = backend.float32_mean(class_crossentropy(target, categorical))
        if self.continuous_dim:
            error = ops.square(codes[:, self.categorical_dim :] - continuous)
            loss = loss + self.continuous_weight * backend.float32_mean(ops.sum(error, axis=-1))
        return loss, class_accuracy(target, categorical)

    def discriminator_loss(self, real, fake, labels=None):
        real_logits, _ = self.discriminator_outputs(real)
        fake_logits, fake_features = self.discriminator_outputs(fake)
        loss = self.loss_fn.discriminator(real_logits, fake_logits)
        logs = {"d_loss": loss}
        self.adapt_augment(real_logits, logs)
        if self.discriminator_info:
            info, _ = self.info_loss(fake_features, labels)
            loss = loss + self.info_weight * info
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def generator_loss(self, real, fake, labels=None):
        fake_logits, fake_features = self.discriminator_outputs(fake)
        real_logits = None
        if self.loss_fn.needs_real_logits:
            real_logits = ops.stop_gradient(self.discriminate(real))
        adversarial = self.loss_fn.generator(fake_logits, real_logits)
        info, accuracy = self.info_loss(fake_features, labels)
        loss = adversarial + self.info_weight * info
        return loss, {"g_loss": adversarial, "info_loss": info, "info_accuracy": accuracy}

    # -------------------------------------------------------------- sampling
    def call(self, inputs, training=False):
        """`model([noise, codes])` -> images from the sampler."""
        noise, codes = inputs
        return self.sampler([noise, codes], training=training)

    def generate(self, n=None, latents=None, categorical=None, continuous=None,
                 codes=None, batch_size=256, truncation=None):
        """Generated images (numpy) for given codes.

        Args:
            n: number of images (optional when another argument gives it).
            latents: `(n, latent_dim)` noise; default drawn with numpy from
                `self.seed`.
            categorical: categorical code values `(n,)`; default random.
            continuous: continuous codes `(n, continuous_dim)`; default
                uniform in [-1, 1].
            codes: full code vectors (overrides `categorical`/`continuous`).
        """
        if n is None:
            for given in (latents, codes, categorical, continuous):
                if given is not None:
                    n = len(given)
                    break
        if n is None:
            raise ValueError("generate() needs n, latents or codes.")
        if codes is None:
            codes = self.codes(categorical, continuous, n=n)
        codes = np.asarray(codes, "float32")
        if codes.shape != (n, self.code_dim):
            raise ValueError(f"codes must have shape ({n}, {self.code_dim}); got {codes.shape}.")
        latents = generation_latents(n, latents, self.latent_dim, self.seed, truncation)
        return self.sampler.predict([latents, codes], batch_size=batch_size, verbose=0)

    def predict_codes(self, images, batch_size=256):
        """Q's `(categorical probabilities, continuous means)` for images."""
        _, features = self.discriminator.predict(
            np.asarray(images, "float32"), batch_size=batch_size, verbose=0)
        categorical, continuous = self.q_network.predict(
            features, batch_size=batch_size, verbose=0)
        categorical = np.exp(categorical - categorical.max(axis=1, keepdims=True))
        return categorical / categorical.sum(axis=1, keepdims=True), continuous

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            categorical_dim=self.categorical_dim,
            continuous_dim=self.continuous_dim,
            info_weight=self.info_weight,
            continuous_weight=self.continuous_weight,
            discriminator_info=self.discriminator_info,
            base_filters=self.base_filters,
            discriminator_batch_norm=self.discriminator_batch_norm,
            discriminator_dropout=self.discriminator_dropout,
            q_hidden=self.q_hidden,
            q_network=keras.saving.serialize_keras_object(self.q_network),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("q_network"), dict):
            config["q_network"] = keras.saving.deserialize_keras_object(config["q_network"])
        return super().from_config(config)

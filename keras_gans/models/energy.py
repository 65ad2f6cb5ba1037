"""Autoencoder-discriminator GANs: EBGAN (Zhao et al. 2017) and BEGAN
(Berthelot et al. 2017).

The discriminator is an autoencoder `images -> [reconstruction, code]`
(`keras_gans.networks.autoencoder`); an image's *energy* is its
reconstruction error, low for what the discriminator takes as real.
`discriminate()` returns the energies, shape `(batch, 1)`.
"""
import keras
from keras import ops

from keras_gans import backend
from keras_gans.core import GAN
from keras_gans.core.adversarial import default_optimizer as _adam
from keras_gans.networks.autoencoder import autoencoder_discriminator
from keras_gans.networks.dcgan import dcgan_generator
from keras_gans.utils.checks import non_negative


def pulling_away_term(embeddings):
    """EBGAN's pulling-away term: the mean squared cosine similarity of
    every pair of distinct rows, `sum_{i != j} cos(s_i, s_j)^2 / (N (N-1))`.

    Zero for mutually orthogonal embeddings, one for parallel ones; the
    generator minimises it to spread its samples' codes apart.

    >>> import numpy as np
    >>> float(pulling_away_term(np.eye(3)))
    0.0
    >>> round(float(pulling_away_term(np.ones((4, 3)))), 4)
    1.0
    """
    s = ops.cast(ops.reshape(embeddings, (ops.shape(embeddings)[0], -1)), "float32")
    s = s / ops.sqrt(ops.sum(ops.square(s), axis=1, keepdims=True) + 1e-12)
    n = ops.cast(ops.shape(s)[0], "float32")
    cos2 = ops.square(ops.matmul(s, ops.transpose(s)))
    off_diagonal = ops.sum(cos2) - ops.sum(ops.diagonal(cos2))
    return off_diagonal / (n * (n - 1.0))


def _per_image_mean(x):
    x = ops.cast(x, "float32")
    return ops.mean(ops.reshape(x, (ops.shape(x)[0], -1)), axis=1, keepdims=True)


class AutoencoderGAN(GAN):
    """Base of the GANs whose discriminator is an autoencoder.

    The discriminator must map images to `[reconstruction, code]`. Subclasses
    define `energy_of(images, reconstruction)`, the per-image energy
    `(batch, 1)`, and the two losses. Not registered: use a subclass.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=100,
        base_filters=32,
        code_dim=32,
        generator=None,
        discriminator=None,
        **kwargs,
    ):
        if "loss" in kwargs:
            raise TypeError(
                f"{type(self).__name__} has its own energy-based losses; it "
                "takes no `loss` argument."
            )
        if kwargs.get("augment") is not None:
            # Its energies compare each image with its reconstruction, which
            # the augmentation policy would have to follow; not built.
            raise ValueError(
                f"{type(self).__name__} does not take `augment`: its "
                "autoencoder discriminator's energies are not augmentation-aware. "
                "Use DCGAN, WGANGP, SNGAN or a conditional GAN with augment=."
            )
        image_shape = tuple(int(d) for d in image_shape)
        if generator is None:
            generator = dcgan_generator(image_shape, latent_dim, base_filters)
        if discriminator is None:
            discriminator = autoencoder_discriminator(
                image_shape, base_filters, code_dim
            )
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.base_filters = int(base_filters)
        self.code_dim = int(code_dim)

    def _check_networks(self):
        from keras_gans.core.gan import _network_output_shape
        from keras_gans.core.gan import _shape_tail

        image = _network_output_shape(self.generator, (None, self.latent_dim))
        if not self.discriminator.built:
            self.discriminator.build(image)
        spec = self.discriminator.compute_output_spec(
            keras.KerasTensor(image, dtype=self.discriminator.compute_dtype)
        )
        if not (
            isinstance(spec, (list, tuple))
            and len(spec) == 2
            and _shape_tail(spec[0].shape) == _shape_tail(image)
            and len(spec[1].shape) == 2
        ):
            got = (
                [tuple(s.shape) for s in spec]
                if isinstance(spec, (list, tuple))
                else tuple(spec.shape)
            )
            raise ValueError(
                f"{type(self).__name__}'s discriminator must be an autoencoder "
                f"mapping images of shape {image} to [reconstruction of the "
                f"same shape, code (batch, code_dim)]; it outputs {got}."
            )
        return _shape_tail(image)

    def autoencode(self, images, training=True):
        """`(reconstruction, code)` of images."""
        reconstruction, code = self.run_network(self.discriminator, images, training)
        return reconstruction, code

    def energy_of(self, images, reconstruction):
        raise NotImplementedError

    def discriminate(self, images, labels=None, training=True):
        """Per-image energies `(batch, 1)` (low = taken as real)."""
        reconstruction, _ = self.autoencode(images, training)
        return self.energy_of(images, reconstruction)

    def get_config(self):
        config = super().get_config()
        config.pop("loss", None)
        config.update(base_filters=self.base_filters, code_dim=self.code_dim,
                      image_shape=list(self.image_shape))
        return config


@keras.saving.register_keras_serializable(package="keras_gans")
class EBGAN(AutoencoderGAN):
    """Energy-based GAN: an autoencoder discriminator whose energy is the
    per-image reconstruction MSE.

    "Energy-based Generative Adversarial Network", Zhao, Mathieu & LeCun,
    ICLR 2017. With `D(x)` the mean squared reconstruction error of `x`:

    - discriminator loss `E[D(x)] + E[max(0, margin - D(G(z)))]`,
    - generator loss `E[D(G(z))] + pt_weight * PT(codes of G(z))`, with PT
      the pulling-away term (`pulling_away_term`) against mode collapse.

    Logs `d_loss` (the margin loss; penalties, if any, under their own
    names), `g_loss` (energy plus weighted PT), `energy_real`, `energy_fake`
    and `pt`.

    Args:
        image_shape, latent_dim, base_filters: as in `DCGAN`; the
            generator is DCGAN's, the autoencoder is
            `keras_gans.networks.autoencoder.autoencoder_discriminator`.
        code_dim: size of the autoencoder's code (the PT embeddings).
        margin: the energy above which fakes stop being pushed up. Energies
            are per-pixel means of images in [-1, 1].
        pt_weight: weight of the pulling-away term (0.1 in the paper).
        generator, discriminator: your own networks (the discriminator an
            autoencoder `images -> [reconstruction, code]`).
        **kwargs: passed to `GAN` (`n_critic`, `seed`, `ema_decay`,
            `penalties`, `name`); there is no `loss` argument.

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import EBGAN
    >>> gan = EBGAN(latent_dim=8, base_filters=4, code_dim=8, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'energy_fake', 'energy_real', 'g_loss', 'pt']
    """

    tracked_metrics = ("d_loss", "g_loss", "energy_real", "energy_fake", "pt")

    def __init__(self, *args, margin=1.0, pt_weight=0.1, **kwargs):
        super().__init__(*args, **kwargs)
        if margin <= 0:
            raise ValueError(f"margin must be positive, got {margin}.")
        self.margin = float(margin)
        self.pt_weight = non_negative(pt_weight, "pt_weight")

    def energy_of(self, images, reconstruction):
        return _per_image_mean(ops.square(reconstruction - ops.convert_to_tensor(images)))

    def discriminator_loss(self, real, fake, labels=None):
        energy_real = self.discriminate(real)
        energy_fake = self.discriminate(fake)
        loss = backend.float32_mean(energy_real) + backend.float32_mean(ops.relu(self.margin - energy_fake))
        logs = {"d_loss": loss, "energy_real": backend.float32_mean(energy_real)}
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def generator_loss(self, real, fake, labels=None):
        reconstruction, code = self.autoencode(fake)
        energy_fake = backend.float32_mean(self.energy_of(fake, reconstruction))
        pt = pulling_away_term(code)
        loss = energy_fake + self.pt_weight * pt
        return loss, {"g_loss": loss, "energy_fake": energy_fake, "pt": pt}

    def default_optimizer(self, key):
        return _adam()

    def get_config(self):
        config = super().get_config()
        config.update(margin=self.margin, pt_weight=self.pt_weight)
        return config


@keras.saving.register_keras_serializable(package="keras_gans")
class BEGAN(AutoencoderGAN):
    """Boundary equilibrium GAN: an autoencoder discriminator with an L1
    reconstruction loss and a proportional control of the balance.

    "BEGAN: Boundary Equilibrium Generative Adversarial Networks",
    Berthelot, Schumm & Metz, 2017. With `L(v) = mean |v - AE(v)|`:

    - discriminator loss `L(x) - k_t L(G(z_D))`,
    - generator loss `L(G(z_G))`,
    - after each step `k_{t+1} = clip(k_t + lambda_k (gamma L(x) -
      L(G(z_G))), 0, 1)`.

    `k_t` is the model's non-trainable variable `k` (saved with the
    weights, carried by every backend's trainer, also under JAX's jit). Logs
    `d_loss`, `g_loss`, `loss_real` (L(x)), `k` and the convergence
    measure `convergence` = `L(x) + |gamma L(x) - L(G(z_G))|`.

    Args:
        image_shape, latent_dim, base_filters, code_dim: as in `EBGAN`.
        gamma: the diversity ratio `E[L(G(z))] / E[L(x)]` aimed at.
        lambda_k: the learning rate of `k_t` (0.001 in the paper).
        k_initial: the starting `k_0` (0 in the paper).
        generator, discriminator: your own networks.
        **kwargs: passed to `GAN` (`seed`, `ema_decay`, `name`...). With
            `n_critic > 1`, `k` is updated once per train step with the last
            critic chunk's `L(x)`.

    Trained with Adam(1e-4, beta_1=0.5) unless `compile()` says otherwise.

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import BEGAN
    >>> gan = BEGAN(latent_dim=8, base_filters=4, code_dim=8, lambda_k=0.1,
    ...             seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, epochs=1, verbose=0)
    >>> 0.0 <= float(gan.k.numpy()) <= 1.0
    True
    """

    tracked_metrics = ("d_loss", "g_loss", "loss_real", "k", "convergence")

    def __init__(self, *args, gamma=0.5, lambda_k=0.001, k_initial=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma}.")
        if not 0.0 <= k_initial <= 1.0:
            raise ValueError(f"k_initial must be in [0, 1], got {k_initial}.")
        self.gamma = float(gamma)
        self.lambda_k = non_negative(lambda_k, "lambda_k")
        self.k_initial = float(k_initial)
        self.k = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.k_initial),
            trainable=False,
            dtype="float32",
            name="k",
        )

    def energy_of(self, images, reconstruction):
        return _per_image_mean(ops.abs(reconstruction - ops.convert_to_tensor(images)))

    def discriminator_loss(self, real, fake, labels=None):
        loss_real = backend.float32_mean(self.discriminate(real))
        loss_fake = backend.float32_mean(self.discriminate(fake))
        loss = loss_real - ops.convert_to_tensor(self.k) * loss_fake
        logs = {"d_loss": loss, "loss_real": loss_real}
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def generator_loss(self, real, fake, labels=None):
        loss = backend.float32_mean(self.discriminate(fake))
        return loss, {"g_loss": loss}

    def update_k(self, loss_real, loss_fake):
        """`k <- clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1)`; returns
        the new `k` and the convergence measure."""
        balance = self.gamma * loss_real - loss_fake
        k = ops.clip(self.k + self.lambda_k * balance, 0.0, 1.0)
        self.k.assign(k)
        return k, loss_real + ops.abs(balance)

    def adversarial_step(self, data):
        logs = super().adversarial_step(data)
        logs["k"], logs["convergence"] = self.update_k(logs["loss_real"], logs["g_loss"])
        return logs

    def default_optimizer(self, key):
        return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.5)

    def get_config(self):
        config = super().get_config()
        config.update(gamma=self.gamma, lambda_k=self.lambda_k,
                      k_initial=self.k_initial)
        return config

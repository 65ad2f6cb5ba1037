"""MMD GAN (Li, Chang, Cheng, Yang & Poczos, NeurIPS 2017): kernel maximum
mean discrepancy on features learned by an adversarial critic."""
import keras
from keras import ops

from keras_gans import backend
from keras_gans.models.energy import AutoencoderGAN
from keras_gans.regularizers import clip_weights

DEFAULT_SIGMAS = (1.0, 2.0, 4.0, 8.0, 16.0)


def _squared_distances(a, b):
    sq_a = ops.sum(ops.square(a), axis=1, keepdims=True)
    sq_b = ops.sum(ops.square(b), axis=1, keepdims=True)
    return ops.maximum(sq_a - 2.0 * ops.matmul(a, ops.transpose(b)) + ops.transpose(sq_b), 0.0)


def mixture_rbf_kernel(a, b, sigmas=DEFAULT_SIGMAS):
    """`sum_s exp(-||a_i - b_j||^2 / (2 s^2))`, an `(n, m)` matrix."""
    d2 = _squared_distances(a, b)
    return sum(ops.exp(-d2 / (2.0 * float(s) ** 2)) for s in sigmas)


def mmd2(x, y, sigmas=DEFAULT_SIGMAS, biased=False):
    """Squared MMD between samples `x (n, d)` and `y (m, d)` under a
    mixture of RBF kernels with bandwidths `sigmas`.

    `biased=False` (the default) is the unbiased U-statistic (Gretton et
    al. 2012): the within-sample means leave out the diagonal, so it is ~0
    in expectation for two independent samples of one distribution and can
    be slightly negative. `biased=True` is the V-statistic (diagonals kept):
    never negative, exactly 0 when `x` and `y` are the same sample. Inputs
    with more than two axes are flattened per row.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    >>> float(mmd2(x, x, biased=True))
    0.0
    >>> bool(mmd2(x, x + 3.0) > mmd2(x, x + 1.0) > 0.1)
    True
    """
    x = ops.cast(ops.reshape(x, (ops.shape(x)[0], -1)), "float32")
    y = ops.cast(ops.reshape(y, (ops.shape(y)[0], -1)), "float32")
    k_xx = mixture_rbf_kernel(x, x, sigmas)
    k_yy = mixture_rbf_kernel(y, y, sigmas)
    k_xy = mixture_rbf_kernel(x, y, sigmas)
    n = ops.cast(ops.shape(x)[0], "float32")
    m = ops.cast(ops.shape(y)[0], "float32")
    if biased:
        return backend.float32_mean(k_xx) + backend.float32_mean(k_yy) - 2.0 * backend.float32_mean(k_xy)
    within_x = (ops.sum(k_xx) - ops.sum(ops.diagonal(k_xx))) / (n * (n - 1.0))
    within_y = (ops.sum(k_yy) - ops.sum(ops.diagonal(k_yy))) / (m * (m - 1.0))
    return within_x + within_y - 2.0 * backend.float32_mean(k_xy)


@keras.saving.register_keras_serializable(package="keras_gans")
class MMDGAN(AutoencoderGAN):
    """GAN trained on the kernel MMD between learned features of real and
    generated images.

    "MMD GAN: Towards Deeper Understanding of Moment Matching Network",
    Li et al., NeurIPS 2017. The critic is an autoencoder
    (`keras_gans.networks.autoencoder`); its code `f(x)` is the feature:

    - critic loss `-MMD^2(f(x), f(G(z))) + autoencoder_weight *
      (E|x - AE(x)|^2 + E|G(z) - AE(G(z))|^2)` (it maximises the MMD while
      the decoder keeps the features injective, the paper's lambda_AE),
    - generator loss `MMD^2(f(x), f(G(z)))`,

    with `mmd2` under a mixture of RBF kernels (`sigmas`), unbiased unless
    `biased=True`. `clip_value` (default 0.01, the paper's) clips the
    encoder's weights after each critic step: without it the critic pushes
    the features of real and fake images so far apart that every RBF kernel
    between them vanishes, and so does the generator's gradient (measured:
    MMD^2 ~3.8 of at most 10 after 70 MNIST steps); None leaves them free. `discriminate()` returns the features. Logs `d_loss` (the
    whole critic loss), `g_loss` (= the generator's MMD^2) and `mmd2` (the
    critic step's MMD^2).

    Args:
        image_shape, latent_dim, base_filters, code_dim: as in `EBGAN`
            (`code_dim` is the feature size).
        sigmas: RBF bandwidths of the kernel mixture.
        biased: use the biased (V-statistic) MMD estimator.
        autoencoder_weight: weight of the critic's reconstruction term.
        clip_value: bound of the encoder's weights, or None.
        generator, discriminator: your own networks (the discriminator an
            autoencoder `images -> [reconstruction, code]` with a sub-model
            named `"encoder"` when `clip_value` is set).
        **kwargs: passed to `GAN` (`n_critic`, `seed`, `ema_decay`, `name`).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import MMDGAN
    >>> gan = MMDGAN(latent_dim=8, base_filters=4, code_dim=8, seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss', 'mmd2']
    """

    tracked_metrics = ("d_loss", "g_loss", "mmd2")

    def __init__(
        self,
        *args,
        sigmas=DEFAULT_SIGMAS,
        biased=False,
        autoencoder_weight=1.0,
        clip_value=0.01,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.sigmas = tuple(float(s) for s in sigmas)
        if not self.sigmas or min(self.sigmas) <= 0:
            raise ValueError(f"sigmas must be positive, got {sigmas}.")
        self.biased = bool(biased)
        self.autoencoder_weight = float(autoencoder_weight)
        self.clip_value = None if clip_value is None else float(clip_value)
        if self.clip_value is not None:
            self._encoder()  # fail early when there is no encoder to clip

    def _encoder(self):
        try:
            return self.discriminator.get_layer("encoder")
        except ValueError:
            raise ValueError(
                "clip_value needs a discriminator with a sub-model named "
                "'encoder'."
            ) from None

    def energy_of(self, images, reconstruction):
        x = ops.cast(ops.convert_to_tensor(images) - reconstruction, "float32")
        return ops.mean(ops.reshape(ops.square(x), (ops.shape(x)[0], -1)), axis=1, keepdims=True)

    def discriminate(self, images, labels=None, training=True):
        """The critic's features `(batch, code_dim)`."""
        return self.autoencode(images, training)[1]

    def discriminator_loss(self, real, fake, labels=None):
        rec_real, f_real = self.autoencode(real)
        rec_fake, f_fake = self.autoencode(fake)
        distance = mmd2(f_real, f_fake, self.sigmas, self.biased)
        loss = -distance
        if self.autoencoder_weight:
            reconstruction = backend.float32_mean(self.energy_of(real, rec_real)) + backend.float32_mean(
                self.energy_of(fake, rec_fake)
            )
            loss = loss + self.autoencoder_weight * reconstruction
        logs = {"d_loss": loss, "mmd2": distance}
        loss = loss + self.penalty_loss(real, fake, labels, logs)
        return loss, logs

    def generator_loss(self, real, fake, labels=None):
        f_real = ops.stop_gradient(self.discriminate(real))
        loss = mmd2(f_real, self.discriminate(fake), self.sigmas, self.biased)
        return loss, {"g_loss": loss}

    def discriminator_step(self, real, labels):
        logs = super().discriminator_step(real, labels)
        if self.clip_value is not None:
            clip_weights(self._encoder(), self.clip_value)
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            sigmas=list(self.sigmas),
            biased=self.biased,
            autoencoder_weight=self.autoencoder_weight,
            clip_value=self.clip_value,
        )
        return config

"""DCGAN (Radford, Metz & Chintala 2016)."""
import keras

from keras_gans import backend
from keras_gans.core import GAN
from keras_gans.networks import dcgan_discriminator
from keras_gans.networks import dcgan_generator


@keras.saving.register_keras_serializable(package="keras_gans")
class DCGAN(GAN):
    """Deep convolutional GAN with the non-saturating loss and BatchNorm.

    "Unsupervised Representation Learning with Deep Convolutional Generative
    Adversarial Networks", Radford et al., ICLR 2016. Trained with
    Adam(2e-4, beta_1=0.5) on both networks unless `compile()` says
    otherwise.

    Args:
        image_shape: `(height, width, channels)` of the images, e.g.
            `(28, 28, 1)` for MNIST or `(64, 64, 3)`.
        latent_dim: size of the Gaussian latent (default 100; read from
            `generator` when one is given).
        base_filters: width of the discriminator's first block; the
            generator's widths mirror it.
        discriminator_batch_norm: BatchNorm in the discriminator (the
            paper's choice); False gives a batch-free discriminator.
        discriminator_dropout: Dropout rate after each discriminator block.
        minibatch_stddev: append the minibatch standard deviation feature
            (Karras et al. 2018) in the discriminator.
        synchronized_batch_norm: BatchNorm statistics over the global batch
            of tf.distribute replicas (`SyncBatchNormalization`), so
            `MirroredStrategy` trains as one device would at the same
            global batch. None (default): True when the model is built in
            the scope of a strategy with several replicas. Not needed on
            JAX, where `DataParallel` statistics are global already.
        generator, discriminator: your own networks instead of the built-in
            ones (any Keras models with matching shapes).
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `name`).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import DCGAN
    >>> gan = DCGAN(image_shape=(28, 28, 1), latent_dim=16, base_filters=8,
    ...             seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=32, epochs=1, verbose=0)
    >>> gan.generate(n=4).shape
    (4, 28, 28, 1)
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=None,
        base_filters=64,
        discriminator_batch_norm=True,
        discriminator_dropout=0.0,
        minibatch_stddev=False,
        synchronized_batch_norm=None,
        generator=None,
        discriminator=None,
        **kwargs,
    ):
        image_shape = tuple(int(d) for d in image_shape)
        if synchronized_batch_norm is None:
            synchronized_batch_norm = backend.replicas_in_sync() > 1
        sync = bool(synchronized_batch_norm)
        if generator is None:
            latent_dim = 100 if latent_dim is None else latent_dim
            generator = dcgan_generator(
                image_shape, latent_dim, base_filters, synchronized_batch_norm=sync
            )
        if discriminator is None:
            discriminator = dcgan_discriminator(
                image_shape, base_filters, batch_norm=discriminator_batch_norm,
                dropout=discriminator_dropout, minibatch_stddev=minibatch_stddev,
                synchronized_batch_norm=sync,
            )
        kwargs.setdefault("loss", "non_saturating")
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        if self.image_shape != image_shape:
            raise ValueError(
                f"The generator makes images of shape {self.image_shape}, "
                f"not image_shape={image_shape}."
            )
        self.base_filters = base_filters
        self.discriminator_batch_norm = discriminator_batch_norm
        self.discriminator_dropout = discriminator_dropout
        self.minibatch_stddev = minibatch_stddev
        self.synchronized_batch_norm = sync

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            base_filters=self.base_filters,
            discriminator_batch_norm=self.discriminator_batch_norm,
            discriminator_dropout=self.discriminator_dropout,
            minibatch_stddev=self.minibatch_stddev,
            synchronized_batch_norm=self.synchronized_batch_norm,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_gans")
class LSGAN(DCGAN):
    """Least squares GAN (Mao et al. 2017): DCGAN networks, least squares loss.

    "Least Squares Generative Adversarial Networks", ICCV 2017; targets
    a=0 (fake), b=1 (real), c=1 (generator). Takes DCGAN's arguments.

    >>> gan = LSGAN(latent_dim=8, base_filters=4)
    >>> gan.loss_fn.name
    'least_squares'
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("loss", "least_squares")
        super().__init__(*args, **kwargs)


@keras.saving.register_keras_serializable(package="keras_gans")
class RaGAN(DCGAN):
    """Relativistic average GAN (Jolicoeur-Martineau 2019) on DCGAN networks.

    The discriminator estimates how much more realistic a real image is than
    the average fake (and the reverse); the generator's loss uses real
    images' logits too. Takes DCGAN's arguments.

    >>> gan = RaGAN(latent_dim=8, base_filters=4)
    >>> gan.loss_fn.needs_real_logits
    True
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("loss", "relativistic_average")
        super().__init__(*args, **kwargs)

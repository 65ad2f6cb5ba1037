"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein, ICLR 2017)."""
import keras
from keras import ops

from keras_gans import backend
from keras_gans.core import GAN
from keras_gans.networks import dcgan_discriminator
from keras_gans.networks import dcgan_generator
from keras_gans.utils.checks import at_least
from keras_gans.utils.checks import non_negative

_UNROLL_OPTIMIZERS = ("sgd", "adam")


def unrolled_weights(
    critic_loss, weights, steps, learning_rate, optimizer="adam",
    beta_1=0.5, beta_2=0.999, epsilon=1e-8,
):
    """The critic's weights after `steps` functional optimizer steps.

    `critic_loss(weights) -> scalar` is the critic's loss as a function of
    its weight values. Each step takes a differentiable gradient
    (`keras_gans.backend.differentiable_grad`), so the returned weights stay
    differentiable with respect to whatever the loss depends on (the
    generator's samples). `optimizer` is `"sgd"` or `"adam"` (fresh moments
    at every call; epsilon inside the square root keeps it differentiable
    at zero gradients).

    >>> import numpy as np
    >>> loss = lambda w: keras.ops.sum(keras.ops.square(w[0] - 3.0))
    >>> w = unrolled_weights(loss, [np.zeros(2, "float32")], 1, 0.25, "sgd")
    >>> [float(x) for x in w[0]]
    [1.5, 1.5]
    """
    if optimizer not in _UNROLL_OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {_UNROLL_OPTIMIZERS}, got {optimizer!r}."
        )
    weights = [ops.convert_to_tensor(w) for w in weights]
    m = [ops.zeros_like(w) for w in weights]
    v = [ops.zeros_like(w) for w in weights]
    for t in range(1, steps + 1):
        _, grads = backend.differentiable_grad(critic_loss, weights)
        if optimizer == "sgd":
            weights = [w - learning_rate * g for w, g in zip(weights, grads)]
            continue
        m = [beta_1 * a + (1.0 - beta_1) * g for a, g in zip(m, grads)]
        v = [beta_2 * b + (1.0 - beta_2) * ops.square(g) for b, g in zip(v, grads)]
        rate = learning_rate * (1.0 - beta_2**t) ** 0.5 / (1.0 - beta_1**t)
        weights = [
            w - rate * a / ops.sqrt(b + epsilon**2)
            for w, a, b in zip(weights, m, v)
        ]
    return weights


@keras.saving.register_keras_serializable(package="keras_gans")
class UnrolledGAN(GAN):
    """A GAN whose generator loss looks `unroll_steps` critic updates ahead.

    "Unrolled Generative Adversarial Networks", Metz et al., ICLR 2017. The
    discriminator step is the usual one. The generator step copies the
    discriminator's weight values, applies `unroll_steps` functional
    optimizer steps on the discriminator loss (same real batch, the
    generator's current samples), evaluates the generator loss with the
    unrolled weights (`discriminator.stateless_call`) and backpropagates
    through the unrolled steps into the generator (on every backend, via
    `keras_gans.backend.differentiable_grad`). The real discriminator is
    not changed by the unrolling. `unroll_steps=0` is the plain GAN
    generator loss. Penalties (if any) apply to the real critic step only;
    the discriminator's non-trainable state is held fixed while unrolling.

    Args:
        image_shape, latent_dim, base_filters: as in `DCGAN`.
        unroll_steps: k, the number of unrolled discriminator updates.
        unroll_learning_rate: learning rate of the unrolled updates.
        unroll_optimizer: `"adam"` (fresh moments, beta_1=0.5, as the paper
            unrolls the discriminator's Adam) or `"sgd"`.
        second_order: backpropagate through the unrolled updates' dependence
            on the generator (the paper's full gradient). False treats the
            unrolled weights as constants (cheaper; only the lookahead).
        discriminator_batch_norm: BatchNorm in the built-in discriminator
            (off by default: unrolled steps keep its statistics fixed).
        generator, discriminator: your own networks.
        **kwargs: passed to `GAN` (`loss`, `n_critic`, `seed`, `ema_decay`,
            `penalties`, `name`).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import UnrolledGAN
    >>> gan = UnrolledGAN(latent_dim=8, base_filters=4, unroll_steps=2,
    ...                   seed=0)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss']
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=100,
        base_filters=32,
        unroll_steps=5,
        unroll_learning_rate=2e-4,
        unroll_optimizer="adam",
        second_order=True,
        discriminator_batch_norm=False,
        generator=None,
        discriminator=None,
        **kwargs,
    ):
        if int(unroll_steps) < 0:
            raise ValueError(f"unroll_steps must be >= 0, got {unroll_steps}.")
        if unroll_optimizer not in _UNROLL_OPTIMIZERS:
            raise ValueError(
                f"unroll_optimizer must be one of {_UNROLL_OPTIMIZERS}, got "
                f"{unroll_optimizer!r}."
            )
        image_shape = tuple(int(d) for d in image_shape)
        if generator is None:
            generator = dcgan_generator(image_shape, latent_dim, base_filters)
        if discriminator is None:
            discriminator = dcgan_discriminator(
                image_shape, base_filters, batch_norm=discriminator_batch_norm
            )
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.base_filters = int(base_filters)
        self.unroll_steps = at_least(unroll_steps, 0, "unroll_steps")
        self.unroll_learning_rate = non_negative(unroll_learning_rate, "unroll_learning_rate")
        self.unroll_optimizer = unroll_optimizer
        self.second_order = bool(second_order)
        self.discriminator_batch_norm = bool(discriminator_batch_norm)

    def unrolled_discriminator_weights(self, real, fake, labels=None):
        """The discriminator's trainable weight values after the unrolled
        steps, and its (fixed) non-trainable values."""
        network = self.discriminator
        trainable = [ops.convert_to_tensor(v.value) for v in network.trainable_variables]
        fixed = [ops.convert_to_tensor(v.value) for v in network.non_trainable_variables]
        seen_fake = fake if self.second_order else ops.stop_gradient(fake)

        def critic_loss(weights):  # the discriminator's loss, on what it sees
            real_logits, _ = network.stateless_call(
                weights, fixed, self.augment_images(real), training=True)
            fake_logits, _ = network.stateless_call(
                weights, fixed, self.augment_images(seen_fake), training=True)
            return self.loss_fn.discriminator(real_logits, fake_logits)

        weights = unrolled_weights(
            critic_loss, trainable, self.unroll_steps, self.unroll_learning_rate,
            self.unroll_optimizer,
        )
        if not self.second_order:
            weights = [ops.stop_gradient(w) for w in weights]
        return weights, fixed

    def generator_loss(self, real, fake, labels=None):
        if self.unroll_steps == 0:
            return super().generator_loss(real, fake, labels)
        weights, fixed = self.unrolled_discriminator_weights(real, fake, labels)

        def critic(images):
            images = self.augment_images(images)
            return self.discriminator.stateless_call(weights, fixed, images, training=True)[0]

        real_logits = None
        if self.loss_fn.needs_real_logits:
            real_logits = ops.stop_gradient(critic(real))
        loss = self.loss_fn.generator(critic(fake), real_logits)
        return loss, {"g_loss": loss}

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            base_filters=self.base_filters,
            unroll_steps=self.unroll_steps,
            unroll_learning_rate=self.unroll_learning_rate,
            unroll_optimizer=self.unroll_optimizer,
            second_order=self.second_order,
            discriminator_batch_norm=self.discriminator_batch_norm,
        )
        return config

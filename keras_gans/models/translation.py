"""Image-to-image translation: pix2pix (paired) and CycleGAN (unpaired).

"Image-to-Image Translation with Conditional Adversarial Networks", Isola,
Zhu, Zhou & Efros, CVPR 2017; "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", Zhu, Park, Isola & Efros, ICCV 2017.

Both train on batches of image pairs `(a, b)`: `fit(a_images, b_images)`
or a dataset yielding `(a, b)` (for CycleGAN the two sides need not match:
see `keras_gans.datasets.unpaired_dataset`). Their networks sit in the
core's network sets like any GAN's; CycleGAN has four, each with its own
optimizer.
"""
import keras
import numpy as np
from keras import ops

from keras_gans import backend
from keras_gans import losses
from keras_gans.core.adversarial import AdversarialModel
from keras_gans.core.gan import _shape_tail
from keras_gans.layers import ImagePool
from keras_gans.networks.translation import patchgan_discriminator
from keras_gans.networks.translation import resnet_translator
from keras_gans.networks.translation import unet_generator
from keras_gans.utils.checks import at_least
from keras_gans.utils.checks import non_negative
from keras_gans.utils.images import check_image_array
from keras_gans.utils.images import is_array

DIRECTIONS = ("a2b", "b2a")


def l1_distance(x, y):
    """Mean absolute difference, in float32."""
    return backend.float32_mean(ops.abs(ops.cast(x, "float32") - ops.cast(y, "float32")))


def _deserialize_networks(config, keys):
    config = dict(config)
    for key in keys:
        if isinstance(config.get(key), dict):
            config[key] = keras.saving.deserialize_keras_object(config[key])
    return config


class TranslationModel(AdversarialModel):
    """Shared plumbing of the translation models: pair unpacking, checks,
    `translate`. Not registered: use `Pix2Pix` or `CycleGAN`."""

    generator_names = {}  # direction -> generator attribute
    network_names = ()

    def _image_shapes(self, generator):
        source = _shape_tail(generator.input_shape)
        target = _shape_tail(generator.output_shape)
        return source, target

    def split_pair(self, data):
        """`(a, b)` image batches of a training batch, checked."""
        a, b, _ = keras.utils.unpack_x_y_sample_weight(data)
        if b is None and isinstance(a, (tuple, list)) and len(a) == 2:
            a, b = a
        self._check_pair(a, b)
        return ops.cast(a, self.compute_dtype), ops.cast(b, self.compute_dtype)

    def _check_pair(self, a, b):
        if b is None:
            raise ValueError(
                f"{type(self).__name__} trains on pairs of image batches: call "
                "fit(a_images, b_images) or pass a dataset yielding (a, b)."
            )
        self._check(a, self.source_shape, "a (source)")
        self._check(b, self.target_shape, "b (target)")

    def _check(self, images, expected, side):
        shape = _shape_tail(images.shape)
        if shape != tuple(expected):
            raise ValueError(
                f"{type(self).__name__} was built for {side} images of shape "
                f"{tuple(expected)}, got a batch of shape {tuple(images.shape)}. "
                "Resize the data or build the model with a matching image_shape."
            )
        dtype = keras.backend.standardize_dtype(images.dtype)
        if not dtype.startswith(("float", "bfloat")):
            raise ValueError(
                f"Images must be floats in [-1, 1]; got dtype {dtype}. Convert "
                "uint8 images with `images / 127.5 - 1`."
            )

    def fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
        """`keras.Model.fit` on pairs: `fit(a_images, b_images)` or a dataset
        of `(a, b)` batches. Array input is checked before any step runs."""
        if hasattr(x, "shape") and not isinstance(x, (tuple, list)):
            self._assert_compile_called("fit()")
            self._check_pair(x, y)
            if len(x) != len(y):
                raise ValueError(f"fit() got {len(x)} a images but {len(y)} b images.")
        # The base class checks the a side's values; NaN in b would poison
        # the weights as surely.
        for pair, context in ((x if y is None else (x, y), "fit()"),
                              (kwargs.get("validation_data"), "validation_data")):
            if isinstance(pair, (tuple, list)) and len(pair) == 2 and is_array(pair[1]):
                check_image_array(np.asarray(pair[1]), f"{context} (b images)")
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)

    def translate(self, images, direction="a2b", batch_size=64):
        """Translated images (numpy, in [-1, 1]) in evaluation mode."""
        if direction not in self.generator_names:
            raise ValueError(
                f"Unknown direction {direction!r}; {type(self).__name__} "
                f"translates {sorted(self.generator_names)}."
            )
        generator = getattr(self, self.generator_names[direction])
        return generator.predict(images, batch_size=batch_size, verbose=0)

    @property
    def sampler(self):
        """The `a -> b` generator (what `keras_gans.zoo.load` returns)."""
        return getattr(self, self.generator_names["a2b"])

    def call(self, images, training=False):
        return self.sampler(images, training=training)

    def get_config(self):
        config = super().get_config()
        for name in self.network_names:
            config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_networks(config, cls.network_names))


@keras.saving.register_keras_serializable(package="keras_gans")
class Pix2Pix(TranslationModel):
    """pix2pix: a conditional GAN that learns `a -> b` from aligned pairs.

    The generator (a U-Net) maps `a` to `b`; the PatchGAN discriminator
    judges `(a, b)` concatenated along channels, patch by patch. Losses:

    - discriminator: `0.5 * (BCE(D(a, b), 1) + BCE(D(a, G(a)), 0))`
      (the paper halves it to slow D down),
    - generator: `BCE(D(a, G(a)), 1) + l1_weight * |G(a) - b|`.

    Logs `d_loss`, `g_loss`, `g_adv` and `l1`.

    Args:
        image_shape: shape of the source images `a`.
        target_channels: channels of `b` (default: as `a`; e.g. 1 -> 3 for
            edges -> photos).
        base_filters: width of the first layers of both networks.
        depth: stride-2 levels of the U-Net (default: down to 1x1; fewer
            levels make a smaller model whose bottleneck keeps a spatial map).
        l1_weight: lambda of the L1 term (100 in the paper).
        loss: the adversarial loss (`keras_gans.losses`).
        norm: `"batch"` (the paper's) or `"instance"` in both networks.
        discriminator_layers: PatchGAN stride-2 layers (default: scaled to
            the image, see `patchgan_layers`).
        dropout: the U-Net decoder's dropout (0 disables).
        generator, discriminator: your own networks (the discriminator
            takes source and target channels concatenated).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import Pix2Pix
    >>> model = Pix2Pix(image_shape=(16, 16, 3), base_filters=4)
    >>> model.compile()
    >>> a = np.random.uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    >>> history = model.fit(a, -a, batch_size=4, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_adv', 'g_loss', 'l1']
    >>> model.translate(a).shape
    (8, 16, 16, 3)
    """

    network_sets = {"d": ("discriminator",), "g": ("generator",)}
    network_names = ("generator", "discriminator")
    generator_names = {"a2b": "generator"}
    tracked_metrics = ("d_loss", "g_loss", "g_adv", "l1")

    def __init__(self, image_shape=(64, 64, 3), target_channels=None, base_filters=64,
                 depth=None, l1_weight=100.0, loss="non_saturating", norm="batch",
                 discriminator_layers=None, dropout=0.5, generator=None,
                 discriminator=None, **kwargs):
        super().__init__(**kwargs)
        image_shape = tuple(int(d) for d in image_shape)
        # None means "as the source"; 0 is an error, not None.
        target_channels = at_least(
            image_shape[-1] if target_channels is None else target_channels, 1, "target_channels")
        self.generator = generator or unet_generator(
            image_shape, target_channels, base_filters, depth=depth, norm=norm,
            dropout=dropout)
        self.source_shape, self.target_shape = self._image_shapes(self.generator)
        pair_shape = self.target_shape[:2] + (self.source_shape[-1] + self.target_shape[-1],)
        self.discriminator = discriminator or patchgan_discriminator(
            pair_shape, base_filters, discriminator_layers, norm=norm)
        self.image_shape, self.target_channels = image_shape, target_channels
        self.base_filters, self.norm, self.dropout = int(base_filters), norm, dropout
        self.depth = depth
        self.discriminator_layers = discriminator_layers
        self.l1_weight = non_negative(l1_weight, "l1_weight")
        self.loss_fn = losses.get(loss)
        self.built = True

    def discriminate(self, a, b, training=True):
        """Patch logits for source `a` and a real or generated target `b`."""
        pair = ops.concatenate([a, ops.cast(b, a.dtype)], -1)
        return self.run_network(self.discriminator, pair, training)

    def adversarial_step(self, data):
        a, b = self.split_pair(data)

        def discriminator_loss():
            fake = ops.stop_gradient(self.run_network(self.generator, a, True))
            loss = 0.5 * self.loss_fn.discriminator(self.discriminate(a, b),
                                                    self.discriminate(a, fake))
            return loss, {"d_loss": loss}

        def generator_loss():
            fake = self.run_network(self.generator, a, True)
            adversarial = self.loss_fn.generator(self.discriminate(a, fake))
            l1 = l1_distance(fake, b)
            loss = adversarial + self.l1_weight * l1
            return loss, {"g_loss": loss, "g_adv": adversarial, "l1": l1}

        logs = self.update("d", discriminator_loss)
        logs.update(self.update("g", generator_loss))
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape), target_channels=self.target_channels,
            base_filters=self.base_filters, depth=self.depth, l1_weight=self.l1_weight,
            loss=self.loss_fn.get_config(), norm=self.norm,
            discriminator_layers=self.discriminator_layers, dropout=self.dropout,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_gans")
class CycleGAN(TranslationModel):
    """CycleGAN: translation both ways between two unpaired image domains.

    Generators `G_ab: a -> b` and `G_ba: b -> a` (ResNet generators),
    discriminators `D_a`, `D_b` (PatchGANs), each network with its own
    optimizer (`compile(g_ab_optimizer=, g_ba_optimizer=, d_a_optimizer=,
    d_b_optimizer=)`). Per step, the two generators update together on

        adv(D_b(G_ab(a))) + adv(D_a(G_ba(b)))
        + cycle_weight * (|G_ba(G_ab(a)) - a| + |G_ab(G_ba(b)) - b|)
        + identity_weight * cycle_weight * (|G_ba(a) - a| + |G_ab(b) - b|)

    then each discriminator updates on real images and the step's fakes
    mixed with earlier ones by an `ImagePool`. The adversarial loss is least
    squares (LSGAN), as in the paper. Logs `g_loss`, `g_adv`, `cycle_loss`,
    `identity_loss`, `d_a_loss`, `d_b_loss`.

    Args:
        image_shape: shape of both domains' images.
        base_filters: width of the networks' first layers (64 in the paper).
        n_blocks: residual blocks of the generators (default 6 below 256
            pixels, else 9).
        cycle_weight: lambda of the cycle-consistency terms (10).
        identity_weight: identity loss weight relative to `cycle_weight`
            (0.5; 0 disables it and saves two generator passes).
        pool_size: images in each discriminator's `ImagePool` (50; 0 off).
        loss: the adversarial loss (`keras_gans.losses`).
        norm: `"instance"` (the paper's) or `"batch"`.
        discriminator_layers: PatchGAN stride-2 layers (default: scaled).
        seed: seed of the image pools' draws.
        generator_ab, generator_ba, discriminator_a, discriminator_b: your
            own networks.
        residual_output: generators that edit their input image
            (`resnet_translator(residual_output=True)`): they start as the
            identity (not in the paper; for close domains).

    Example:

    >>> import numpy as np
    >>> from keras_gans.models import CycleGAN
    >>> model = CycleGAN(image_shape=(16, 16, 3), base_filters=4, n_blocks=1,
    ...                  pool_size=4, seed=0)
    >>> model.compile()
    >>> a = np.random.uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    >>> history = model.fit(a, a[::-1], batch_size=4, epochs=1, verbose=0)
    >>> sorted(history.history)[:3]
    ['cycle_loss', 'd_a_loss', 'd_b_loss']
    >>> model.translate(a, direction="b2a").shape
    (8, 16, 16, 3)
    """

    network_sets = {
        "g_ab": ("generator_ab",), "g_ba": ("generator_ba",),
        "d_a": ("discriminator_a",), "d_b": ("discriminator_b",),
    }
    network_names = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    generator_names = {"a2b": "generator_ab", "b2a": "generator_ba"}
    tracked_metrics = ("g_loss", "g_adv", "cycle_loss", "identity_loss",
                       "d_a_loss", "d_b_loss")

    def __init__(self, image_shape=(64, 64, 3), base_filters=64, n_blocks=None,
                 cycle_weight=10.0, identity_weight=0.5, pool_size=50,
                 loss="least_squares", norm="instance", discriminator_layers=None,
                 seed=None, generator_ab=None, generator_ba=None,
                 discriminator_a=None, discriminator_b=None, residual_output=False,
                 **kwargs):
        super().__init__(**kwargs)
        image_shape = tuple(int(d) for d in image_shape)

        def generator(name):
            return resnet_translator(image_shape, None, base_filters, n_blocks,
                                     norm=norm, residual_output=residual_output, name=name)

        def discriminator(name):
            return patchgan_discriminator(image_shape, base_filters,
                                          discriminator_layers, norm=norm, name=name)

        self.generator_ab = generator_ab or generator("generator_ab")
        self.generator_ba = generator_ba or generator("generator_ba")
        self.discriminator_a = discriminator_a or discriminator("discriminator_a")
        self.discriminator_b = discriminator_b or discriminator("discriminator_b")
        self.source_shape, self.target_shape = self._image_shapes(self.generator_ab)
        if self._image_shapes(self.generator_ba) != (self.target_shape, self.source_shape):
            raise ValueError(
                "generator_ba must map b images back to a images: generator_ab "
                f"maps {self.source_shape} -> {self.target_shape} but generator_ba "
                f"maps {' -> '.join(map(str, self._image_shapes(self.generator_ba)))}."
            )
        self.image_shape, self.base_filters, self.n_blocks = image_shape, int(base_filters), n_blocks
        self.cycle_weight = non_negative(cycle_weight, "cycle_weight")
        self.identity_weight = non_negative(identity_weight, "identity_weight")
        self.norm, self.discriminator_layers, self.seed = norm, discriminator_layers, seed
        self.residual_output = bool(residual_output)
        self.loss_fn = losses.get(loss)
        self.pool_size = int(pool_size)
        second_seed = None if seed is None else int(seed) + 1
        self.pool_a = ImagePool(pool_size, seed=seed, name="pool_a")
        self.pool_b = ImagePool(pool_size, seed=second_seed, name="pool_b")
        self.pool_a.build((None,) + self.source_shape)
        self.pool_b.build((None,) + self.target_shape)
        self.built = True

    def generator_loss(self, a, b):
        fake_b = self.run_network(self.generator_ab, a, True)
        fake_a = self.run_network(self.generator_ba, b, True)
        adversarial = (
            self.loss_fn.generator(self.run_network(self.discriminator_b, fake_b, True))
            + self.loss_fn.generator(self.run_network(self.discriminator_a, fake_a, True))
        )
        cycle = (l1_distance(self.run_network(self.generator_ba, fake_b, True), a)
                 + l1_distance(self.run_network(self.generator_ab, fake_a, True), b))
        loss = adversarial + self.cycle_weight * cycle
        identity = ops.zeros((), "float32")
        if self.identity_weight:
            identity = (l1_distance(self.run_network(self.generator_ba, a, True), a)
                        + l1_distance(self.run_network(self.generator_ab, b, True), b))
            loss = loss + self.identity_weight * self.cycle_weight * identity
        logs = {"g_loss": loss, "g_adv": adversarial, "cycle_loss": cycle,
                "identity_loss": identity}
        # The fakes leave the gradient computation as auxiliary outputs, so
        # the discriminators reuse them instead of running the generators again.
        fakes = {"fake_a": ops.stop_gradient(fake_a), "fake_b": ops.stop_gradient(fake_b)}
        return loss, (logs, fakes)

    def _discriminator_update(self, key, real, fake):
        network = self.discriminator_a if key == "d_a" else self.discriminator_b

        def loss():
            value = self.loss_fn.discriminator(network(real, training=True),
                                               network(fake, training=True))
            return value, {f"{key}_loss": value}

        return self.update(key, loss)

    def adversarial_step(self, data):
        a, b = self.split_pair(data)
        logs, fakes = self.update(("g_ab", "g_ba"), lambda: self.generator_loss(a, b))
        logs = dict(logs)
        logs.update(self._discriminator_update("d_a", a, self.pool_a(fakes["fake_a"], training=True)))
        logs.update(self._discriminator_update("d_b", b, self.pool_b(fakes["fake_b"], training=True)))
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape), base_filters=self.base_filters,
            n_blocks=self.n_blocks, cycle_weight=self.cycle_weight,
            identity_weight=self.identity_weight, pool_size=self.pool_size,
            loss=self.loss_fn.get_config(), norm=self.norm,
            discriminator_layers=self.discriminator_layers, seed=self.seed,
            residual_output=self.residual_output,
        )
        return config

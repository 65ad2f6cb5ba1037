"""Differentiable augmentation of discriminator inputs, for small data sets.

- DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for
  Data-Efficient GAN Training"): the discriminator only ever sees augmented
  images, real and generated alike, and the generator's gradient flows back
  through the augmentation. Policies: `"color"` (brightness, saturation,
  contrast), `"translation"` (a shift of up to 1/8 of the image size, zero
  padded) and `"cutout"` (a zeroed square of half the image size).
- ADA (Karras et al. 2020, "Training Generative Adversarial Networks with
  Limited Data"): `AdaptiveAugment` augments each image with a probability
  `p` that it tunes from the overfitting heuristic `r_t = E[sign(D(real))]`.

Everything is `keras.ops` on images `(batch, height, width, channels)` with
static height and width; random parameters are drawn per image from a
`keras.random.SeedGenerator`, so the functions run under `jax.jit`,
`tf.function` and torch eagerly.

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3)).astype("float32")
>>> augmented = diff_augment(images, "color,translation,cutout", seed=0)
>>> tuple(augmented.shape), bool(np.any(keras.ops.convert_to_numpy(augmented) != images))
((4, 8, 8, 3), True)
"""
import keras
from keras import ops

from keras_gans import backend
from keras_gans.utils.seeds import SavesSeedState
from keras_gans.utils.checks import at_least

POLICIES = ("color", "translation", "cutout")
DEFAULT_POLICY = "color,translation,cutout"


def parse_policy(policy):
    """The policy as a tuple of names, from `"color,cutout"` or a sequence.

    >>> parse_policy("color, translation")
    ('color', 'translation')
    >>> parse_policy("")
    ()
    """
    if policy is None:
        return ()
    if isinstance(policy, str):
        policy = policy.split(",")
    names = tuple(str(name).strip().lower() for name in policy if str(name).strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(
            f"Unknown DiffAugment policies {unknown}; choose from {list(POLICIES)} "
            "(a comma-separated string such as 'color,translation,cutout'); for "
            "adaptive augmentation pass augment='ada' to a GAN, or an AdaptiveAugment."
        )
    return names


def _seed_generator(seed):
    """`seed` if it is a SeedGenerator, else a new one seeded with it.

    Inside a compiled train step, pass a SeedGenerator that the model owns
    (e.g. `DiffAugment`'s): a fresh one would repeat its draws every step.
    """
    if isinstance(seed, keras.random.SeedGenerator):
        return seed
    return keras.random.SeedGenerator(seed)


def _check_images(images):
    images = ops.convert_to_tensor(images)
    if len(images.shape) != 4 or images.shape[1] is None or images.shape[2] is None:
        raise ValueError(
            "Augmentation expects images of shape (batch, height, width, "
            f"channels) with static height and width; got {images.shape}."
        )
    return images


def _per_image_shape(images):
    return (ops.shape(images)[0], 1, 1, 1)


def _uniform(shape, seed, dtype):
    draw = lambda s: backend.random_uniform(s, seed=seed, dtype=dtype)  # noqa: E731
    return backend.draw_for_replica(draw, tuple(shape))


def _randint(shape, low, high, seed):
    """Integers in `[low, high)`, int32."""
    draw = lambda s: keras.random.randint(s, low, high, dtype="int32", seed=seed)  # noqa: E731
    return backend.draw_for_replica(draw, tuple(shape))


# ----------------------------------------------- deterministic transforms
# Each takes per-image parameters, so tests (and other pipelines) can set
# them; the random_* functions below draw them as the paper does.


def adjust_brightness(images, delta):
    """`x + delta`, `delta` broadcast per image (e.g. shape `(batch, 1, 1, 1)`)."""
    images = ops.convert_to_tensor(images)
    return images + ops.cast(delta, images.dtype)


def adjust_saturation(images, factor):
    """Scales each pixel's deviation from its mean over channels by `factor`."""
    images = ops.convert_to_tensor(images)
    mean = ops.mean(images, axis=-1, keepdims=True)
    return (images - mean) * ops.cast(factor, images.dtype) + mean


def adjust_contrast(images, factor):
    """Scales each image's deviation from its mean (over all pixels and
    channels) by `factor`."""
    images = ops.convert_to_tensor(images)
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * ops.cast(factor, images.dtype) + mean


def translate(images, shift_h, shift_w):
    """Shifts image `b` by `shift_h[b]` rows down and `shift_w[b]` columns
    right (integer tensors of shape `(batch,)`), filling with zeros.

    A gather from the zero-padded images, so it is differentiable with
    respect to the images.

    >>> import numpy as np
    >>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    >>> y = translate(x, np.array([1]), np.array([-1]))
    >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].tolist()
    [[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [4.0, 5.0, 0.0]]
    """
    images = _check_images(images)
    height, width = int(images.shape[1]), int(images.shape[2])
    padded = ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    # Output row i reads input row i - shift, i.e. padded row i - shift + 1;
    # anything outside lands on the zero border (row 0 or height + 1).
    shift_h = ops.cast(ops.reshape(shift_h, (-1, 1)), "int32")
    shift_w = ops.cast(ops.reshape(shift_w, (-1, 1)), "int32")
    rows = ops.clip(ops.arange(height, dtype="int32")[None, :] - shift_h + 1, 0, height + 1)
    cols = ops.clip(ops.arange(width, dtype="int32")[None, :] - shift_w + 1, 0, width + 1)
    shifted = ops.take_along_axis(padded, rows[:, :, None, None], axis=1)
    return ops.take_along_axis(shifted, cols[:, None, :, None], axis=2)


def cutout(images, top, left, size):
    """Zeroes, in image `b`, the `size = (rows, cols)` rectangle whose
    upper-left corner is `(top[b], left[b])` (parts outside the image are
    ignored). `top`, `left`: integer tensors of shape `(batch,)`.

    >>> import numpy as np
    >>> y = cutout(np.ones((1, 4, 4, 1), "float32"), np.array([1]), np.array([2]), (2, 2))
    >>> keras.ops.convert_to_numpy(y)[0, :, :, 0].astype(int).tolist()
    [[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]]
    """
    images = _check_images(images)
    height, width = int(images.shape[1]), int(images.shape[2])
    size_h, size_w = int(size[0]), int(size[1])
    top = ops.cast(ops.reshape(top, (-1, 1)), "int32")
    left = ops.cast(ops.reshape(left, (-1, 1)), "int32")
    rows = ops.arange(height, dtype="int32")[None, :]
    cols = ops.arange(width, dtype="int32")[None, :]
    in_rows = ops.logical_and(rows >= top, rows < top + size_h)  # (batch, height)
    in_cols = ops.logical_and(cols >= left, cols < left + size_w)  # (batch, width)
    inside = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])
    keep = ops.cast(ops.logical_not(inside), images.dtype)[..., None]
    return images * keep


# --------------------------------------------------- random transforms
def random_color(images, seed):
    """DiffAugment's color policy: brightness `+U[-0.5, 0.5)`, saturation
    `x U[0, 2)` and contrast `x U[0.5, 1.5)`, per image (images in [-1, 1])."""
    images = _check_images(images)
    shape, dtype = _per_image_shape(images), images.dtype
    images = adjust_brightness(images, _uniform(shape, seed, dtype) - 0.5)
    images = adjust_saturation(images, _uniform(shape, seed, dtype) * 2.0)
    return adjust_contrast(images, _uniform(shape, seed, dtype) + 0.5)


def _scaled(length, ratio):
    return int(length * ratio + 0.5)


def random_translation(images, seed, ratio=0.125):
    """Shifts each image by integers drawn from `[-s, s]` on each axis, with
    `s = round(ratio * size)`, zero padded."""
    images = _check_images(images)
    batch = ops.shape(images)[0]
    max_h = _scaled(images.shape[1], ratio)
    max_w = _scaled(images.shape[2], ratio)
    shift_h = _randint((batch,), -max_h, max_h + 1, seed)
    shift_w = _randint((batch,), -max_w, max_w + 1, seed)
    return translate(images, shift_h, shift_w)


def random_cutout(images, seed, ratio=0.5):
    """Zeroes a `round(ratio * size)` square per image, centred at a random
    pixel (the square is clipped at the border), as in the paper's code."""
    images = _check_images(images)
    batch = ops.shape(images)[0]
    height, width = int(images.shape[1]), int(images.shape[2])
    size_h, size_w = _scaled(height, ratio), _scaled(width, ratio)
    center_h = _randint((batch,), 0, height + (1 - size_h % 2), seed)
    center_w = _randint((batch,), 0, width + (1 - size_w % 2), seed)
    return cutout(images, center_h - size_h // 2, center_w - size_w // 2, (size_h, size_w))


def diff_augment(
    images,
    policy=DEFAULT_POLICY,
    seed=None,
    probability=1.0,
    translation_ratio=0.125,
    cutout_ratio=0.5,
):
    """DiffAugment: `policy`'s transforms in the paper's order (color,
    translation, cutout), with parameters drawn independently per image.

    Args:
        images: `(batch, height, width, channels)` floats, usually in [-1, 1];
            the output has the same shape and dtype.
        policy: comma-separated names from `POLICIES`, or a sequence.
        seed: a `keras.random.SeedGenerator` (required inside a compiled
            train step; it advances on each call), an int or None.
        probability: each image is augmented with this probability and
            left exactly as it is otherwise (ADA's `p`); a float or a scalar
            tensor / variable.
        translation_ratio, cutout_ratio: the largest shift and the cutout
            side, as fractions of the image size (1/8 and 1/2 in the paper).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    >>> a = keras.ops.convert_to_numpy(diff_augment(x, seed=1))
    >>> b = keras.ops.convert_to_numpy(diff_augment(x, seed=1))
    >>> bool(np.array_equal(a, b)), bool(np.array_equal(a, x))
    (True, False)
    >>> same = diff_augment(x, seed=1, probability=0.0)
    >>> bool(np.array_equal(keras.ops.convert_to_numpy(same), x))
    True
    """
    images = _check_images(images)
    names = parse_policy(policy)
    if not names or (isinstance(probability, (int, float)) and probability <= 0):
        return images
    seed = _seed_generator(seed)
    augmented = images
    if "color" in names:
        augmented = random_color(augmented, seed)
    if "translation" in names:
        augmented = random_translation(augmented, seed, translation_ratio)
    if "cutout" in names:
        augmented = random_cutout(augmented, seed, cutout_ratio)
    if isinstance(probability, (int, float)) and probability >= 1:
        return augmented
    if isinstance(probability, keras.Variable):
        probability = probability.value
    # u < p is never true for p = 0 and always for p = 1 (u in [0, 1)).
    chosen = _uniform(_per_image_shape(images), seed, "float32") < ops.cast(
        probability, "float32"
    )
    return ops.where(chosen, augmented, images)


# --------------------------------------------------------------- layers
@keras.saving.register_keras_serializable(package="keras_gans")
class DiffAugment(SavesSeedState, keras.layers.Layer):
    """DiffAugment as a layer that owns its `SeedGenerator`.

    Apply the same layer to every image batch the discriminator sees, real
    and generated, in both the discriminator and the generator updates (each
    call draws fresh parameters per image). As an attribute of a Keras
    model, its seed state is model state: carried through `fit()` on JAX
    and saved with the weights (Keras itself does not save seed states;
    this layer does).

    Args:
        policy: see `diff_augment`.
        probability: per-image probability of augmenting (1.0: all images).
        seed: int or None, for the layer's SeedGenerator.
        translation_ratio, cutout_ratio: see `diff_augment`.

    Calls with `training=False` return the images unchanged.

    >>> import numpy as np
    >>> augment = DiffAugment("translation,cutout", seed=0)
    >>> x = np.ones((2, 8, 8, 1), "float32")
    >>> y = keras.ops.convert_to_numpy(augment(x))
    >>> y.shape, bool((y == 0).any())
    ((2, 8, 8, 1), True)
    >>> bool(np.array_equal(keras.ops.convert_to_numpy(augment(x, training=False)), x))
    True
    """

    def __init__(
        self,
        policy=DEFAULT_POLICY,
        probability=1.0,
        seed=None,
        translation_ratio=0.125,
        cutout_ratio=0.5,
        **kwargs,
    ):
        # Keep the images' dtype (e.g. float16 under mixed precision).
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.policy = ",".join(parse_policy(policy))
        if not 0.0 <= float(probability) <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {probability}.")
        self._probability = float(probability)
        self.seed = seed
        self.translation_ratio = float(translation_ratio)
        self.cutout_ratio = float(cutout_ratio)
        self.seed_generator = keras.random.SeedGenerator(seed, name="augment_seed")
        self.built = True  # no weights that depend on the input shape

    @property
    def probability(self):
        """The per-image probability of augmenting."""
        return self._probability

    def call(self, images, training=None):
        if training is False:
            return images
        return diff_augment(
            images,
            self.policy,
            seed=self.seed_generator,
            probability=self.probability,
            translation_ratio=self.translation_ratio,
            cutout_ratio=self.cutout_ratio,
        )

    def compute_output_spec(self, images, training=None):
        return keras.KerasTensor(images.shape, dtype=images.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            policy=self.policy,
            probability=self._probability,
            seed=self.seed,
            translation_ratio=self.translation_ratio,
            cutout_ratio=self.cutout_ratio,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_gans")
class AdaptiveAugment(DiffAugment):
    """ADA's adaptive augmentation probability around DiffAugment.

    Each image is augmented with probability `p` (a non-trainable variable).
    `update(real_logits)` accumulates the overfitting heuristic
    `r_t = E[sign(D(real))]` over the discriminator's outputs on its
    (augmented) real images; every `update_every` calls it moves
    `p <- clip(p + sign(r_t - target) * N / adjust_images, 0, 1)`, with `N`
    the number of images seen since the last move, so `p` can go from 0 to 1
    in `adjust_images` images. The update is branch-free `keras.ops` and
    `.assign`, so it runs inside compiled train steps; as an attribute of a
    Keras model, `p` and the accumulators are model state (carried through
    `fit()` on JAX, saved with the weights).

    Args:
        target: the `r_t` that `p` aims for (0.6 in the paper). `r_t` near 1
            means D is confident on all training images: overfitting.
        adjust_images: images for `p` to go from 0 to 1 (500k in the paper).
        update_every: `update()` calls between moves of `p` (4 in the paper).
        initial_p: the starting probability.
        policy, seed, translation_ratio, cutout_ratio: see `DiffAugment`.

    Variables: `p`, `rt` (the last `r_t` estimate, for logging), and the
    accumulators `sign_sum`, `image_count`, `calls`.

    >>> import numpy as np
    >>> ada = AdaptiveAugment(adjust_images=100, update_every=2, seed=0)
    >>> for _ in range(4):
    ...     _ = ada.update(np.ones((10, 1), "float32"))   # D sure of everything
    >>> round(float(ada.p.numpy()), 4), float(ada.rt.numpy())
    (0.4, 1.0)
    >>> tuple(ada(np.zeros((3, 8, 8, 1), "float32")).shape)
    (3, 8, 8, 1)
    """

    def __init__(
        self,
        target=0.6,
        adjust_images=500_000,
        update_every=4,
        initial_p=0.0,
        policy=DEFAULT_POLICY,
        seed=None,
        translation_ratio=0.125,
        cutout_ratio=0.5,
        **kwargs,
    ):
        kwargs.pop("probability", None)
        super().__init__(
            policy=policy,
            probability=1.0,  # unused: `probability` is the variable `p`
            seed=seed,
            translation_ratio=translation_ratio,
            cutout_ratio=cutout_ratio,
            **kwargs,
        )
        if not 0.0 <= float(initial_p) <= 1.0:
            raise ValueError(f"initial_p must be in [0, 1], got {initial_p}.")
        if float(adjust_images) <= 0:
            raise ValueError(f"adjust_images must be positive; got {adjust_images}.")
        self.target = float(target)
        self.adjust_images = float(adjust_images)
        self.update_every = at_least(update_every, 1, "update_every")
        self.initial_p = float(initial_p)

        def state(name, value=0.0):
            return self.add_weight(
                shape=(), name=name, dtype="float32", trainable=False,
                initializer=keras.initializers.Constant(value), autocast=False,
            )

        self.p = state("p", self.initial_p)
        self.rt = state("rt")
        self.sign_sum = state("sign_sum")
        self.image_count = state("image_count")
        self.calls = state("calls")

    @property
    def probability(self):
        return self.p

    def update(self, real_logits, batch_size=None):
        """Accumulates `sign(real_logits)` and, every `update_every` calls,
        moves `p`. Returns the (new) `p` as a tensor.

        Args:
            real_logits: the discriminator's outputs on the real images it
                was trained on (treated as constants).
            batch_size: the images they come from (default: their first
                dimension).
        """
        logits = ops.cast(ops.stop_gradient(ops.convert_to_tensor(real_logits)), "float32")
        if batch_size is None:
            batch_size = ops.shape(logits)[0]
        images = ops.cast(batch_size, "float32")
        sign_sum = self.sign_sum.value + ops.mean(ops.sign(logits)) * images
        count = self.image_count.value + images
        calls = self.calls.value + 1.0
        due = calls >= self.update_every
        rt = sign_sum / ops.maximum(count, 1.0)
        step = ops.sign(rt - self.target) * count / self.adjust_images
        p = ops.clip(self.p.value + ops.where(due, step, 0.0), 0.0, 1.0)
        zero = ops.zeros_like(calls)
        self.p.assign(p)
        self.rt.assign(ops.where(due, rt, self.rt.value))
        self.sign_sum.assign(ops.where(due, zero, sign_sum))
        self.image_count.assign(ops.where(due, zero, count))
        self.calls.assign(ops.where(due, zero, calls))
        return p

    def get_config(self):
        config = super().get_config()
        config.pop("probability", None)
        config.update(
            target=self.target,
            adjust_images=self.adjust_images,
            update_every=self.update_every,
            initial_p=self.initial_p,
        )
        return config


def get_augment(identifier):
    """A `DiffAugment` (or `AdaptiveAugment`) from an instance, a policy
    string, `"ada"` (an `AdaptiveAugment` with its defaults), a serialized
    config, or None (no augmentation: returns None). Strings are read
    case-insensitively.

    >>> get_augment("color,cutout").policy
    'color,cutout'
    >>> type(get_augment("ADA")).__name__
    'AdaptiveAugment'
    """
    if identifier is None or isinstance(identifier, DiffAugment):
        return identifier
    if isinstance(identifier, str):
        if identifier.strip().lower() == "ada":
            return AdaptiveAugment()
        return DiffAugment(identifier)
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    raise TypeError(
        "Expected a keras_gans.augment.DiffAugment / AdaptiveAugment, a "
        f"policy string such as 'color,translation,cutout', or None; got {identifier!r}."
    )

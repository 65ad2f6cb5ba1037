"""DiffAugment, ADA's adaptive probability and FreezeD on the current backend.

The transforms are checked against numpy (shifts, cutout squares), their
input gradients against the exact adjoints and a directional derivative,
the probability blend at p = 0 / 1, and the layers' state through
serialization and fit() (jitted on JAX: ADA's p is carried model state).
FreezeD: frozen discriminator layers stay bit-identical under fit().
"""
import keras
import numpy as np
import pytest
from helpers import noise_images
from helpers import tiny_dcgan
from helpers import weights_of
from keras import ops

from keras_gans import augment
from keras_gans import backend
from keras_gans import freeze
from keras_gans.augment import AdaptiveAugment
from keras_gans.augment import DiffAugment
from keras_gans.augment import diff_augment
from keras_gans.core import GAN


def _np(x):
    return ops.convert_to_numpy(ops.stop_gradient(ops.convert_to_tensor(x)))


# One batch size (8) and image size (8 x 8) throughout: JAX compiles every
# random draw per shape when run eagerly, and that dominates these tests.
def _images(n=8, size=8, channels=3, seed=0):
    return noise_images(n, (size, size, channels), seed=seed)


def _np_shift(image, dh, dw):
    """numpy reference: out[i, j] = image[i - dh, j - dw], zeros outside."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    if abs(dh) >= h or abs(dw) >= w:
        return out
    src = image[max(0, -dh) : h - max(0, dh), max(0, -dw) : w - max(0, dw)]
    out[max(0, dh) : max(0, dh) + src.shape[0], max(0, dw) : max(0, dw) + src.shape[1]] = src
    return out


def _seed_state(generator):
    return _np(generator.state.value).copy()


# ------------------------------------------------------------- transforms
@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_each_policy_keeps_shape_and_dtype_and_changes_every_image(policy):
    x = _images()
    y = diff_augment(x, policy, seed=0)
    assert tuple(y.shape) == x.shape
    assert keras.backend.standardize_dtype(y.dtype) == "float32"
    y = _np(y)
    assert np.all(np.isfinite(y))
    changed = [not np.array_equal(a, b) for a, b in zip(y, x)]
    if policy == "translation":  # a zero shift (1 in 9 here) is allowed
        assert sum(changed) >= 4, changed
    else:
        assert all(changed), changed


def test_translate_matches_a_zero_padded_numpy_shift():
    x = _images(channels=2)
    shifts = [(2, -1), (0, 0), (-3, 3), (9, 0), (1, 1), (-1, -1), (0, 5), (7, -7)]
    dh, dw = (np.array(column) for column in zip(*shifts))
    y = _np(augment.translate(x, dh, dw))
    for image, out, (dh, dw) in zip(x, y, shifts):
        np.testing.assert_array_equal(out, _np_shift(image, dh, dw))
    assert not y[3].any()  # shifted out entirely


def test_random_translation_shifts_content_by_at_most_an_eighth():
    x = _images() + 2.0  # no zero pixel in the content
    generator = keras.random.SeedGenerator(1)
    y = np.concatenate([_np(augment.random_translation(x, generator)) for _ in range(2)])
    seen = set()
    for image, out in zip(np.concatenate([x, x]), y):
        matches = [
            (dh, dw)
            for dh in range(-1, 2)
            for dw in range(-1, 2)  # 8 / 8 = 1
            if np.array_equal(out, _np_shift(image, dh, dw))
        ]
        assert len(matches) == 1, matches
        seen.add(matches[0])
    assert len(seen) > 3  # drawn per image


def test_cutout_zeroes_one_clipped_square_of_half_the_size():
    ones = np.ones((8, 8, 8, 1), "float32")
    top, left = np.arange(-2, 6), np.array([3, 0, 5, -1, 2, 6, 4, 1])
    fixed = _np(augment.cutout(ones, top, left, (4, 4)))[..., 0]
    for out, t, l in zip(fixed, top, left):
        expected = np.ones((8, 8), "float32")
        expected[max(t, 0) : t + 4, max(l, 0) : l + 4] = 0
        np.testing.assert_array_equal(out, expected)

    generator = keras.random.SeedGenerator(2)
    y = np.concatenate([_np(augment.random_cutout(ones, generator)) for _ in range(6)])[..., 0]
    interior = 0
    for out in y:
        rows = np.flatnonzero((out == 0).any(axis=1))
        cols = np.flatnonzero((out == 0).any(axis=0))
        assert rows.size and cols.size
        box = np.zeros_like(out, bool)
        box[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
        np.testing.assert_array_equal(out == 0, box)  # one solid rectangle
        assert rows.size <= 4 and cols.size <= 4
        if 0 < rows[0] and rows[-1] < 7 and 0 < cols[0] and cols[-1] < 7:
            interior += 1
            assert rows.size == cols.size == 4  # clipped only at the border
    assert interior > 0


# -------------------------------------------------------------- gradients
def test_input_gradients_are_the_exact_adjoints():
    x, w = _images(), _images(seed=1)
    wt = ops.convert_to_tensor(w)
    dh, dw = np.array([1, -2, 0, 0, 4, -1, 2, 9]), np.array([3, 0, -1, 0, -4, 1, 2, 0])
    _, grad = backend.input_gradient(lambda t: augment.translate(t, dh, dw) * wt, x)
    grad = _np(grad)
    for g, wi, a, b in zip(grad, w, dh, dw):  # the adjoint of a shift
        np.testing.assert_allclose(g, _np_shift(wi, -a, -b), rtol=1e-6)
    top, left = np.arange(-1, 7), np.array([1, 4, 6, 0, -2, 3, 5, 2])
    _, grad = backend.input_gradient(lambda t: augment.cutout(t, top, left, (4, 4)) * wt, x)
    mask = _np(augment.cutout(np.ones_like(x), top, left, (4, 4)))
    np.testing.assert_allclose(_np(grad), mask * w, rtol=1e-6)


def test_full_policy_gradient_matches_a_directional_derivative():
    # With its draws fixed, the augmentation is affine in the images, so
    # <grad, v> equals the finite difference along any direction v.
    x, w, v = (_images(seed=s) for s in (0, 1, 2))
    w = ops.convert_to_tensor(w)
    generator = keras.random.SeedGenerator(7)
    start = _seed_state(generator)

    def f(t):
        generator.state.assign(start)
        return diff_augment(t, seed=generator, probability=ops.convert_to_tensor(0.5)) * w

    _, grad = backend.input_gradient(f, x)
    grad = _np(grad)
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
    delta = float(_np(ops.sum(f(x + 1e-2 * v))) - _np(ops.sum(f(x)))) / 1e-2
    assert float(np.sum(grad * v)) == pytest.approx(delta, rel=2e-2, abs=1e-2)


# ------------------------------------------------------------ probability
def test_probability_zero_is_the_identity_and_one_augments_every_image():
    x = _images()
    for p in (0.0, ops.convert_to_tensor(0.0), keras.Variable(0.0, trainable=False)):
        np.testing.assert_array_equal(_np(diff_augment(x, seed=3, probability=p)), x)
    ada = AdaptiveAugment(initial_p=0.0, seed=0)
    np.testing.assert_array_equal(_np(ada(x)), x)
    for p in (1.0, ops.convert_to_tensor(1.0)):
        y = _np(diff_augment(x, seed=3, probability=p))
        assert all(not np.array_equal(a, b) for a, b in zip(y, x))
    generator, half = keras.random.SeedGenerator(3), ops.convert_to_tensor(0.5)
    y = np.stack([_np(diff_augment(x, "color", seed=generator, probability=half))
                  for _ in range(8)])
    same = [np.array_equal(a, b) for draw in y for a, b in zip(draw, x)]
    assert 10 < sum(same) < 54, sum(same)  # per image, exact where not chosen


def test_draws_are_deterministic_for_a_seed_and_advance_per_call():
    x = _images()
    a, b, c = (_np(diff_augment(x, seed=s)) for s in (5, 5, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    layer = DiffAugment(seed=5)
    first, second = _np(layer(x)), _np(layer(x))
    assert not np.array_equal(first, second)  # fresh draws on every call
    np.testing.assert_array_equal(first, _np(DiffAugment(seed=5)(x)))


def test_layers_serialize_and_save_their_state(tmp_path):
    layer = augment.get_augment("color,cutout")
    config = keras.saving.serialize_keras_object(DiffAugment("cutout", 0.5, seed=1))
    restored = augment.get_augment(config)
    assert type(restored) is DiffAugment and restored.get_config()["probability"] == 0.5
    assert layer.policy == "color,cutout"
    with pytest.raises(ValueError, match="Unknown DiffAugment"):
        DiffAugment("flip")
    # Names are read case-insensitively, "ada" too, by the models as by finetune.
    assert augment.get_augment(" Color,CUTOUT ").policy == "color,cutout"
    for name in ("ada", "ADA", " Ada "):
        assert type(augment.get_augment(name)) is AdaptiveAugment
    from keras_gans.models import DCGAN

    assert type(DCGAN(latent_dim=4, base_filters=2, augment="ADA").augment) is AdaptiveAugment

    ada = AdaptiveAugment(target=0.5, adjust_images=40, update_every=1, seed=3, name="ada")
    model = keras.Sequential([keras.Input((8, 8, 1)), ada])
    ada.update(np.ones((8, 1), "float32"))
    ada(np.zeros((8, 8, 8, 1), "float32"))  # advances the seed
    path = str(tmp_path / "ada.keras")
    model.save(path)
    loaded = keras.saving.load_model(path).layers[0]
    assert type(loaded) is AdaptiveAugment
    assert loaded.get_config() == ada.get_config()
    for name in ("p", "rt", "sign_sum", "image_count", "calls"):
        assert float(getattr(loaded, name).numpy()) == float(getattr(ada, name).numpy()), name
    assert float(loaded.p.numpy()) == pytest.approx(0.2)
    np.testing.assert_array_equal(
        _seed_state(loaded.seed_generator), _seed_state(ada.seed_generator))


# -------------------------------------------------------------------- ADA
def test_ada_p_follows_the_overfitting_sign_and_stays_in_the_unit_interval():
    ada = AdaptiveAugment(target=0.6, adjust_images=100, update_every=2)
    positive, negative = np.full((10, 1), 3.0, "float32"), np.full((10, 1), -3.0, "float32")
    ps = [float(_np(ada.update(positive))) for _ in range(12)]
    # Moves every 2nd call by 20 images / 100 and is clipped at 1.
    np.testing.assert_allclose(ps, [0, .2, .2, .4, .4, .6, .6, .8, .8, 1, 1, 1], atol=1e-6)
    assert float(ada.rt.numpy()) == 1.0
    ps = [float(_np(ada.update(negative, batch_size=10))) for _ in range(12)]
    np.testing.assert_allclose(ps, [1, .8, .8, .6, .6, .4, .4, .2, .2, 0, 0, 0], atol=1e-6)
    # r_t = 0.6 exactly (8 of 10 positive): at the target p stays put.
    mixed = np.array([[1.0]] * 8 + [[-1.0]] * 2, "float32")
    ada.p.assign(0.5)
    for _ in range(4):
        ada.update(mixed)
    assert float(ada.p.numpy()) == pytest.approx(0.5)
    assert float(ada.rt.numpy()) == pytest.approx(0.6)


def _constant_sign_gan(sign, **ada):
    shape = (8, 8, 3)
    # Constant initializers: no random draw to compile on JAX.
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        int(np.prod(shape)), kernel_initializer=keras.initializers.Constant(0.1)),
        keras.layers.Reshape(shape)])
    # |x . w| < 50 for these inputs: the logit's sign is the bias's.
    d = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(
        1, kernel_initializer=keras.initializers.Constant(0.01),
        bias_initializer=keras.initializers.Constant(50.0 * sign))])
    gan = GAN(g, d, seed=0, loss="wasserstein",  # G gradient: -w
                         augment=AdaptiveAugment(seed=1, **ada))
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.01))
    return gan


def test_ada_p_is_carried_through_fit():
    gan = _constant_sign_gan(+1, adjust_images=40, update_every=2, initial_p=0.1)
    ada = gan.augment
    assert any(v is ada.p for v in gan.non_trainable_variables)
    assert any(v is ada.seed_generator.state for v in gan.non_trainable_variables)
    seed_before = _seed_state(ada.seed_generator)
    g_before = weights_of(gan.generator)
    x = _images(16)
    history = gan.fit(x, batch_size=8, epochs=6, steps_per_epoch=1, shuffle=False, verbose=0)
    # One step per epoch; +16 images / 40 every 2nd step, clipped at 1.
    np.testing.assert_allclose(history.history["ada_p"], [.1, .5, .5, .9, .9, 1.0], atol=1e-5)
    assert float(ada.p.numpy()) == pytest.approx(1.0)
    assert float(ada.rt.numpy()) == 1.0 and float(ada.calls.numpy()) == 0.0
    assert not np.array_equal(_seed_state(ada.seed_generator), seed_before)
    # The generator still learns through the augmented discriminator.
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, weights_of(gan.generator)))

    ada.p.assign(1.0)  # a falling signal, from the carried state
    gan.discriminator.layers[-1].bias.assign(np.array([-50.0], "float32"))
    history = gan.fit(x, batch_size=8, epochs=2, steps_per_epoch=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["ada_p"], [1.0, 0.6], atol=1e-5)


_VARIANTS_WITH_OWN_DISCRIMINATOR_CALLS = ("InfoGAN", "SGAN", "UnrolledGAN", "ACGAN")


@pytest.mark.parametrize("variant", _VARIANTS_WITH_OWN_DISCRIMINATOR_CALLS)
def test_variants_with_their_own_losses_augment_and_adapt(variant):
    # These override the discriminator calls or losses: each must still
    # pass every discriminator input through the policy and move ADA's p.
    from keras_gans import models

    tiny = dict(latent_dim=4, base_filters=4, seed=0, augment=AdaptiveAugment(
        target=-2.0, adjust_images=80, update_every=1, seed=1))  # p rises every step
    extra = {"InfoGAN": dict(q_hidden=8), "UnrolledGAN": dict(unroll_steps=1)}
    gan = getattr(models, variant)(**extra.get(variant, dict(num_classes=10)), **tiny)
    gan.compile()
    calls = []
    augment_images = gan.augment_images

    def counted(images, training=True):
        calls.append(tuple(images.shape))
        return augment_images(images, training)

    gan.augment_images = counted
    x = noise_images(8)
    labelled = variant in ("SGAN", "ACGAN")
    history = gan.fit(x, np.arange(8) % 10 if labelled else None, batch_size=8,
                      epochs=2, shuffle=False, verbose=0)
    # D on real and fake, G on fake (UnrolledGAN: and its look-ahead critic).
    assert len(calls) >= 3, calls
    assert history.history["ada_p"][0] > 0.0
    assert history.history["ada_p"][1] > history.history["ada_p"][0]


@pytest.mark.parametrize("variant", ["EBGAN", "BEGAN", "MMDGAN"])
def test_autoencoder_gans_refuse_augment(variant):
    from keras_gans import models

    with pytest.raises(ValueError, match="does not take `augment`"):
        getattr(models, variant)(latent_dim=4, base_filters=4, augment="color")


# ----------------------------------------------------------------- FreezeD
def test_frozen_discriminator_layers_stay_fixed_under_fit():
    gan = tiny_dcgan()
    frozen = freeze.freeze_discriminator_blocks(gan.discriminator, 2)
    assert [layer.name for layer in frozen] == ["down1", "down2", "down2_bn"]
    frozen_ids = {id(v) for layer in frozen for v in layer.weights}
    assert not frozen_ids & {id(v) for v in gan.set_variables("d")}
    gan.compile()
    before = weights_of(*frozen)
    head = weights_of(gan.discriminator.get_layer("logit"))
    g_before = weights_of(gan.generator)
    gan.fit(noise_images(16), batch_size=8, epochs=1, verbose=0)
    for a, b in zip(before, weights_of(*frozen)):  # kernels and BN statistics
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, b)
               for a, b in zip(head, weights_of(gan.discriminator.get_layer("logit"))))
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, weights_of(gan.generator)))
    assert freeze.freeze_lowest_layers(gan.discriminator, 3) == frozen  # idempotent
    with pytest.raises(ValueError, match="Cannot freeze 5 blocks"):
        freeze.freeze_discriminator_blocks(gan.discriminator, 5)


def test_freezed_skips_a_conditional_discriminators_label_embedding():
    from keras_gans.models import CGAN

    gan = CGAN(num_classes=10, latent_dim=4, base_filters=4)
    blocks = freeze.discriminator_blocks(gan.discriminator)
    names = [[layer.name for layer in block] for block in blocks]
    assert all(not isinstance(layer, keras.layers.Embedding) for block in blocks for layer in block)
    assert names[0][0].startswith("down1"), names


def test_dcgan_trains_with_diffaugment_and_keeps_it_in_its_config():
    from helpers import compiled_tiny_dcgan
    from helpers import noise_images
    from keras_gans.models import DCGAN

    gan = compiled_tiny_dcgan(augment="translation,cutout")
    d_before = weights_of(gan.discriminator)
    gan.fit(noise_images(16), batch_size=8, epochs=1, verbose=0)
    assert any(np.any(a != b) for a, b in zip(d_before, weights_of(gan.discriminator)))
    clone = DCGAN.from_config(gan.get_config())
    assert isinstance(clone.augment, DiffAugment) and clone.augment.policy == "translation,cutout"

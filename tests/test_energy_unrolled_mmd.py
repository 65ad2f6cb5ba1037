"""EBGAN, BEGAN, UnrolledGAN and MMDGAN on the current backend.

Each variant trains a few steps on real MNIST and survives a `.keras` round
trip; the property tests check the mechanism itself: BEGAN's k_t moves
under fit() and stays in [0, 1], unrolling changes the generator's gradient
(and k=0 is the plain GAN's), the pulling-away term and the MMD behave as
their definitions say.
"""
import keras
import numpy as np
import pytest
from conftest import require_data
from helpers import LATENT
from helpers import numpy_latents

from keras_gans import backend
from keras_gans.core import GAN
from keras_gans.models.energy import BEGAN
from keras_gans.models.energy import EBGAN
from keras_gans.models.energy import pulling_away_term
from keras_gans.models.mmd import MMDGAN
from keras_gans.models.mmd import mmd2
from keras_gans.models.unrolled import UnrolledGAN

TINY = dict(latent_dim=LATENT, base_filters=4, seed=0)
VARIANTS = {
    "ebgan": lambda: EBGAN(code_dim=8, **TINY),
    "began": lambda: BEGAN(code_dim=8, lambda_k=0.05, **TINY),
    "unrolled": lambda: UnrolledGAN(unroll_steps=2, **TINY),
    # With 4 filters, the default bound 0.01 shrinks the features to ~0.
    "mmd": lambda: MMDGAN(code_dim=8, clip_value=0.1, **TINY),
}


def _mnist(n=48):
    require_data("mnist")
    from keras_gans import datasets

    return datasets.load("mnist", split="test")[:n]


def _np(x):
    return keras.ops.convert_to_numpy(keras.ops.stop_gradient(x))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fits_on_mnist_and_round_trips(name, tmp_path):
    images = _mnist()
    gan = VARIANTS[name]()
    gan.compile()
    d_before = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    epochs = 3
    history = gan.fit(images, batch_size=16, epochs=epochs, steps_per_epoch=1, verbose=0)
    for key in ("d_loss", "g_loss"):
        values = history.history[key]
        assert len(values) == epochs and np.all(np.isfinite(values)), (key, values)
        assert len(set(values)) > 1, (key, values)
    assert int(gan.optimizer["d"].iterations) == epochs
    assert int(gan.optimizer["g"].iterations) == epochs
    d_after = [v.numpy() for v in gan.discriminator.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, d_after))
    if name == "began":
        _check_began_k(gan, history.history)
    if name == "mmd":  # only the encoder is clipped (the paper's constraint)
        encoder = gan.discriminator.get_layer("encoder")
        decoder = gan.discriminator.get_layer("decoder")
        assert max(np.abs(v.numpy()).max() for v in encoder.trainable_variables) <= 0.1
        assert max(np.abs(v.numpy()).max() for v in decoder.trainable_variables) > 0.1

    latents = numpy_latents(4)
    path = str(tmp_path / f"{name}.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(gan)
    networks = ("generator", "discriminator")
    config = {k: v for k, v in gan.get_config().items() if k not in networks}
    assert {k: restored.get_config()[k] for k in config} == config
    np.testing.assert_allclose(
        restored.generate(latents=latents), gan.generate(latents=latents), atol=1e-5
    )
    if name == "began":
        assert float(restored.k.numpy()) == pytest.approx(float(gan.k.numpy()))


# ------------------------------------------------------------------ BEGAN
def _check_began_k(gan, history):
    """k_t after fit() (jitted on JAX): carried state that moves every step."""
    assert any(v is gan.k for v in gan.non_trainable_variables)
    ks = history["k"]  # one step per epoch: the k after each step
    assert all(0.0 <= k <= 1.0 for k in ks), ks
    assert len(set(ks)) == len(ks) and ks[0] > 0.0, ks
    assert float(gan.k.numpy()) == pytest.approx(ks[-1])
    # The paper's proportional control on the step's L(x) and L(G(z)).
    expected = np.clip(
        ks[-2] + gan.lambda_k * (gan.gamma * history["loss_real"][-1] - history["g_loss"][-1]),
        0.0, 1.0,
    )
    assert ks[-1] == pytest.approx(expected, abs=1e-5)


def test_began_k_is_clipped_into_the_unit_interval():
    gan = BEGAN(code_dim=8, lambda_k=10.0, k_initial=0.5, **TINY)
    k, convergence = gan.update_k(1.0, 0.0)  # balance +0.5: k would be 5.5
    assert float(_np(k)) == 1.0 == float(gan.k.numpy())
    assert float(_np(convergence)) == pytest.approx(1.5)
    gan.update_k(0.0, 1.0)  # balance -1: k would be -9
    assert float(gan.k.numpy()) == 0.0
    gan.update_k(0.2, 0.05)  # balance +0.05: inside, k = 0.5
    assert float(gan.k.numpy()) == pytest.approx(0.5)


# ----------------------------------------------------------------- Unrolled
def _mlp_networks():
    g = keras.Sequential(
        [keras.Input((LATENT,)), keras.layers.Dense(16, activation="tanh"),
         keras.layers.Dense(16)], name="generator",
    )
    d = keras.Sequential(
        [keras.Input((16,)), keras.layers.Dense(16, activation="tanh"),
         keras.layers.Dense(1)], name="discriminator",
    )
    return g, d


def _generator_gradient(gan, real, latents):
    def loss():
        return gan.generator_loss(real, gan.generator(latents, training=True))

    (_, _), grads = backend.value_and_grad(loss, gan.generator.trainable_variables)
    return [_np(g) for g in grads]


def test_unrolling_changes_the_generator_gradient():
    g, d = _mlp_networks()
    real = np.random.default_rng(1).normal(size=(16, 16)).astype("float32")
    latents = numpy_latents(16)
    plain = GAN(g, d, seed=0)
    unrolled = UnrolledGAN(generator=g, discriminator=d, latent_dim=LATENT,
                           unroll_steps=0, seed=0)
    d_weights_before = _np(d.trainable_variables[0].value).copy()
    reference = _generator_gradient(plain, real, latents)
    for a, b in zip(reference, _generator_gradient(unrolled, real, latents)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)  # k = 0

    def gradient(**settings):
        for key, value in settings.items():
            setattr(unrolled, key, value)
        return _generator_gradient(unrolled, real, latents)

    def differs(x, y):
        return max(float(np.abs(a - b).max()) for a, b in zip(x, y)) > 1e-4 * max(
            float(np.abs(a).max()) for a in x)

    full = gradient(unroll_steps=3, unroll_optimizer="sgd", unroll_learning_rate=0.5,
                    second_order=True)
    lookahead = gradient(second_order=False)
    adam = gradient(unroll_optimizer="adam", unroll_learning_rate=0.01,
                    second_order=True)
    assert all(np.all(np.isfinite(a)) for grads in (full, lookahead, adam) for a in grads)
    assert differs(reference, full) and differs(reference, adam)
    # The gradient flows through the unrolled updates themselves.
    assert differs(lookahead, full)
    # The real discriminator is untouched by the unrolling.
    np.testing.assert_array_equal(
        _np(d.trainable_variables[0].value), d_weights_before)


def test_unrolled_sgd_step_matches_a_hand_computed_step():
    from keras_gans.models.unrolled import unrolled_weights

    w0 = np.array([1.0, -2.0], "float32")
    # loss = sum(w^3) / 3: grad w^2, so one step of 0.1 gives w - 0.1 w^2.
    loss = lambda w: keras.ops.sum(w[0] ** 3) / 3.0  # noqa: E731
    (w1,) = unrolled_weights(loss, [w0], 1, 0.1, "sgd")
    np.testing.assert_allclose(_np(w1), w0 - 0.1 * w0**2, rtol=1e-6)


# -------------------------------------------------------------------- EBGAN
def test_pulling_away_term():
    assert float(pulling_away_term(np.eye(4, 6, dtype="float32"))) == pytest.approx(0.0, abs=1e-7)
    parallel = np.outer([1.0, 2.0, -3.0], [0.5, 1.0, 2.0]).astype("float32")
    assert float(pulling_away_term(parallel)) == pytest.approx(1.0, rel=1e-5)
    # Scale-free: it measures directions only.
    x = np.random.default_rng(0).normal(size=(8, 5)).astype("float32")
    assert 0.0 < float(pulling_away_term(x)) < 1.0
    assert float(pulling_away_term(x * 7.0)) == pytest.approx(float(pulling_away_term(x)), rel=1e-5)


def test_ebgan_losses_follow_the_margin():
    gan = EBGAN(code_dim=8, margin=0.5, pt_weight=0.0, **TINY)
    real = _mnist(8)
    fake = real[::-1].copy()
    loss, logs = gan.discriminator_loss(real, fake)
    energy_real = _np(gan.discriminate(real))
    energy_fake = _np(gan.discriminate(fake))
    expected = energy_real.mean() + np.maximum(0.0, 0.5 - energy_fake).mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    g_loss, _ = gan.generator_loss(real, fake)
    assert float(g_loss) == pytest.approx(float(energy_fake.mean()), rel=1e-5)


# ---------------------------------------------------------------------- MMD
def test_mmd_is_zero_for_identical_samples_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = rng.normal(size=(200, 4)).astype("float32")
    assert float(mmd2(x, x, biased=True)) == pytest.approx(0.0, abs=1e-5)
    assert abs(float(mmd2(x, y))) < 0.02  # unbiased, same distribution
    for biased in (False, True):
        values = [float(mmd2(x, y + shift, biased=biased)) for shift in (0.5, 1.0, 2.0, 4.0)]
        assert all(a < b for a, b in zip(values, values[1:])), values
        assert values[0] > 0.02

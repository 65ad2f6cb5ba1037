"""Unconditional variants, losses, penalties and layers of the GAN family
(run once per KERAS_BACKEND)."""
import keras
import numpy as np
import pytest
from conftest import require_data
from helpers import numpy_latents
from helpers import weights_of

from keras_gans import layers as gan_layers
from keras_gans import losses
from keras_gans import models
from keras_gans import regularizers

TINY = {
    "VanillaGAN": dict(units=(16, 16), latent_dim=8),
    "LSGAN": dict(latent_dim=8, base_filters=4),
    "RaGAN": dict(latent_dim=8, base_filters=4),
    "WGAN": dict(latent_dim=8, base_filters=4),
    "WGANGP": dict(latent_dim=8, base_filters=4),
    "SNGAN": dict(latent_dim=8, base_filters=2),
}


@pytest.fixture(scope="module")
def mnist():
    require_data("mnist")
    from keras_gans import datasets

    return datasets.load("mnist", split="test")[:160]


@pytest.mark.parametrize("name", sorted(TINY))
def test_variant_trains_on_mnist_and_round_trips(name, mnist, tmp_path):
    gan = getattr(models, name)(seed=0, **TINY[name])
    gan.compile()
    g_before = weights_of(gan.generator)
    history = gan.fit(mnist, batch_size=20, epochs=2, steps_per_epoch=2, verbose=0)
    for key in ("d_loss", "g_loss"):
        values = history.history[key]
        assert np.all(np.isfinite(values)) and values[0] != values[1], (key, values)
    assert int(gan.optimizer["d"].iterations) == 4 * gan.n_critic
    assert int(gan.optimizer["g"].iterations) == 4
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, weights_of(gan.generator)))
    path = str(tmp_path / f"{name}.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(gan)
    z = numpy_latents(4)
    np.testing.assert_allclose(
        restored.generate(latents=z), gan.generate(latents=z), atol=1e-5
    )
    # Network configs differ only in auto-generated layer names.
    strip = lambda c: {k: v for k, v in c.items() if k not in ("generator", "discriminator")}  # noqa: E731
    assert strip(restored.get_config()) == strip(gan.get_config())


def test_wgan_clipping_keeps_every_critic_weight_in_bound():
    images = np.random.default_rng(0).uniform(-1, 1, (40, 28, 28, 1)).astype("float32")
    gan = models.WGAN(latent_dim=8, base_filters=4, clip_value=0.005, seed=0)
    gan.compile(d_optimizer=keras.optimizers.SGD(1.0))  # big steps leave the box
    gan.fit(images, batch_size=20, epochs=1, verbose=0)
    largest = max(np.abs(w.numpy()).max() for w in gan.discriminator.trainable_weights)
    assert 0.0049 < largest <= 0.005


def _linear_critic(w):
    w = keras.ops.convert_to_tensor(w.reshape(-1, 1))
    return lambda x: keras.ops.matmul(keras.ops.reshape(x, (x.shape[0], -1)), w)


def test_gradient_penalty_of_a_linear_critic():
    w = np.array([0.3, -1.2, 2.0, 0.5], "float32")
    real = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    fake = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    critic, norm = _linear_critic(w), float(np.linalg.norm(w))
    gp = regularizers.GradientPenalty(weight=1.0)
    value = gp(critic, real, fake, keras.random.SeedGenerator(0))
    np.testing.assert_allclose(float(value), (norm - 1) ** 2, rtol=1e-5)
    one_sided = regularizers.GradientPenalty(weight=1.0, target=3.0, one_sided=True)
    assert float(one_sided(critic, real, fake, keras.random.SeedGenerator(0))) == 0.0
    r1 = regularizers.R1Penalty(gamma=4.0)(critic, real, fake, None)
    np.testing.assert_allclose(float(r1), 2.0 * norm**2, rtol=1e-5)
    dragan = regularizers.DRAGANPenalty(weight=2.0)
    np.testing.assert_allclose(
        float(dragan(critic, real, fake, keras.random.SeedGenerator(0))),
        2.0 * (norm - 1) ** 2, rtol=1e-5,
    )


def test_gradient_penalty_is_differentiable_in_the_critic_weights():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: the penalty trains the critic.
    from keras_gans import backend

    w0 = np.array([[3.0], [4.0]], "float32")
    critic_net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    critic_net.set_weights([w0])
    x = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    alpha = np.full((5, 1), 0.5, "float32")

    def loss():
        value = regularizers.gradient_penalty(critic_net, x, x + 1.0, alpha)
        return value, {}

    (value, _), grads = backend.value_and_grad(loss, critic_net.trainable_variables)
    np.testing.assert_allclose(float(value), 16.0, rtol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(grads[0]), 2 * 4.0 * w0 / 5.0, rtol=1e-4
    )


@pytest.mark.parametrize("layer", ["dense", "conv"])
def test_spectral_norm_gives_unit_largest_singular_value(layer):
    rng = np.random.default_rng(0)
    if layer == "dense":
        sn = gan_layers.SpectralDense(6, kernel_initializer=keras.initializers.GlorotUniform(0))
        x = rng.normal(size=(4, 5)).astype("float32")
    else:
        sn = gan_layers.SpectralConv2D(
            6, 3, padding="same", kernel_initializer=keras.initializers.GlorotUniform(0))
        x = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    sn(x)
    sn.kernel.assign(sn.kernel * 7.0)
    # Power iteration converges at the rate of the singular-value gap, which
    # a random kernel can make small: seeded kernel, enough iterations.
    for _ in range(200):
        sn(x, training=True)
    kernel = keras.ops.convert_to_numpy(sn.normalized_kernel())
    sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 1e-3
    raw = keras.ops.convert_to_numpy(sn.kernel)
    assert np.linalg.svd(raw.reshape(-1, raw.shape[-1]), compute_uv=False)[0] > 2.0


def test_relativistic_average_loss_matches_its_formula():
    real = np.array([[2.0], [0.0]], "float32")
    fake = np.array([[-1.0], [1.0]], "float32")
    sp = lambda t: np.log1p(np.exp(t))  # noqa: E731
    d_real, d_fake = real - fake.mean(), fake - real.mean()
    expected_d = sp(-d_real).mean() + sp(d_fake).mean()
    expected_g = sp(-d_fake).mean() + sp(d_real).mean()
    loss = losses.get("relativistic_average")
    np.testing.assert_allclose(float(loss.discriminator(real, fake)), expected_d, rtol=1e-5)
    np.testing.assert_allclose(float(loss.generator(fake, real)), expected_g, rtol=1e-5)


def test_non_saturating_label_smoothing():
    sp = lambda t: np.logaddexp(0.0, t.astype("float64"))  # noqa: E731
    real = np.array([[2.0], [-1.0]], "float32")
    fake = np.array([[-1.0], [1.0]], "float32")
    for smoothing in (0.0, 0.1):
        value = losses.AdversarialLoss("non_saturating", smoothing).discriminator(real, fake)
        expected = ((1 - smoothing) * sp(-real) + smoothing * sp(real)).mean() + sp(fake).mean()
        np.testing.assert_allclose(float(value), expected, rtol=1e-5)
    # Losses on raw critic values have no target: smoothing would be ignored.
    for name in ("wasserstein", "hinge"):
        with pytest.raises(ValueError, match=f"The {name} loss has no real target"):
            losses.AdversarialLoss(name, 0.1)
        assert losses.AdversarialLoss(name, 0.0).label_smoothing == 0.0


def test_minibatch_layers_see_the_batch():
    rng = np.random.default_rng(0)
    varied = rng.normal(size=(8, 10)).astype("float32")
    copies = np.repeat(varied[:1], 8, axis=0)
    layer = gan_layers.MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    near = keras.ops.convert_to_numpy(layer(copies))[:, 10:]
    far = keras.ops.convert_to_numpy(layer(varied))[:, 10:]
    np.testing.assert_allclose(near, 7.0, rtol=1e-5)  # 7 identical neighbours
    assert far.mean() < near.mean()


def test_penalties_are_logged_and_serialized():
    gan = models.DCGAN(
        latent_dim=8, base_filters=4, discriminator_batch_norm=False, seed=0,
        penalties=[regularizers.R1Penalty(1.0), regularizers.DRAGANPenalty()],
    )
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    history = gan.fit(images, batch_size=8, epochs=1, verbose=0)
    assert history.history["r1"][0] > 0 and history.history["dragan"][0] >= 0
    restored = models.DCGAN.from_config(gan.get_config())
    assert [type(p).__name__ for p in restored.penalties] == ["R1Penalty", "DRAGANPenalty"]
    with pytest.raises(TypeError, match="Penalty"):
        models.DCGAN(latent_dim=8, base_filters=4, penalties=["r1"])


def test_minibatch_stddev_discriminator_trains_on_any_batch_size():
    gan = models.DCGAN(latent_dim=8, base_filters=4, minibatch_stddev=True, seed=0)
    gan.compile()
    assert "minibatch_stddev" in [layer.name for layer in gan.discriminator.layers]
    images = np.random.default_rng(0).uniform(-1, 1, (21, 28, 28, 1)).astype("float32")
    history = gan.fit(images, batch_size=7, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    assert models.DCGAN.from_config(gan.get_config()).minibatch_stddev

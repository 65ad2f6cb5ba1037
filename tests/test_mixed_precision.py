"""Mixed precision fit() on the active backend (runs once per backend).

The policy is global Keras state: each test sets it and restores float32.
"""
import keras
import numpy as np
import pytest

from helpers import noise_images
from helpers import weights_of
from keras_gans.models import DCGAN
from keras_gans.models import WGANGP

SHAPE = (8, 8, 1)


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_dtype_policy(request.param)
    yield request.param
    keras.mixed_precision.set_dtype_policy("float32")


def _tiny(cls, **kwargs):
    return cls(image_shape=SHAPE, latent_dim=8, base_filters=4, seed=0, n_critic=2, **kwargs)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
@pytest.mark.parametrize("cls", [DCGAN, WGANGP])
def test_mixed_precision_trains_finite(policy, cls):
    gan = _tiny(cls)
    gan.compile()
    history = gan.fit(noise_images(32, SHAPE), batch_size=16, epochs=1, verbose=0)
    for name, values in history.history.items():
        assert np.isfinite(values).all(), (name, values)
    images = gan.generate(n=4)
    assert images.dtype == np.float32 and np.isfinite(images).all()
    networks = (gan.generator, gan.discriminator)
    assert {v.dtype for net in networks for v in net.weights} == {"float32"}
    assert gan.generator.get_layer("project").compute_dtype == policy[len("mixed_"):]
    assert np.isfinite(np.concatenate([w.ravel() for w in weights_of(*networks)])).all()
    scaled = policy == "mixed_float16"
    for key in ("d", "g"):
        optimizer = gan.optimizer[key]
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == scaled
        if scaled:
            # The scale is in use (steps with overflowing grads halve it).
            assert 1.0 < float(optimizer.dynamic_scale) <= 2.0**15
            assert int(optimizer.inner_optimizer.iterations) >= 1


def test_loss_scaling_round_trips():
    """A LossScaleOptimizer scales the loss and unscales the gradients: the
    weights match the unwrapped optimizer's (scale 2**15, float32)."""
    images = noise_images(32, SHAPE)
    results = []
    for wrap in (False, True):
        gan = _tiny(DCGAN)
        optimizers = {f"{k}_optimizer": keras.optimizers.SGD(0.05) for k in "dg"}
        if wrap:
            optimizers = {
                k: keras.optimizers.LossScaleOptimizer(o) for k, o in optimizers.items()
            }
        gan.compile(**optimizers)
        if results:
            gan.set_weights(results[0][0])
        start = gan.get_weights()
        gan.fit(images, batch_size=16, epochs=1, verbose=0, shuffle=False)
        results.append((start, weights_of(gan.generator, gan.discriminator)))
    for plain, scaled in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(scaled, plain, rtol=1e-4, atol=1e-6)
    assert int(gan.optimizer["d"].step_counter) == 4  # 2 steps x n_critic 2


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_layer_state_updates_under_mixed_precision(policy):
    # Keras's torch backend dropped the writes to these float32 states
    # inside a mixed-precision call: u never moved (sigma above 1) and the
    # image pool stored nothing, then handed back zeros as old fakes.
    from keras_gans.layers import ImagePool
    from keras_gans.layers import SpectralDense

    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    keras.utils.set_random_seed(0)
    layer = SpectralDense(3)
    layer(x)
    u_before = keras.ops.convert_to_numpy(layer.vector_u.value).copy()
    for _ in range(60):
        layer(x, training=True)
    assert not np.allclose(u_before, keras.ops.convert_to_numpy(layer.vector_u.value))
    kernel = keras.ops.convert_to_numpy(layer.normalized_kernel()).astype("float64")
    assert np.linalg.svd(kernel, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-3)

    pool = ImagePool(pool_size=4, seed=0)
    pool(np.ones((2, 1), "float32"), training=True)
    pool(np.full((2, 1), 2.0, "float32"), training=True)
    stored = keras.ops.convert_to_numpy(pool.images.value)[:4, 0]
    np.testing.assert_array_equal(stored, [1.0, 1.0, 2.0, 2.0])
    for step in range(4):  # full: swapped rows come back as earlier fakes
        out = keras.ops.convert_to_numpy(pool(np.full((4, 1), 10.0 + step, "float32"), training=True))
        assert (out != 0).all()

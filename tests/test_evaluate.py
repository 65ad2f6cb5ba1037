"""evaluate() and fit(validation_data=...) on the current backend: they
report a training step's losses at the current weights and change nothing."""
import keras
import numpy as np
import pytest
from helpers import LATENT
from helpers import compiled_tiny_dcgan
from helpers import noise_images
from helpers import tiny_dcgan
from helpers import weights_of

from keras_gans.models import BEGAN
from keras_gans.models import CGAN
from keras_gans.models import WGAN
from keras_gans.models import WGANGP
from keras_gans.models import SelfConditionedGAN

TINY = dict(latent_dim=LATENT, base_filters=4, seed=0)


def assert_unchanged(before, model):
    after = weights_of(model)
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if not np.array_equal(a, b)]
    assert not changed, [model.weights[i].path for i in changed]


def optimizer_state(model):
    return [keras.ops.convert_to_numpy(v).copy() for v in model.optimizer.variables]


def test_evaluate_gives_a_training_steps_losses_and_changes_nothing():
    images = noise_images(16)
    evaluated = compiled_tiny_dcgan(ema_decay=0.9)
    # A twin whose updates move nothing (SGD at rate 0) logs the losses at
    # the starting weights from the same latents (same seed state): what
    # evaluate() must report, the generator's loss included.
    frozen = tiny_dcgan(ema_decay=0.9)
    frozen.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    frozen.set_weights(evaluated.get_weights())
    before, slots = weights_of(evaluated), optimizer_state(evaluated)

    result = evaluated.evaluate(images, batch_size=16, verbose=0, return_dict=True)

    # Every weight stays (BatchNorm statistics, the EMA copy, both
    # networks), and so does the optimizers' state (moments, step counts).
    assert_unchanged(before, evaluated)
    for a, b in zip(slots, optimizer_state(evaluated), strict=True):
        np.testing.assert_array_equal(a, b)
    history = frozen.fit(images, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    for name in ("d_loss", "g_loss"):
        np.testing.assert_allclose(result[name], history[name][0], rtol=1e-5)


def test_validation_does_not_change_the_training_run():
    # evaluate() rewinds the seed generators it draws latents from.
    images, held_out = noise_images(32), noise_images(16, seed=1)
    runs, start = [], None
    for validation in (None, held_out):
        gan = compiled_tiny_dcgan()
        start = start or gan.get_weights()
        gan.set_weights(start)
        gan.fit(images, batch_size=16, epochs=2, shuffle=False, validation_data=validation,
                verbose=0)
        runs.append(weights_of(gan) + [keras.ops.convert_to_numpy(gan.seed_generator.state)])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_failed_evaluate_keeps_the_weights():
    # Keras's JAX trainer detaches the variables while it evaluates.
    gan = CGAN(num_classes=3, image_shape=(28, 28, 1), **TINY)
    gan.compile()
    before = weights_of(gan)
    with pytest.raises(ValueError):
        gan.evaluate(noise_images(16), batch_size=8, verbose=0)  # no labels
    assert_unchanged(before, gan)
    labels = np.arange(16, dtype="int32") % 3
    assert np.isfinite(gan.evaluate(noise_images(16), labels, batch_size=8, verbose=0,
                                    return_dict=True)["d_loss"])


@pytest.mark.parametrize("cls", [WGAN, WGANGP, BEGAN], ids=lambda c: c.__name__)
def test_evaluate_leaves_clipping_penalties_and_state_untouched(cls):
    # WGAN clips the critic after each update, WGAN-GP's penalty needs an
    # input gradient (torch evaluates under no_grad), BEGAN updates its k.
    gan = cls(image_shape=(28, 28, 1), **TINY)
    gan.compile()
    images = noise_images(20)
    before = weights_of(gan)
    result = gan.evaluate(images, batch_size=10, verbose=0, return_dict=True)
    assert_unchanged(before, gan)
    assert set(gan.tracked_metrics) <= set(result)
    assert all(np.isfinite(v) for v in result.values())
    if cls is WGANGP:
        assert result["gp"] > 0


def test_fit_logs_validation_losses_per_epoch():
    gan = compiled_tiny_dcgan()
    images = noise_images(32)
    history = gan.fit(images, batch_size=16, epochs=2, validation_data=noise_images(16, seed=1),
                      verbose=0).history
    for name in ("d_loss", "g_loss"):
        assert len(history[f"val_{name}"]) == 2
        assert np.all(np.isfinite(history[f"val_{name}"]))
    # The weights moved between the epochs, and so did the validation losses.
    assert history["val_d_loss"][0] != history["val_d_loss"][1]


def test_conditional_and_self_conditioned_validation_data():
    images = noise_images(32)
    labels = np.arange(32, dtype="int32") % 3
    cgan = CGAN(num_classes=3, image_shape=(28, 28, 1), **TINY)
    cgan.compile()
    history = cgan.fit(images, labels, batch_size=16, epochs=1,
                       validation_data=(images[:16], labels[:16]), verbose=0).history
    assert np.isfinite(history["val_d_loss"][0])

    scgan = SelfConditionedGAN(num_clusters=2, components=4, image_shape=(28, 28, 1), **TINY)
    scgan.compile()
    # Validation images are assigned to the clusters fitted on the training images.
    with pytest.raises(ValueError, match="no clusters yet"):
        scgan.evaluate(images, verbose=0)
    history = scgan.fit(images, batch_size=16, epochs=1, validation_data=images[:16],
                        verbose=0).history
    assert np.isfinite(history["val_g_loss"][0])
    result = scgan.evaluate(images[:16], batch_size=16, verbose=0, return_dict=True)
    assert np.isfinite(result["d_loss"])


def test_bad_validation_data_is_refused_before_any_step():
    gan = compiled_tiny_dcgan()
    bad = noise_images(16)
    bad[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN.*index 3"):
        gan.fit(noise_images(16), batch_size=8, validation_data=bad, verbose=0)
    with pytest.raises(ValueError, match="NaN.*index 3"):
        gan.evaluate(bad, batch_size=8, verbose=0)
    assert int(gan.optimizer.iterations) == 0
    cgan = CGAN(num_classes=3, image_shape=(28, 28, 1), **TINY)
    cgan.compile()
    labels = np.zeros(16, "int32")
    with pytest.raises(ValueError, match=r"validation_data=\(images, labels\)"):
        cgan.fit(noise_images(16), labels, batch_size=8, validation_data=noise_images(16),
                 verbose=0)
    with pytest.raises(ValueError):
        cgan.fit(noise_images(16), labels, batch_size=8, verbose=0,
                 validation_data=(noise_images(16), labels + 5))  # ids out of range
    assert int(cgan.optimizer.iterations) == 0

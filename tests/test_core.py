"""The training core on the current backend (run once per KERAS_BACKEND)."""
import os

import keras
import numpy as np
import pytest
from conftest import ON_GPU
from conftest import require_data
from helpers import compiled_tiny_dcgan
from helpers import noise_images
from helpers import numpy_latents
from helpers import tiny_dcgan
from helpers import weights_of

from keras_gans import backend
from keras_gans import augment as kg_augment
from keras_gans import checkpoint as kg_checkpoint
from keras_gans import freeze as kg_freeze
from keras_gans import layers as kg_layers
from keras_gans.core import GAN
from keras_gans.metrics.inception_score import inception_score
from keras_gans.models import DCGAN
from keras_gans.regularizers import GradientPenalty


def _bn_stats(network):
    return {
        v.path: v.numpy().copy()
        for v in network.non_trainable_weights
        if "moving" in v.path
    }


def test_fit_on_real_mnist_updates_everything():
    require_data("mnist")
    from keras_gans import datasets

    images = datasets.load("mnist", split="test")[:256]
    gan = compiled_tiny_dcgan()
    g_stats, d_stats = _bn_stats(gan.generator), _bn_stats(gan.discriminator)
    assert g_stats and d_stats
    history = gan.fit(images, batch_size=32, epochs=2, steps_per_epoch=3, verbose=0)
    for name in ("d_loss", "g_loss"):
        values = history.history[name]
        assert len(values) == 2 and np.all(np.isfinite(values))
        assert values[0] != values[1]
    assert int(gan.optimizer["d"].iterations) == 6
    assert int(gan.optimizer["g"].iterations) == 6
    assert int(gan.optimizer.iterations) == 6  # the global step
    for before, net in ((g_stats, gan.generator), (d_stats, gan.discriminator)):
        after = _bn_stats(net)
        assert all(not np.array_equal(before[k], after[k]) for k in before)


class _OnlyOneSet(DCGAN):
    """Runs the DCGAN's own update for one set per step (for isolation tests)."""

    def __init__(self, only, **kwargs):
        super().__init__(**kwargs)
        self.only = only

    def adversarial_step(self, data):
        real = self.real_images(data)
        latents = self.sample_latent(keras.ops.shape(real)[0])
        if self.only == "d":
            def loss():
                fake = keras.ops.stop_gradient(self.generator(latents, training=True))
                return self.discriminator_loss(real, fake)
        else:
            def loss():
                return self.generator_loss(real, self.generator(latents, training=True))
        return self.update(self.only, loss)

    def get_config(self):
        return {**super().get_config(), "only": self.only}


@pytest.mark.parametrize("only", ["d", "g"])
def test_an_update_leaves_the_other_network_bit_unchanged(only):
    gan = _OnlyOneSet(only, latent_dim=8, base_filters=4, seed=0)
    gan.compile()
    updated, frozen = (
        (gan.discriminator, gan.generator) if only == "d" else (gan.generator, gan.discriminator)
    )
    frozen_before, updated_before = weights_of(frozen), weights_of(updated)
    gan.fit(noise_images(64), batch_size=32, epochs=1, verbose=0)
    for before, after in zip(frozen_before, weights_of(frozen)):
        np.testing.assert_array_equal(before, after)
    changed = [not np.array_equal(a, b) for a, b in zip(updated_before, weights_of(updated))]
    assert all(changed)  # trainable weights and BatchNorm statistics
    other = "g" if only == "d" else "d"
    assert int(gan.optimizer[only].iterations) == 2
    assert int(gan.optimizer[other].iterations) == 0
    assert int(gan.optimizer.iterations) == 2


class _CriticOnly(GAN):
    def adversarial_step(self, data):
        real, labels = self.split_batch(data)
        return self.discriminator_step(real, labels)


def test_keras_batch_norm_in_the_other_network_is_restored():
    # Keras's own BatchNormalization does not skip its update: the core
    # restores its statistics instead.
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
                          keras.layers.BatchNormalization(momentum=0.5),
                          keras.layers.Reshape((2, 2, 2))])
    d = keras.Sequential([keras.Input((2, 2, 2)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = _CriticOnly(g, d, seed=0)
    gan.compile()
    before = weights_of(g)
    gan.fit(noise_images(16, (2, 2, 2)), batch_size=8, epochs=1, verbose=0)
    for a, b in zip(before, weights_of(g), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(gan.optimizer["d"].iterations) == 2


def test_learning_rate_callback_reaches_both_optimizers():
    gan = compiled_tiny_dcgan(d_lr=4e-4, g_lr=1e-4)
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    gan.fit(noise_images(32), batch_size=16, epochs=2, verbose=0, callbacks=[halve])
    np.testing.assert_allclose(float(gan.optimizer["d"].learning_rate), 1e-4, rtol=1e-5)
    np.testing.assert_allclose(float(gan.optimizer["g"].learning_rate), 2.5e-5, rtol=1e-5)


def test_reduce_lr_on_plateau_reaches_both_optimizers():
    gan = compiled_tiny_dcgan(d_lr=4e-4, g_lr=2e-4)
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="d_loss", mode="min", factor=0.1, patience=0, min_delta=1e9,
        verbose=0,
    )
    gan.fit(noise_images(32), batch_size=16, epochs=2, verbose=0, callbacks=[plateau])
    np.testing.assert_allclose(float(gan.optimizer["d"].learning_rate), 4e-5, rtol=1e-4)
    np.testing.assert_allclose(float(gan.optimizer["g"].learning_rate), 2e-5, rtol=1e-4)


def test_learning_rate_schedules_follow_each_optimizers_steps():
    gan = tiny_dcgan(n_critic=2)
    decay = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1, decay_rate=0.5)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(decay),
        g_optimizer=keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(
            1e-3, decay_steps=1, decay_rate=0.5)),
    )
    gan.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
    d_lr = float(gan.optimizer["d"]._get_current_learning_rate())
    g_lr = float(gan.optimizer["g"]._get_current_learning_rate())
    np.testing.assert_allclose(d_lr, 1e-3 * 0.5**4, rtol=1e-5)  # 2 steps x 2 critics
    np.testing.assert_allclose(g_lr, 1e-3 * 0.5**2, rtol=1e-5)


def test_n_critic_steps_and_the_real_batches_they_consume():
    gan = tiny_dcgan(n_critic=3)
    gan.compile()
    batch = keras.ops.convert_to_tensor(np.arange(7, dtype="float32"))
    labels = keras.ops.convert_to_tensor(np.arange(7, dtype="int32") * 10)
    chunks = [
        (keras.ops.convert_to_numpy(c).tolist(), keras.ops.convert_to_numpy(y).tolist())
        for c, y in gan.critic_batches(batch, labels)
    ]
    # Images and their labels stay together; the remainder is dropped.
    assert chunks == [([0.0, 1.0], [0, 10]), ([2.0, 3.0], [20, 30]), ([4.0, 5.0], [40, 50])]
    assert gan.critic_batches(batch)[0][1] is None
    gan.fit(noise_images(30), batch_size=15, epochs=1, verbose=0)
    assert int(gan.optimizer["d"].iterations) == 6
    assert int(gan.optimizer["g"].iterations) == 2


@pytest.mark.parametrize("small", [True, False], ids=["small", "large"])
def test_array_input_runs_one_step_per_batch_partial_batch_included(small, monkeypatch):
    # On TF, arrays go through a tf.data pipeline with autotuning off
    # (backend.prepare_fit_input): small ones through a shuffle buffer,
    # large ones through Keras's own; the step count must be Keras's.
    if not small:
        if keras.backend.backend() != "tensorflow":
            pytest.skip("the size switch is TF's array pipeline")
        from keras_gans.backend import tensorflow_impl

        monkeypatch.setattr(tensorflow_impl, "SMALL_ARRAYS_BYTES", 0)
    gan = tiny_dcgan()
    gan.compile()
    history = gan.fit(noise_images(100), batch_size=64, epochs=2, verbose=0)
    assert int(gan.optimizer["d"].iterations) == 4
    assert int(gan.optimizer.iterations) == 4
    assert len(history.history["d_loss"]) == 2


def test_validation_arrays_get_the_same_pipeline_on_tf():
    # Keras's default pipeline has tf.data's autotuning on, whose iterator
    # teardown waited up to 2.4 s here at each evaluation.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TF's array pipeline")
    from keras_gans.backend.tensorflow_impl import prepare_fit_input

    images, labels = noise_images(40), np.arange(40, dtype="int32")
    for validation, batches in [(images, [images[:16], images[16:32], images[32:]]),
                                ((images, labels), [(images[:16], labels[:16]),
                                                    (images[16:32], labels[16:32]),
                                                    (images[32:], labels[32:])])]:
        _, _, _, kwargs = prepare_fit_input(images, None, 16, {"validation_data": validation,
                                                               "validation_batch_size": None})
        dataset = kwargs["validation_data"]
        assert dataset.options().autotune.enabled is False
        got = list(dataset.as_numpy_iterator())
        assert len(got) == len(batches)
        for ours, expected in zip(got, batches):
            keras.tree.map_structure(np.testing.assert_array_equal, ours, expected)
    weighted = (images, labels, np.ones(40, "float32"))  # Keras's own path
    _, _, _, kwargs = prepare_fit_input(images, None, 16, {"validation_data": weighted})
    assert kwargs["validation_data"] is weighted


@pytest.mark.parametrize("rows", [64, 70])
def test_small_array_pipeline_gives_keras_batches(rows):
    tf = pytest.importorskip("tensorflow")
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from keras_gans.backend.tf_data import small_array_dataset

    from keras_gans.backend.tensorflow_impl import array_dataset

    images = np.arange(rows, dtype="float64").reshape(rows, 1, 1, 1)
    labels = np.arange(rows, dtype="int32")
    # An image array alone, image/label pairs, and pairs given as a list
    # (Keras reads lists as tuples; tf.data would stack them): the same
    # element structure, dtypes (floats become floatx), static batch shapes
    # where Keras's are static, and the same batches in order.
    for x, y in [(images, None), (images, labels), ([images, labels], None)]:
        keras_ds = ArrayDataAdapter(x, y, batch_size=16, shuffle=False).get_tf_dataset()
        ours = array_dataset(x, y, 16, shuffle=False)
        assert ours.element_spec == keras_ds.element_spec
        for a, b in zip(ours, keras_ds, strict=True):
            keras.tree.map_structure(np.testing.assert_array_equal, a, b)
    # Shuffled: every pass is a new permutation that keeps the pairs.
    shuffled = small_array_dataset((images, labels), 16, shuffle=True)
    passes = [np.concatenate([np.stack([x.numpy().ravel(), y.numpy()], 1) for x, y in shuffled])
              for _ in range(2)]
    for order in passes:
        assert sorted(order[:, 1].tolist()) == list(range(rows))
        np.testing.assert_array_equal(order[:, 0], order[:, 1])
    assert not np.array_equal(passes[0], passes[1])
    assert shuffled.options().autotune.enabled is False
    assert isinstance(shuffled, tf.data.Dataset)


def test_latents_come_from_the_carried_seed_generator():
    gan = compiled_tiny_dcgan()
    state = gan.seed_generator.state.numpy().copy()
    gan.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
    assert not np.array_equal(state, gan.seed_generator.state.numpy())


def test_fit_builds_nothing_by_calling_the_model():
    gan = compiled_tiny_dcgan()
    assert gan.built and gan.generator.built and gan.discriminator.built

    def refuse(*args, **kwargs):
        raise AssertionError("fit() called the model to build it")

    gan.compute_output_spec = refuse
    gan.fit(noise_images(16), batch_size=16, epochs=1, verbose=0)


def test_custom_networks_and_image_size():
    g = keras.Sequential([
        keras.Input((6,)), keras.layers.Dense(12 * 12 * 3, activation="tanh"),
        keras.layers.Reshape((12, 12, 3)),
    ])
    d = keras.Sequential([
        keras.Input((12, 12, 3)), keras.layers.Conv2D(4, 3, strides=2),
        keras.layers.Flatten(), keras.layers.Dense(1),
    ])
    gan = GAN(g, d, seed=1)
    assert gan.latent_dim == 6 and gan.image_shape == (12, 12, 3)
    gan.compile()
    history = gan.fit(noise_images(32, (12, 12, 3)), batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])
    assert gan.generate(n=3).shape == (3, 12, 12, 3)


class _FixedLatents:
    """Latents from a fixed grid: TF's stateless RNG picks another algorithm
    under XLA, so the same seed draws other numbers there."""

    def sample_latent(self, batch_size):
        grid = keras.ops.linspace(-2.0, 2.0, batch_size * self.latent_dim)
        return keras.ops.reshape(grid, (batch_size, self.latent_dim))


class _FixedDCGAN(_FixedLatents, DCGAN):
    def __init__(self, **kwargs):
        super().__init__(latent_dim=8, base_filters=4, **kwargs)


class _FixedMLPGAN(_FixedLatents, GAN):
    def __init__(self, **kwargs):
        g = keras.Sequential([
            keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8, activation="tanh"), keras.layers.Reshape((2, 2, 2)),
        ])
        d = keras.Sequential([
            keras.Input((2, 2, 2)), keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1),
        ])
        super().__init__(g, d, **kwargs)


def test_jit_compile_true_matches_default_compilation():
    # torch.compile needs ~70 s for an MLP GAN here and >4 min for a conv
    # GAN, so torch checks the MLP; TF (XLA) and JAX check the DCGAN.
    torch = keras.backend.backend() == "torch"
    model_class, shape = (_FixedMLPGAN, (2, 2, 2)) if torch else (_FixedDCGAN, (28, 28, 1))
    # SGD, not Adam: Adam's first steps are ~lr * sign(grad), which turns
    # float-rounding differences between compiled kernels into lr-sized ones.
    # Except torch's generator: its fused Adam kernel, which torch.compile
    # cannot trace, must step aside there (a small rate and a large epsilon
    # keep the steps small and near-linear in the gradient).
    results, start = [], model_class(seed=3).get_weights()
    for jit in ("auto", True):
        gan = model_class(seed=3)
        gan.set_weights(start)  # same initial weights and seed-generator state
        gan.compile(
            jit_compile=jit,
            d_optimizer=keras.optimizers.SGD(0.05),
            g_optimizer=(keras.optimizers.Adam(1e-4, epsilon=1e-3) if torch
                         else keras.optimizers.SGD(0.05)),
        )
        assert gan.jit_compile == (jit is True or keras.backend.backend() == "jax")
        history = gan.fit(noise_images(32, shape), batch_size=16, epochs=1, verbose=0,
                          shuffle=False)
        results.append((history.history, weights_of(gan)))
    (hist_a, weights_a), (hist_b, weights_b) = results
    for name in ("d_loss", "g_loss"):
        np.testing.assert_allclose(hist_a[name], hist_b[name], rtol=1e-4)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    assert any(not np.array_equal(a, b) for a, b in zip(start, weights_a))


def test_generator_ema_follows_its_formula_and_is_the_sampler(tmp_path):
    gan = tiny_dcgan(ema_decay=0.25)
    gan.compile()
    start = weights_of(gan.generator)
    np.testing.assert_array_equal(start[0], gan.ema_generator.weights[0].numpy())
    gan.fit(noise_images(16), batch_size=16, epochs=1, verbose=0)
    assert not gan.ema_generator.trainable
    decay = min(0.25, 2 / 11)  # warm-up after the first generator step
    for w0, w1, ema in zip(start, weights_of(gan.generator), weights_of(gan.ema_generator)):
        np.testing.assert_allclose(ema, decay * w0 + (1 - decay) * w1, rtol=1e-5, atol=1e-6)
    latents = numpy_latents(3)
    np.testing.assert_allclose(
        gan.generate(latents=latents), gan.ema_generator.predict(latents, verbose=0)
    )
    path = os.path.join(tmp_path, "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(weights_of(gan.ema_generator), weights_of(loaded.ema_generator)):
        np.testing.assert_array_equal(a, b)


def test_compiled_gan_round_trips_with_optimizer_state(tmp_path):
    gan = compiled_tiny_dcgan(d_lr=3e-4, g_lr=1e-4)
    data = noise_images(32)
    gan.fit(data, batch_size=16, epochs=1, verbose=0, shuffle=False)
    path = os.path.join(tmp_path, "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is DCGAN
    for key in ("d", "g"):
        ours, theirs = gan.optimizer[key], loaded.optimizer[key]
        assert int(theirs.iterations) == int(ours.iterations) == 2
        assert float(theirs.learning_rate) == pytest.approx(float(ours.learning_rate))
        for a, b in zip(ours.variables, theirs.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(loaded.optimizer.iterations) == 2
    # Both continue identically: same weights, moments, step and seed state.
    for model in (gan, loaded):
        model.fit(data, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(weights_of(gan.generator), weights_of(loaded.generator)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_weights_file_restores_optimizer_state(tmp_path):
    gan = compiled_tiny_dcgan()
    gan.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "gan.weights.h5")
    gan.save_weights(path)
    fresh = compiled_tiny_dcgan(seed=5)
    fresh.load_weights(path)
    for a, b in zip(gan.optimizer.variables, fresh.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(weights_of(gan), weights_of(fresh)):
        np.testing.assert_array_equal(a, b)


def test_the_optimizer_carries_no_model_weight():
    """Keras's JAX trainer passes model and optimizer variables through the
    jitted step as separate lists: a model weight also listed among the
    optimizer's variables travels (and is copied) twice each step."""
    gan = compiled_tiny_dcgan()
    gan.fit(noise_images(16), batch_size=16, verbose=0)
    weights = {id(v) for v in gan.variables}
    assert [v.path for v in gan.optimizer.variables if id(v) in weights] == []
    own = [v.path for v in gan.optimizer.variables[:2]]
    assert own == ["gan_optimizer/iteration", "gan_optimizer/learning_rate"]
    slots = sum(len(opt.variables) for opt in gan.optimizer.optimizers)
    assert len(gan.optimizer.variables) == 2 + slots


# ---------------------------------------------------------------- errors
def test_wrong_image_shape_is_a_clear_error():
    gan = compiled_tiny_dcgan()
    with pytest.raises(ValueError, match=r"built for images of shape \(28, 28, 1\)"):
        gan.fit(noise_images(16, (32, 32, 1)), batch_size=16, verbose=0)


def test_integer_images_are_a_clear_error():
    gan = compiled_tiny_dcgan()
    images = np.zeros((16, 28, 28, 1), "uint8")
    with pytest.raises(ValueError, match="127.5"):
        gan.fit(images, batch_size=16, verbose=0)


def test_empty_and_nan_data_are_clear_errors():
    gan = compiled_tiny_dcgan()
    with pytest.raises(ValueError, match="empty"):
        gan.fit(np.zeros((0, 28, 28, 1), "float32"), batch_size=8, verbose=0)
    bad = noise_images(16)
    bad[5, 3, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN.*index 5"):
        gan.fit(bad, batch_size=8, verbose=0)
    assert int(gan.optimizer.iterations) == 0


def test_fit_refuses_what_a_gan_would_ignore():
    gan = compiled_tiny_dcgan()
    x = noise_images(8)
    before = weights_of(gan.generator, gan.discriminator)
    with pytest.raises(ValueError, match="fit\\(\\) got sample_weight"):
        gan.fit(x, sample_weight=np.ones(8), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        gan.fit(x, class_weight={0: 1.0}, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="evaluate\\(\\) got sample_weight"):
        gan.evaluate(x, sample_weight=np.ones(8), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="DCGAN is unconditional and would ignore y"):
        gan.fit(x, np.zeros(8, "int32"), batch_size=4, verbose=0)
    for a, b in zip(before, weights_of(gan.generator, gan.discriminator)):
        np.testing.assert_array_equal(a, b)


def test_batches_smaller_than_n_critic_are_refused_before_any_update():
    from keras_gans import datasets

    gan = compiled_tiny_dcgan(n_critic=3)
    x = noise_images(8)
    before = weights_of(gan.generator, gan.discriminator)
    # Arrays: too small a batch_size, or a last batch smaller than n_critic.
    with pytest.raises(ValueError, match="batch of 2 images .*fewer than n_critic=3"):
        gan.fit(x, batch_size=2, verbose=0)
    with pytest.raises(ValueError, match="batch of 1 images \\(7 images, batch_size=3\\)"):
        gan.fit(x[:7], batch_size=3, verbose=0)
    # A dataset's batches are checked in the step (in the graph on TF).
    data, _ = datasets.make_dataset(x, 2, pipeline="numpy")
    with pytest.raises(Exception, match="fewer images than n_critic=3"):
        gan.fit(data, steps_per_epoch=2, verbose=0)
    for a, b in zip(before, weights_of(gan.generator, gan.discriminator)):
        np.testing.assert_array_equal(a, b)
    # A partial batch that fit() never reaches is no obstacle.
    gan.fit(x[:7], batch_size=3, steps_per_epoch=2, verbose=0)
    assert all(np.isfinite(w).all() for w in weights_of(gan.generator))


def test_non_finite_losses_end_fit_with_a_clear_error():
    # A dataset is not scanned up front (arrays are): NaN images in one
    # poison the weights, and fit() says so at the epoch's end.
    from keras_gans import datasets
    from keras_gans.core.adversarial import NonFiniteLossError

    gan = compiled_tiny_dcgan()
    x = noise_images(8)
    x[5, 3, 3, 0] = np.nan
    data, _ = datasets.make_dataset(x, 4, pipeline="numpy", shuffle=False)
    with pytest.raises(NonFiniteLossError, match=r"Epoch 1 ended with non-finite losses \(d_loss"):
        gan.fit(data, steps_per_epoch=2, epochs=3, verbose=0)
    assert isinstance(NonFiniteLossError("x"), RuntimeError)  # the CLI prints it as an error
    # A user's CallbackList gets the check too, and is handed back as given.
    mine = keras.callbacks.CallbackList([keras.callbacks.History()], model=gan)
    gan2 = compiled_tiny_dcgan()
    with pytest.raises(NonFiniteLossError):
        gan2.fit(data, steps_per_epoch=2, epochs=1, verbose=0, callbacks=mine)
    assert len(mine.callbacks) == 1


def test_fit_before_compile_is_a_clear_error():
    gan = tiny_dcgan()
    with pytest.raises(RuntimeError, match=r"compile\(\) before fit"):
        gan.fit(noise_images(16), batch_size=8, verbose=0)


def test_a_fit_failing_after_a_predict_keeps_the_last_epochs_weights():
    """A predict() (or evaluate()) in a callback leaves Keras's JAX trainer
    nothing to reattach when the next epoch fails before its first step:
    the guard's epoch snapshot must (a snapshot from before fit() was
    donated to the first step)."""
    class FailsWhenTold(keras.utils.PyDataset):
        fail = False

        def __len__(self):
            return 2

        def __getitem__(self, index):
            if self.fail:
                raise OSError("disk gone")
            return noise_images(4, seed=index)

    data = FailsWhenTold()
    gan = compiled_tiny_dcgan()
    after_first_epoch = []

    def first_epoch_end(epoch, logs):
        gan.predict(numpy_latents(4, gan.latent_dim), verbose=0)
        after_first_epoch.append(weights_of(gan.generator, gan.discriminator))
        data.fail = True

    record = keras.callbacks.LambdaCallback(on_epoch_end=first_epoch_end)
    with pytest.raises(Exception, match="disk gone"):
        gan.fit(data, epochs=2, callbacks=[record], verbose=0)
    # TensorFlow's reader may run one batch ahead of the error, and then a
    # step of the failing epoch completes; it is kept.
    done = int(gan.optimizer["g"].iterations.numpy())
    assert done in (2, 3)
    if done == 2:
        for old, new in zip(after_first_epoch[0], weights_of(gan.generator, gan.discriminator)):
            np.testing.assert_array_equal(old, new)
    gan.fit(noise_images(8), batch_size=4, verbose=0)
    assert int(gan.optimizer["g"].iterations.numpy()) == done + 2


@pytest.mark.parametrize("make, message", [
    (lambda tmp: kg_layers.MinibatchDiscrimination(
        num_kernels=0), "num_kernels must be a whole number >= 1; got 0"),
    (lambda tmp: kg_layers.SpectralDense(
        4, power_iterations=1.5), "power_iterations must be a whole number >= 1; got 1.5"),
    (lambda tmp: kg_layers.ReflectionPadding2D(
        padding=-1), "padding must be a whole number >= 0; got -1"),
    (lambda tmp: kg_layers.ImagePool(
        pool_size=2.5), "pool_size must be a whole number >= 0; got 2.5"),
    (lambda tmp: kg_checkpoint.TrainingCheckpoint(
        tmp, every_n_steps=2.5), "every_n_steps must be a whole number >= 0; got 2.5"),
    (lambda tmp: kg_checkpoint.TrainingCheckpoint(
        tmp, keep=0), "keep must be a whole number >= 1; got 0"),
    (lambda tmp: kg_augment.AdaptiveAugment(
        update_every=0.5), "update_every must be a whole number >= 1; got 0.5"),
    (lambda tmp: inception_score(
        np.full((4, 2), 0.5), splits=1.5), "splits must be a whole number >= 1; got 1.5"),
    (lambda tmp: kg_freeze.freeze_lowest_layers(
        tiny_dcgan().discriminator, 1.5), "n must be a whole number >= 0; got 1.5"),
])
def test_count_arguments_refuse_fractions_and_out_of_range(tmp_path, make, message):
    # Counts are whole numbers: a fraction is refused with the argument's
    # name, never truncated to another count.
    with pytest.raises(ValueError, match=message):
        make(tmp_path)


@pytest.mark.parametrize("make, message", [
    (lambda m: m.DCGAN(latent_dim=0), "latent_dim must be a whole number >= 1; got 0"),
    (lambda m: m.WGAN(latent_dim=4, clip_value=0), "clip_value must be positive"),
    (lambda m: m.WGANGP(latent_dim=4, gp_weight=-1), "gp_weight must be a finite number >= 0"),
    (lambda m: m.Pix2Pix(image_shape=(16, 16, 3), depth=0), "depth must be between 1 and 4"),
    (lambda m: m.Pix2Pix(image_shape=(16, 16, 3), target_channels=0),
     "target_channels must be a whole number >= 1"),
    (lambda m: m.CycleGAN(image_shape=(16, 16, 3), n_blocks=-1), "n_blocks must be a whole number >= 0"),
    (lambda m: m.CycleGAN(image_shape=(16, 16, 3), cycle_weight=float("nan")),
     "cycle_weight must be a finite number >= 0; got nan"),
    # The variant's own penalty is set by its arguments, not overridden.
    (lambda m: m.WGANGP(latent_dim=4, gp_weight=1.0, penalties=[GradientPenalty(10.0)]),
     "builds its own from gp_weight"),
    (lambda m: m.DCGAN(latent_dim=4, penalties="gp"), "Expected a keras_gans.regularizers.Penalty"),
    # Image sizes a family's networks cannot take are named up front.
    (lambda m: m.SNGAN(image_shape=(7, 7, 1)), r"even and at least 8, got \(7, 7\)"),
    (lambda m: m.Pix2Pix(image_shape=(7, 7, 1)), r"must be even .*got \(7, 7\)"),
])
def test_variant_arguments_are_checked(make, message):
    from keras_gans import models

    with pytest.raises((ValueError, TypeError), match=message):
        make(models)


def test_variant_penalties_add_to_their_own_and_one_penalty_needs_no_list(tmp_path):
    from keras_gans.models import WGANGP
    from keras_gans.regularizers import R1Penalty

    gan = WGANGP(latent_dim=4, base_filters=4, gp_weight=2.0, penalties=R1Penalty(1.0))
    assert [(type(p).__name__, p.get_config()) for p in gan.penalties] == [
        ("GradientPenalty", {"weight": 2.0, "target": 1.0, "one_sided": False}),
        ("R1Penalty", {"gamma": 1.0})]
    again = WGANGP.from_config(gan.get_config())
    assert [p.get_config() for p in again.penalties] == [p.get_config() for p in gan.penalties]
    assert DCGAN(latent_dim=4, base_filters=4, penalties=R1Penalty()).penalties[0].gamma == 10.0


def test_generate_checks_its_arguments():
    gan = tiny_dcgan()
    with pytest.raises(ValueError, match="n=5 but 2 latents"):
        gan.generate(n=5, latents=numpy_latents(2))
    with pytest.raises(ValueError, match="does not change latents you pass"):
        gan.generate(latents=numpy_latents(2), truncation=0.5)
    with pytest.raises(ValueError, match="n must be a whole number >= 1; got 0"):
        gan.generate(n=0)
    assert gan.generate(n=2, latents=numpy_latents(2)).shape[0] == 2


def test_bad_networks_and_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="one logit per image"):
        GAN(
            tiny_dcgan().generator,
            keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()]),
        )
    with pytest.raises(ValueError, match="n_critic"):
        tiny_dcgan(n_critic=0)
    # A fraction is refused, not truncated to another number of updates.
    with pytest.raises(ValueError, match="n_critic must be a whole number >= 1; got 2.5"):
        tiny_dcgan(n_critic=2.5)
    assert tiny_dcgan(n_critic=2.0).n_critic == 2
    gan = tiny_dcgan()
    with pytest.raises(TypeError, match="d_optimizer"):
        gan.compile(optimizer="adam")
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="own optimizer"):
        gan.compile(d_optimizer=shared, g_optimizer=shared)


def test_synchronized_batch_norm_is_saved_and_loads_on_every_backend():
    gan = tiny_dcgan(image_shape=(8, 8, 1), synchronized_batch_norm=True)
    assert gan.get_config()["synchronized_batch_norm"] is True
    assert type(gan.generator.get_layer("project_bn")).__name__ == "SyncBatchNormalization"
    # A layer config written on TensorFlow (synchronized=True) loads here too.
    config = keras.saving.serialize_keras_object(gan.generator.get_layer("project_bn"))
    config["config"]["synchronized"] = True
    layer = keras.saving.deserialize_keras_object(config)
    assert layer.synchronized == (keras.backend.backend() == "tensorflow")
    # Without a tf.distribute strategy the default stays plain BatchNorm.
    assert tiny_dcgan(image_shape=(8, 8, 1)).synchronized_batch_norm is False


def test_a_failed_fit_keeps_the_weights_and_the_model_trains_on():
    """JAX's trainer detaches the variables while it trains; a step that
    fails (bad data found while tracing, a reader error mid-epoch) must not
    lose them (keras_gans.backend.fit_guard)."""
    from keras_gans import datasets

    gan = compiled_tiny_dcgan()
    gan.fit(noise_images(8), batch_size=4, verbose=0)
    before = weights_of(gan.generator, gan.discriminator)
    wrong, _ = datasets.make_dataset(noise_images(8, (16, 16, 1)), 4, pipeline="numpy")
    with pytest.raises(ValueError, match="built for images of shape"):
        gan.fit(wrong, steps_per_epoch=1, verbose=0)
    for old, new in zip(before, weights_of(gan.generator, gan.discriminator)):
        np.testing.assert_array_equal(old, new)

    class FailsAtThirdBatch(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            if index == 2:
                raise OSError("disk gone")
            return noise_images(4, seed=index)

    # TensorFlow reports the reader's error wrapped in its own type.
    with pytest.raises(Exception, match="disk gone"):
        gan.fit(FailsAtThirdBatch(), verbose=0)
    # The completed steps are kept, and training goes on. On a GPU,
    # Keras's JAX iterator reads one batch ahead and meets the error before
    # the second step.
    done = int(gan.optimizer["g"].iterations.numpy())
    assert done in ((2 + 1, 2 + 2) if ON_GPU else (2 + 2,))
    gan.fit(noise_images(8), batch_size=4, verbose=0)
    assert int(gan.optimizer["g"].iterations.numpy()) == done + 2


def test_add_to_mean_is_keras_mean():
    # Through the train step's tracker update: torch's in-place
    # `backend.add_to_mean`, Keras's own update elsewhere.
    from keras_gans.core.adversarial import _update_mean

    ours, theirs = keras.metrics.Mean(name="loss"), keras.metrics.Mean(name="loss")
    results = []
    for value in (1.0, 2.0, 4.5):
        results.append(_update_mean(ours, keras.ops.convert_to_tensor(value)))
        theirs.update_state(value)
        np.testing.assert_allclose(float(results[-1]), float(theirs.result()), rtol=1e-7)
    # Each result is its own tensor, not a view of the running totals.
    assert [float(r) for r in results] == [1.0, 1.5, 2.5]
    # A float64 value is cast to the tracker's float32 first, as Keras does.
    exact, rounded = keras.metrics.Mean(), keras.metrics.Mean()
    tiny = keras.ops.convert_to_tensor(np.array(2.0**-24 + 2.0**-50))
    for tracker in (exact, rounded):
        tracker.update_state(1.0)
    rounded.update_state(tiny)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(_update_mean(exact, tiny)),
                                  keras.ops.convert_to_numpy(rounded.result()))
    assert float(ours.count.numpy()) == 3.0 and float(ours.result()) == 2.5
    ours.reset_state()
    assert float(_update_mean(ours, keras.ops.convert_to_tensor(3.0))) == 3.0


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_float32_mean_and_row_norms_are_the_keras_ops(dtype):
    # torch calls its kernels directly; the numbers, gradients included,
    # must be keras.ops' (TF and JAX use the keras.ops versions).
    from keras_gans.backend import keras_ops

    x = np.random.default_rng(0).normal(size=(3, 4, 5, 2)).astype(dtype)
    x[1] = 0.0  # a zero row: the epsilon keeps its norm's gradient finite
    for fast, keras_way in ((backend.float32_mean, keras_ops.float32_mean),
                            (backend.row_norms, keras_ops.row_norms)):
        got, got_grad = backend.input_gradient(fast, keras.ops.convert_to_tensor(x))
        want, want_grad = backend.input_gradient(keras_way, keras.ops.convert_to_tensor(x))
        assert keras.backend.standardize_dtype(got.dtype) == "float32"
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      keras.ops.convert_to_numpy(want))
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got_grad),
                                      keras.ops.convert_to_numpy(want_grad))
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(got_grad)))
        # Arrays and Python numbers are taken as keras.ops takes them.
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(fast(x)),
                                      keras.ops.convert_to_numpy(want))
    assert float(backend.float32_mean([1.0, 2.0])) == 1.5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(backend.row_norms(np.full((2, 4), 1.5))),
                               [3.0, 3.0], rtol=1e-7)


def test_increment_adds_one_in_the_variables_dtype():
    counter = keras.Variable(5, dtype="int64", trainable=False)
    rate = keras.Variable(0.5, dtype="float32", trainable=False)
    for variable, want in ((counter, 6), (rate, 1.5)):
        stored = keras.ops.convert_to_numpy(variable.value).dtype  # JAX stores int64 as int32
        backend.increment(variable)
        value = keras.ops.convert_to_numpy(variable.value)
        assert value == want and value.dtype == stored


def test_dcgan_reads_latent_dim_from_a_given_generator():
    # The default latent size (100) is for the networks DCGAN builds; a
    # given generator's own input decides otherwise.
    from keras_gans.networks import dcgan_generator

    gan = DCGAN(generator=dcgan_generator((28, 28, 1), 8, 4), base_filters=4)
    assert gan.latent_dim == 8 and DCGAN(base_filters=4).latent_dim == 100
    assert DCGAN.from_config(gan.get_config()).latent_dim == 8
    assert gan.generate(n=2).shape == (2, 28, 28, 1)

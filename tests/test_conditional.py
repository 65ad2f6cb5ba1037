"""Conditional and code-based variants (CGAN, ACGAN, ProjectionGAN, InfoGAN,
SGAN) on the current backend: fit() on real MNIST, save/load, label errors,
and properties only the real mechanism has."""
import keras
import numpy as np
import pytest
from conftest import require_data
from helpers import LATENT
from helpers import numpy_latents
from helpers import weights_of

from keras_gans.models import ACGAN
from keras_gans.models import CGAN
from keras_gans.models import InfoGAN
from keras_gans.models import ProjectionGAN
from keras_gans.models import SGAN
from keras_gans.models.sgan import semi_supervised_batches

TINY = dict(latent_dim=LATENT, base_filters=4, seed=0)
BATCH, STEPS, EPOCHS = 16, 2, 3
LOSSES = {
    "CGAN": ("d_loss", "g_loss"),
    "ACGAN": ("d_loss", "g_loss", "d_class_loss", "g_class_loss"),
    "ProjectionGAN": ("d_loss", "g_loss"),
    "InfoGAN": ("d_loss", "g_loss", "info_loss"),
    "SGAN": ("d_loss", "g_loss", "class_loss"),
}
CLASSES = {"CGAN": CGAN, "ACGAN": ACGAN, "ProjectionGAN": ProjectionGAN,
           "InfoGAN": InfoGAN, "SGAN": SGAN}


@pytest.fixture(scope="module")
def mnist():
    require_data("mnist")
    from keras_gans import datasets

    x, y = datasets.load("mnist", split="test", labels=True)
    return x[:512], y[:512]


def _build(name):
    if name == "InfoGAN":
        return InfoGAN(q_hidden=16, **TINY)
    return CLASSES[name](num_classes=10, **TINY)


def _sample(model, latents, labels):
    if isinstance(model, InfoGAN):
        return model.generate(latents=latents, categorical=labels,
                              continuous=np.zeros((len(labels), 2)))
    if isinstance(model, SGAN):
        return model.generate(latents=latents)
    return model.generate(labels=labels, latents=latents)


_TRAINED = {}


def _trained(name, mnist):
    """A tiny model fitted for EPOCHS x STEPS steps, with its weights before
    (trained once per module, whichever test asks first)."""
    if name not in _TRAINED:
        _TRAINED[name] = _train(name, mnist)
    return _TRAINED[name]


@pytest.fixture(scope="module", params=list(CLASSES))
def trained(request, mnist):
    return _trained(request.param, mnist)


def _train(name, mnist):
    x, y = mnist
    model = _build(name)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    before = {key: weights_of(*model.networks_of(key)) for key in model.network_sets}
    if name == "InfoGAN":
        data, kwargs = x, dict(batch_size=BATCH, shuffle=False)
    elif name == "SGAN":
        data = semi_supervised_batches(x, y, labelled_per_class=2, batch_size=BATCH)
        kwargs = {}
    else:
        data, kwargs = (x, y), dict(batch_size=BATCH, shuffle=False)
    history = model.fit(data, epochs=EPOCHS, steps_per_epoch=STEPS, verbose=0, **kwargs)
    return name, model, history.history, before


def test_fit_on_mnist_gives_finite_changing_losses_and_updates_both_sets(trained):
    name, model, history, before = trained
    for loss in LOSSES[name]:
        values = history[loss]
        assert len(values) == EPOCHS and np.all(np.isfinite(values)), (loss, values)
        assert values[0] != values[-1], (loss, values)
    for key in model.network_sets:
        assert int(model.optimizer[key].iterations) == EPOCHS * STEPS
        after = weights_of(*model.networks_of(key))
        changed = [not np.array_equal(a, b) for a, b in zip(before[key], after)]
        assert sum(changed) >= len(changed) // 2, (key, changed)


def test_save_and_load_give_the_same_samples(trained, tmp_path):
    name, model, _, _ = trained
    latents, labels = numpy_latents(6, seed=1), np.array([0, 1, 2, 7, 8, 9])
    expected = _sample(model, latents, labels)
    assert expected.shape == (6, 28, 28, 1) and np.all(np.abs(expected) <= 1)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model)
    networks = ("generator", "discriminator", "q_network")
    strip = lambda config: {k: v for k, v in config.items() if k not in networks}  # noqa: E731
    assert strip(restored.get_config()) == strip(model.get_config())
    np.testing.assert_allclose(_sample(restored, latents, labels), expected, atol=1e-5)
    if name == "SGAN":
        x = expected[:3]
        np.testing.assert_allclose(restored.predict(x, verbose=0),
                                   model.predict(x, verbose=0), atol=1e-5)


def test_infogan_information_term_decreases(mnist):
    _, model, history, _ = _trained("InfoGAN", mnist)
    start = history["info_loss"][0]
    # It starts near log(10) + the continuous term; 32 more steps (the
    # compiled step is reused; one pass over the 512 images) let Q and G
    # make the codes recoverable.
    more = model.fit(mnist[0], batch_size=BATCH, epochs=2, steps_per_epoch=16,
                     shuffle=False, verbose=0).history
    assert start > 2.0 and more["info_loss"][-1] < start - 0.3, (start, more)
    assert more["info_accuracy"][-1] > 0.2, more


@pytest.mark.parametrize("name", [n for n in CLASSES if n != "SGAN"])  # SGAN's G is unconditional
def test_conditional_samples_follow_the_labels(name, mnist):
    _, model, _, _ = _trained(name, mnist)
    latents = np.repeat(numpy_latents(1, seed=2), 3, axis=0)
    images = _sample(model, latents, np.array([[3], [3], [5]]))  # (n, 1) works too
    np.testing.assert_array_equal(images[0], images[1])
    assert np.abs(images[0] - images[2]).max() > 1e-4


def test_sgan_predict_gives_class_probabilities(mnist):
    _, model, history, _ = _trained("SGAN", mnist)
    x, _ = mnist
    probs = model.predict(x[:7], verbose=0)
    assert probs.shape == (7, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(probs >= 0)
    assert np.all((np.array(history["class_accuracy"]) >= 0)
                  & (np.array(history["class_accuracy"]) <= 1))
    np.testing.assert_allclose(model.classifier().predict(x[:7], verbose=0), probs, atol=1e-5)


def test_semi_supervised_batches_mix_labelled_and_unlabelled(mnist):
    x, y = mnist
    data = semi_supervised_batches(x, y, labelled_per_class=3, batch_size=16,
                                   labelled_batch_size=6, seed=4)
    labelled = set(data.labelled_indices.tolist())
    assert len(labelled) == 30
    assert sorted(np.bincount(y[data.labelled_indices], minlength=10)) == [3] * 10
    seen = set()
    for i in range(10):
        images, labels = data[i]
        assert images.shape == (16, 28, 28, 1) and labels.shape == (16,)
        assert (labels >= 0).sum() == 6 and (labels == -1).sum() == 10
        for image, label in zip(images, labels):
            if label >= 0:
                matches = np.flatnonzero((x[data.labelled_indices] == image).all(axis=(1, 2, 3)))
                assert matches.size and y[data.labelled_indices[matches[0]]] == label
                seen.add(int(data.labelled_indices[matches[0]]))
    assert seen == labelled  # 60 labelled draws cycle the 30 images twice
    np.testing.assert_array_equal(data[3][0], data[3][0])  # reproducible


def test_projection_logit_is_psi_plus_class_projection():
    gan = ProjectionGAN(num_classes=10, **TINY)
    d = gan.discriminator
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    labels = np.array([0, 3, 3, 9], "int32")
    body = d.get_layer("discriminator_body")
    features = keras.ops.convert_to_numpy(body(images))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in d.get_layer("logit").weights)
    embedding = keras.ops.convert_to_numpy(d.get_layer("class_embedding").embeddings)
    expected = features @ kernel + bias + np.sum(embedding[labels] * features, axis=1,
                                                 keepdims=True)
    got = keras.ops.convert_to_numpy(d([images, labels]))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # Only the embedding row of the label matters: changing the label of
    # one image changes that image's logit alone.
    other = keras.ops.convert_to_numpy(d([images, np.array([1, 3, 3, 9], "int32")]))
    assert abs(other[0, 0] - got[0, 0]) > 1e-6
    np.testing.assert_allclose(other[1:], got[1:], rtol=1e-6)


def test_sgan_real_fake_logit_is_logsumexp_of_class_logits():
    gan = SGAN(num_classes=10, **TINY)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    logits, _ = gan.discriminator(images, training=False)
    logits = keras.ops.convert_to_numpy(logits).astype("float64")
    expected = np.log(np.exp(logits).sum(axis=1, keepdims=True))
    got = keras.ops.convert_to_numpy(gan.discriminate(images, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_infogan_codes_and_q_shapes():
    gan = InfoGAN(q_hidden=16, **TINY)
    codes = gan.codes(categorical=[0, 9], continuous=[[0.5, -0.5], [1, 1]])
    np.testing.assert_array_equal(codes[:, :10].argmax(1), [0, 9])
    np.testing.assert_allclose(codes[:, 10:], [[0.5, -0.5], [1, 1]])
    drawn = keras.ops.convert_to_numpy(gan.sample_codes(500))
    assert drawn.shape == (500, 12)
    np.testing.assert_array_equal(drawn[:, :10].sum(1), 1.0)
    assert len(np.unique(drawn[:, :10].argmax(1))) == 10
    assert np.all(np.abs(drawn[:, 10:]) <= 1.0)
    probs, continuous = gan.predict_codes(np.zeros((2, 28, 28, 1), "float32"))
    assert probs.shape == (2, 10) and continuous.shape == (2, 2)
    with pytest.raises(ValueError, match="categorical must be class ids"):
        gan.generate(categorical=[10])
    with pytest.raises(ValueError, match=r"continuous must have shape \(1, 2\)"):
        gan.generate(categorical=[1], continuous=[[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", ["CGAN", "ACGAN", "ProjectionGAN", "SGAN"])
def test_clear_label_errors(name):
    model = _build(name)
    model.compile()
    images = np.zeros((8, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match="conditional"):
        model.fit(images, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"class ids in \[0, 10\)"):
        model.fit(images, np.array([0, 1, 2, 3, 4, 5, 6, 12]), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, 1\)"):
        model.fit(images, np.zeros((8, 2), "int32"), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="8 images"):
        model.fit(images, np.zeros((5,), "int32"), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="integer class ids"):
        model.fit(images, np.full((8,), 0.5, "float32"), batch_size=4, verbose=0)
    if name == "SGAN":
        with pytest.raises(ValueError, match=r"or -1 \(unlabelled\)"):
            model.fit(images, np.full((8,), -2), batch_size=4, verbose=0)
        return
    with pytest.raises(ValueError, match=r"class ids in \[0, 10\)"):
        model.fit(images, np.full((8,), -1), batch_size=4, verbose=0)
    # Labels as a list are taken like an array (Keras itself takes arrays).
    history = model.fit(images, [0, 1, 2, 3, 4, 5, 6, 7], batch_size=4, verbose=0)
    assert np.isfinite(history.history["d_loss"]).all()
    with pytest.raises(ValueError, match=r"class ids in \[0, 10\)"):
        model.generate(labels=[1, 10])
    with pytest.raises(ValueError, match="2 latents but 3 labels"):
        model.generate(labels=[1, 2, 3], latents=numpy_latents(2))
    np.testing.assert_array_equal(model.sample_labels(12), np.arange(12) % 10)


@pytest.mark.parametrize("name", ["CGAN", "SGAN"])
def test_a_datasets_labels_are_checked_as_the_step_runs(name):
    # A dataset is not scanned up front; its second batch holds an id out of
    # range. torch and TF stop with the model's message before that batch
    # updates anything; JAX cannot raise in its compiled step, so the NaN
    # the lookup gives ends the epoch (NonFiniteLossError, naming labels).
    from keras_gans.core.adversarial import NonFiniteLossError
    from keras_gans.datasets import make_dataset

    model = _build(name)
    model.compile()
    labels = np.array([0, 1, 2, 3, 4, 5, 10, 2])
    data, _ = make_dataset(np.zeros((8, 28, 28, 1), "float32"), 4, labels=labels,
                           shuffle=False, pipeline="numpy")
    backend = keras.backend.backend()
    expected = {"jax": NonFiniteLossError, "torch": ValueError}.get(backend, Exception)
    low = -1 if name == "SGAN" else 0
    with pytest.raises(expected) as info:
        model.fit(data, steps_per_epoch=2, verbose=0)
    if backend != "jax":
        assert f"{name}: labels must be class ids in [{low}, 10)" in str(info.value)
    else:
        assert "class labels outside" in str(info.value)
    if backend == "tensorflow" and name == "CGAN":  # XLA drops assertions: NaN stands in
        model = _build(name)
        model.compile(jit_compile=True)
        with pytest.raises(NonFiniteLossError, match="class labels outside"):
            model.fit(data, steps_per_epoch=2, verbose=0)
    # Valid ids, unlabelled -1 included for SGAN, train.
    labels[6] = low
    data, _ = make_dataset(np.zeros((8, 28, 28, 1), "float32"), 4, labels=labels,
                           shuffle=False, pipeline="numpy")
    history = _build(name)
    history.compile()
    assert np.isfinite(history.fit(data, steps_per_epoch=2, verbose=0).history["d_loss"]).all()


def test_a_dataset_without_labels_is_refused():
    gan = _build("CGAN")
    gan.compile()
    from keras_gans.datasets import make_dataset

    data, _ = make_dataset(np.zeros((8, 28, 28, 1), "float32"), 4, pipeline="numpy")
    with pytest.raises(ValueError, match=r"needs \(images, labels\) batches"):
        gan.fit(data, steps_per_epoch=1, verbose=0)

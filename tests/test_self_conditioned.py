"""SelfConditionedGAN on the current backend: its clustering, training on
cluster ids, unconditional sampling by cluster frequency, saving, errors."""
import keras
import numpy as np
import pytest
from conftest import require_data
from helpers import LATENT
from helpers import numpy_latents
from helpers import weights_of

from keras_gans.models import SelfConditionedGAN
from keras_gans.models.self_conditioned import kmeans


def two_kinds(n_left, n_right, seed=0):
    """Images bright in the left half or in the right half, plus noise:
    two clusters any clustering of pixels must find."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0.0, 0.1, (n_left + n_right, 28, 28, 1))
    images[:n_left, :, :14] += 0.8
    images[n_left:, :, 14:] += 0.8
    kinds = np.array([0] * n_left + [1] * n_right)
    return np.clip(images, -1, 1).astype("float32"), kinds


def tiny(num_clusters=2, components=4, **kwargs):
    return SelfConditionedGAN(num_clusters=num_clusters, components=components, latent_dim=LATENT,
                              base_filters=4, seed=0, **kwargs)


def same_partition(ids, kinds):
    """Whether two labelings split the items the same way (ids renamed)."""
    pairs = set(zip(ids.tolist(), kinds.tolist()))
    return len(pairs) == len(set(ids.tolist())) == len(set(kinds.tolist()))


def test_kmeans_is_deterministic_and_keeps_every_cluster():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(300, 3))
    centers, ids = kmeans(points, 7, seed=3)
    again, same = kmeans(points, 7, seed=3)
    np.testing.assert_array_equal(ids, same)
    np.testing.assert_array_equal(centers, again)
    assert sorted(set(ids.tolist())) == list(range(7))
    # Each point sits in the cluster of its nearest center (Lloyd's fixed point).
    nearest = ((points[:, None] - centers[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(ids, nearest)


def test_cluster_finds_the_two_kinds_and_their_frequencies():
    images, kinds = two_kinds(30, 10)
    gan = tiny()
    ids = gan.cluster(images)
    assert same_partition(ids, kinds)
    prior = np.sort(gan.cluster_prior.numpy())
    np.testing.assert_allclose(prior, [0.25, 0.75], atol=1e-6)
    fresh, fresh_kinds = two_kinds(8, 8, seed=5)
    assert same_partition(gan.assign_clusters(fresh), fresh_kinds)
    np.testing.assert_array_equal(gan.assign_clusters(images), ids)


def test_fit_trains_both_networks_on_clusters_and_keeps_the_clustering():
    images, _ = two_kinds(24, 8)
    gan = tiny()
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    before = {key: weights_of(*gan.networks_of(key)) for key in gan.network_sets}
    history = gan.fit(images, batch_size=16, epochs=3, verbose=0).history
    for loss in ("d_loss", "g_loss"):
        assert np.all(np.isfinite(history[loss])) and history[loss][0] != history[loss][-1]
    for key in gan.network_sets:
        assert int(gan.optimizer[key].iterations) == 6
        changed = [not np.array_equal(a, b)
                   for a, b in zip(before[key], weights_of(*gan.networks_of(key)))]
        assert sum(changed) >= len(changed) // 2, (key, changed)
    centers = gan.cluster_centers.numpy().copy()
    gan.fit(images[::-1], batch_size=16, epochs=1, verbose=0)  # no re-clustering
    np.testing.assert_array_equal(gan.cluster_centers.numpy(), centers)
    # Unconditional samples draw clusters by their frequencies (0.25 / 0.75).
    drawn = gan.sample_labels(4000)
    share = np.bincount(drawn, minlength=2) / len(drawn)
    np.testing.assert_allclose(np.sort(share), [0.25, 0.75], atol=0.03)
    samples = gan.generate(5)
    assert samples.shape == (5, 28, 28, 1) and np.all(np.abs(samples) <= 1)


def test_save_and_load_keep_the_clusters_and_the_samples(tmp_path):
    images, _ = two_kinds(16, 16)
    gan = tiny(ema_decay=0.99)
    gan.compile()
    gan.fit(images, batch_size=16, epochs=1, verbose=0)
    latents = numpy_latents(6, seed=2)
    expected = gan.generate(latents=latents)
    path = str(tmp_path / "selfcond.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is SelfConditionedGAN
    assert restored.num_clusters == 2 and restored.components == 4
    for name in ("cluster_mean", "cluster_basis", "cluster_centers", "cluster_prior"):
        np.testing.assert_array_equal(getattr(restored, name).numpy(),
                                      getattr(gan, name).numpy())
    np.testing.assert_array_equal(restored.sample_labels(50), gan.sample_labels(50))
    np.testing.assert_allclose(restored.generate(latents=latents), expected, atol=1e-5)


def test_clear_errors():
    images, kinds = two_kinds(8, 8)
    gan = tiny()
    gan.compile()
    with pytest.raises(ValueError, match="not been trained yet"):
        gan.generate(3)
    with pytest.raises(ValueError, match="has not clustered"):
        gan.assign_clusters(images)
    with pytest.raises(ValueError, match="learns without labels"):
        gan.fit(images, kinds, verbose=0)
    batches = (batch for batch in [images])  # a dataset, not an array
    with pytest.raises(ValueError, match="call ids = gan.cluster"):
        gan.fit(batches, verbose=0)
    with pytest.raises(ValueError, match="built for images of shape"):
        gan.cluster(np.zeros((16, 32, 32, 1), "float32"))
    bad = images.copy()
    bad[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gan.cluster(bad)
    with pytest.raises(ValueError, match="Cannot make 40 clusters from 16 images"):
        tiny(num_clusters=40).cluster(images)
    with pytest.raises(ValueError, match="pass num_clusters, not num_classes"):
        SelfConditionedGAN(num_classes=10, latent_dim=LATENT, base_filters=4)
    with pytest.raises(ValueError, match="components must be a whole number >= 1; got 0"):
        SelfConditionedGAN(num_clusters=2, components=0, latent_dim=LATENT, base_filters=4)
    with pytest.raises(ValueError, match=r"components must be in \[1, 784\]"):
        SelfConditionedGAN(num_clusters=2, components=2000, latent_dim=LATENT, base_filters=4)


def test_clusters_of_real_digits_follow_their_classes():
    """On real MNIST the clustering (no labels) groups digits by class well
    above chance; the labels only score it."""
    require_data("mnist")
    from keras_gans import datasets

    x, y = datasets.load("mnist", split="test", labels=True)
    x, y = x[:2000], y[:2000]
    ids = tiny(num_clusters=20, components=30).cluster(x)
    counts = np.zeros((20, 10), int)
    np.add.at(counts, (ids, y), 1)
    purity = counts.max(1).sum() / len(y)
    assert purity > 0.6, purity  # a random split scores ~0.11

"""keras_gans.datasets.from_directory and the emoji loaders.

Everything runs on tiny folders generated here with Pillow (the emoji
loaders on a fake folder laid out like scripts/fetch_emoji.sh writes), so
a clean checkout runs it all; ``test_real_emoji_data`` also checks the
fetched data when it is present and skips otherwise.
"""
import io
import json
import os
import warnings

import numpy as np
import pytest
from PIL import Image

from keras_gans import datasets
from keras_gans.datasets import emoji as emoji_module


def _save(path, image, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)


def _noise(size=(32, 32), seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8))


def _first_batch(dataset):
    if hasattr(dataset, "as_numpy_iterator"):  # tf.data
        return next(dataset.as_numpy_iterator())
    return dataset[0]  # keras.utils.PyDataset


def _scaled(value):
    return np.float32(value) / np.float32(127.5) - np.float32(1.0)


# ------------------------------------------------------------- from_directory
def test_mixed_modes_composite_on_white(tmp_path):
    _save(tmp_path / "a_rgb.png", Image.new("RGB", (4, 4), (255, 0, 0)))
    _save(tmp_path / "b_rgba.png", Image.new("RGBA", (4, 4), (0, 0, 0, 0)))
    _save(tmp_path / "c_half.png", Image.new("RGBA", (4, 4), (0, 0, 0, 128)))
    _save(tmp_path / "d_gray.png", Image.new("L", (4, 4), 100))
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    _save(tmp_path / "e_pal.png", pal, transparency=1)  # all transparent
    _save(tmp_path / "f.jpg", Image.new("RGB", (4, 4), (0, 255, 0)), quality=100)
    data = datasets.from_directory(tmp_path)
    assert isinstance(data, datasets.FolderImages)
    assert data.images.shape == (6, 4, 4, 3) and data.images.dtype == np.float32
    assert data.labels is None and data.class_names == () and data.skipped == ()
    assert data.files == ("a_rgb.png", "b_rgba.png", "c_half.png", "d_gray.png",
                          "e_pal.png", "f.jpg")
    x = data.images[:, 0, 0]
    np.testing.assert_array_equal(x[0], [1, -1, -1])
    np.testing.assert_array_equal(x[1], [1, 1, 1])  # transparent -> white
    np.testing.assert_allclose(x[2], _scaled(127), atol=1 / 127.5)  # half black
    np.testing.assert_array_equal(x[3], [_scaled(100)] * 3)  # grey -> 3 equal
    np.testing.assert_array_equal(x[4], [1, 1, 1])
    np.testing.assert_allclose(x[5], [-1, 1, -1], atol=0.03)
    assert data.images.min() >= -1 and data.images.max() <= 1


def test_channels_default_and_override(tmp_path):
    _save(tmp_path / "g.png", Image.new("L", (3, 3), 0))
    _save(tmp_path / "ga.png", Image.new("LA", (3, 3), (0, 0)))  # transparent
    _save(tmp_path / "b.bmp", Image.new("1", (3, 3), 1))
    grey = datasets.from_directory(tmp_path)
    assert grey.images.shape == (3, 3, 3, 1)  # every file grey -> 1 channel
    np.testing.assert_array_equal(grey.images[:, 0, 0, 0], [1, -1, 1])  # b, g, ga
    assert datasets.from_directory(tmp_path, channels=3).images.shape == (3, 3, 3, 3)
    _save(tmp_path / "c.webp", Image.new("RGB", (3, 3), (0, 0, 255)), lossless=True)
    _save(tmp_path / "d.gif", Image.new("RGB", (3, 3), (255, 255, 255)))
    assert datasets.from_directory(tmp_path).images.shape == (5, 3, 3, 3)
    one = datasets.from_directory(tmp_path, channels=1)
    assert one.images.shape == (5, 3, 3, 1)
    blue_luma = round(255 * 114 / 1000)  # Pillow's ITU-R 601-2 luma
    assert abs(one.images[1, 0, 0, 0] - _scaled(blue_luma)) <= 1 / 127.5
    with pytest.raises(ValueError, match="channels"):
        datasets.from_directory(tmp_path, channels=4)


def test_resize_and_size_mismatch(tmp_path):
    pattern = np.tile(np.array([[0, 255], [255, 0]], np.uint8), (2, 2))  # 4x4
    _save(tmp_path / "a.png", Image.fromarray(np.kron(pattern, np.ones((2, 2), np.uint8))))
    _save(tmp_path / "b.png", Image.new("RGB", (5, 3), (10, 20, 30)))
    with pytest.raises(ValueError, match=r"a.png is 8x8 but b.png is 3x5.*image_size"):
        datasets.from_directory(tmp_path)
    data = datasets.from_directory(tmp_path, image_size=(4, 6))
    assert data.images.shape == (2, 4, 6, 3)
    np.testing.assert_allclose(data.images[1], np.broadcast_to(_scaled([10, 20, 30]), (4, 6, 3)),
                               atol=1 / 127.5)  # bicubic keeps a flat colour
    small = datasets.from_directory(tmp_path, image_size=4, limit=1)
    assert small.images.shape == (1, 4, 4, 1) and small.files == ("a.png",)
    # Shrinking 8x8 -> 4x4 averages each 2x2 block exactly (area resampling).
    np.testing.assert_array_equal(small.images[0, :, :, 0], _scaled(pattern))
    for bad in (0, (4,), (4, 0), "big"):
        with pytest.raises(ValueError, match="image_size"):
            datasets.from_directory(tmp_path, image_size=bad)


def test_class_folders_give_labels(tmp_path):
    _save(tmp_path / "dogs" / "1.png", Image.new("RGB", (2, 2), "blue"))
    _save(tmp_path / "cats" / "2.png", Image.new("RGB", (2, 2), "red"))
    _save(tmp_path / "cats" / "deep" / "3.png", Image.new("RGB", (2, 2), "red"))
    _save(tmp_path / "birds" / "4.jpeg", Image.new("RGB", (2, 2), "green"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    data = datasets.from_directory(tmp_path)
    assert data.class_names == ("birds", "cats", "dogs")
    assert data.files == ("birds/4.jpeg", "cats/2.png", "cats/deep/3.png", "dogs/1.png")
    assert data.labels.tolist() == [0, 1, 1, 2] and data.labels.dtype == np.int32
    plain = datasets.from_directory(tmp_path, labels=None)
    assert plain.labels is None and plain.class_names == ()
    # One class folder is not a labelling.
    assert datasets.from_directory(tmp_path / "cats").labels is None
    _save(tmp_path / "loose.png", Image.new("RGB", (2, 2)))
    with pytest.raises(ValueError, match="directly inside it.*labels=None"):
        datasets.from_directory(tmp_path)
    assert len(datasets.from_directory(tmp_path, labels=None).files) == 5
    with pytest.raises(ValueError, match="labels"):
        datasets.from_directory(tmp_path, labels="folders")


def _png_header_only(width, height):
    """A PNG whose header claims `width` x `height` grey pixels, with no data."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_corrupt_and_truncated_files_skipped_with_one_warning(tmp_path):
    for i in range(3):
        _save(tmp_path / f"good{i}.png", _noise(seed=i))
    buf = io.BytesIO()
    _noise(seed=9).save(buf, "PNG")
    (tmp_path / "half.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    buf = io.BytesIO()
    _noise(seed=8).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:200])
    (tmp_path / "junk.png").write_bytes(b"this is not a png")
    (tmp_path / "vast.png").write_bytes(_png_header_only(20000, 20000))  # > Pillow's bomb limit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = datasets.from_directory(tmp_path)
    ours = [w for w in caught if "could not be read" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert "Skipped 3 of 7" in str(ours[0].message)
    assert "half.png" in str(ours[0].message) and "vast.png" not in str(ours[0].message)
    # A valid but huge image is not called corrupt: it says how to take it.
    large = [str(w.message) for w in caught if "too large" in str(w.message)]
    assert len(large) == 1 and "Skipped 1 of 7" in large[0] and "vast.png" in large[0]
    assert "MAX_IMAGE_PIXELS" in large[0]
    assert data.skipped == ("cut.jpg", "half.png", "junk.png", "vast.png")
    assert data.files == ("good0.png", "good1.png", "good2.png")
    np.testing.assert_array_equal(data.images[0], np.asarray(_noise(seed=0)) / np.float32(127.5) - 1)
    for name in data.files:
        os.remove(tmp_path / name)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="None of the 4"):
        datasets.from_directory(tmp_path)


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        datasets.from_directory(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="is empty"):
        datasets.from_directory(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.csv").write_text("1,2")
    (tmp_path / ".hidden.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"No image files under .*\.png, \.jpg"):
        datasets.from_directory(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        datasets.from_directory(tmp_path / "notes.txt")
    _save(tmp_path / "a.png", Image.new("L", (2, 2)))
    with pytest.raises(ValueError, match="limit"):
        datasets.from_directory(tmp_path, limit=0)


def test_batch_size_gives_fit_ready_dataset(tmp_path):
    import keras

    for cls in range(2):
        for i in range(5):
            _save(tmp_path / f"class{cls}" / f"{i}.png", _noise((6, 6), seed=10 * cls + i))
    ds, steps = datasets.from_directory(tmp_path, batch_size=4, seed=1)
    assert steps == 2  # 10 // 4
    bx, by = _first_batch(ds)
    assert bx.shape == (4, 6, 6, 3) and by.shape == (4,)
    assert bx.min() >= -1 and bx.max() <= 1 and set(by.tolist()) <= {0, 1}
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    unlabelled, _ = datasets.from_directory(tmp_path, labels=None, batch_size=3)
    assert _first_batch(unlabelled).shape == (3, 6, 6, 3)


# ---------------------------------------------------------------- emoji (fake)
# Real-looking names, so the hash split is pinned without the real data.
_BASES = ["1f600.png", "1f602.png", "1f60d.png", "1f44d.png", "1f436.png",
          "1f355.png", "26bd.png", "1f680.png", "1f4a1.png", "2764-fe0f.png",
          "1f1eb-1f1f7.png", "1f3fb.png", "0030-fe0f-20e3.png", "1f17e-fe0f.png",
          "1f1e6-1f1ee.png", "1f34e.png", "1f431.png", "1f697.png", "1f3b8.png",
          "1f4f7.png"]
_CATEGORIES = ["Smileys & Emotion", "Smileys & Emotion", "Smileys & Emotion",
               "People & Body", "Animals & Nature", "Food & Drink", "Activities",
               "Travel & Places", "Objects", "Symbols", "Flags", "Component",
               "Symbols", "Symbols", "Flags", "Food & Drink", "Animals & Nature",
               "Travel & Places", "Objects", "Objects"]
_SKIN = ["1f3fb", "1f3fc"]  # variants of the 1f44d (thumbs up) entry


def _fake_emoji(root):
    """A tiny emoji folder: pixel (0, 0) of file i holds value i (twitter)
    and 255 - i (google); google's corner is transparent."""
    entries = []
    names = []
    for base, category in zip(_BASES, _CATEGORIES):
        entry = {"image": base, "category": category, "unified": base[:-4]}
        if base == "1f44d.png":
            entry["skin_variations"] = {
                tone: {"image": f"1f44d-{tone}.png"} for tone in _SKIN}
            names += [f"1f44d-{tone}.png" for tone in _SKIN]
        entries.append(entry)
        names.append(base)
    names = sorted(names)
    for i, name in enumerate(names):
        tw = np.full((8, 8, 4), 255, np.uint8)
        tw[0, 0, :3] = i
        go = np.full((8, 8, 4), 255, np.uint8)
        go[0, 0, :3] = 255 - i
        go[7, 7, 3] = 0  # transparent black -> white
        go[7, 7, :3] = 0
        _save(root / "twitter" / name, Image.fromarray(tw, "RGBA"))
        _save(root / "google" / name, Image.fromarray(go, "RGBA"))
    _save(root / "twitter" / "only-twitter.png", Image.new("RGBA", (8, 8)))
    (root / "emoji.json").write_text(json.dumps(entries))
    return names


@pytest.fixture
def fake_emoji(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.EMOJI_ENV_VAR, raising=False)
    return tmp_path, _fake_emoji(tmp_path)


def test_emoji_split_is_fixed_and_shared(fake_emoji):
    root, names = fake_emoji
    train = datasets.emoji_file_names("train", root=root)
    test = datasets.emoji_file_names("test", root=root)
    assert not set(train) & set(test)
    assert sorted(train + test) == names  # "only-twitter.png" is in one style only
    assert list(train) == sorted(train) and list(test) == sorted(test)
    # Pinned: these names are real emoji, so the real split agrees.
    assert test == ("0030-fe0f-20e3.png", "1f17e-fe0f.png", "1f1e6-1f1ee.png", "1f355.png")
    # Skin-tone variants follow their base emoji into the same split.
    assert {"1f44d.png", "1f44d-1f3fb.png", "1f44d-1f3fc.png"} <= set(train)


def test_emoji_load_labels_and_pairs(fake_emoji):
    root, names = fake_emoji
    test_names = datasets.emoji_file_names("test", root=root)
    x = datasets.load_emoji("twitter", "test", image_size=None, root=root)
    assert x.shape == (4, 8, 8, 3) and x.dtype == np.float32
    expected = [names.index(n) for n in test_names]
    np.testing.assert_array_equal(x[:, 0, 0, 0], _scaled(expected))
    tw, go = datasets.load_emoji_pairs("train", image_size=None, root=root)
    assert tw.shape == go.shape == (len(names) - 4, 8, 8, 3)
    np.testing.assert_array_equal((tw[:, 0, 0] + go[:, 0, 0]), 0.0)  # i + (255 - i)
    np.testing.assert_array_equal(go[:, 7, 7], 1.0)  # transparent -> white
    x4, y = datasets.load_emoji("google", "train", image_size=4, channels=1,
                                root=root, labels=True)
    assert x4.shape == (len(tw), 4, 4, 1)
    categories = datasets.emoji_categories(root=root)
    assert categories == tuple(sorted(set(_CATEGORIES)))
    train_names = datasets.emoji_file_names("train", root=root)
    by_name = dict(zip(_BASES, _CATEGORIES))
    by_name.update({f"1f44d-{t}.png": "People & Body" for t in _SKIN})
    assert [categories[i] for i in y] == [by_name[n] for n in train_names]
    assert y.dtype == np.int32
    # datasets.load routes "emoji" (and only "emoji" takes options).
    np.testing.assert_array_equal(
        datasets.load("emoji", "test", style="twitter", image_size=None, root=root), x)
    with pytest.raises(TypeError, match="only 'emoji'"):
        datasets.load("mnist", style="twitter")


def test_emoji_unreadable_file_dropped_from_both_styles(fake_emoji):
    root, names = fake_emoji
    bad = datasets.emoji_file_names("train", root=root)[0]
    (root / "google" / bad).write_bytes(b"broken")
    with pytest.warns(UserWarning, match="Skipped 1 of"):
        tw, go = datasets.load_emoji_pairs("train", image_size=None, root=root)
    assert len(tw) == len(go) == len(names) - 5
    np.testing.assert_array_equal((tw[:, 0, 0] + go[:, 0, 0]), 0.0)


def test_emoji_location_and_errors(fake_emoji, tmp_path_factory, monkeypatch):
    root, _ = fake_emoji
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HOME", str(elsewhere))
    with pytest.raises(datasets.DataUnavailableError,
                       match="bash scripts/fetch_emoji.sh") as err:
        datasets.load_emoji()
    assert "data/emoji" in str(err.value) and datasets.EMOJI_ENV_VAR in str(err.value)
    with pytest.raises(datasets.DataUnavailableError):
        datasets.check_available("emoji")
    monkeypatch.setenv(datasets.EMOJI_ENV_VAR, str(root))
    datasets.check_available("emoji")
    assert len(datasets.emoji_file_names("test")) == 4
    monkeypatch.delenv(datasets.EMOJI_ENV_VAR)
    (elsewhere / "data").mkdir()
    os.symlink(root, elsewhere / "data" / "emoji")
    assert len(datasets.load_emoji("google", "test", image_size=2)) == 4
    with pytest.raises(ValueError, match="style"):
        datasets.load_emoji("apple")
    with pytest.raises(ValueError, match="split"):
        datasets.load_emoji_pairs("validation")
    with pytest.raises(ValueError, match="load_emoji"):
        datasets.load_uint8("emoji")


# ---------------------------------------------------------------- emoji (real)
def test_real_emoji_data(monkeypatch):
    """The fetched data (bash scripts/fetch_emoji.sh); skipped when absent."""
    try:
        root = emoji_module.emoji_dir()
    except datasets.DataUnavailableError as err:
        pytest.skip(str(err))
    for style in datasets.EMOJI_STYLES:
        assert len(os.listdir(os.path.join(root, style))) == 3786
    train = datasets.emoji_file_names("train")
    test = datasets.emoji_file_names("test")
    assert (len(train), len(test)) == (3385, 401) and not set(train) & set(test)
    assert len(datasets.emoji_categories()) == 10
    tw, go = datasets.load_emoji_pairs("test")
    assert tw.shape == go.shape == (401, 64, 64, 3)
    assert -1 <= tw.min() and tw.max() <= 1
    per_image = np.abs(tw - go).mean(axis=(1, 2, 3))
    shuffled = np.abs(tw - np.roll(go, 1, axis=0)).mean()
    assert per_image.min() > 0 and per_image.mean() < 0.8 * shuffled


def test_metrics_read_a_folder_as_training_does(tmp_path):
    from keras_gans.metrics import load_folder

    grey16 = Image.fromarray(np.full((8, 8), 32896, np.uint16))  # 16-bit mid grey
    _save(tmp_path / "a" / "grey16.png", grey16)
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))  # transparent: white, as in training
    _save(tmp_path / "a" / "clear.png", clear)
    (tmp_path / "a" / "junk.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="junk.png"):
        images = load_folder(str(tmp_path / "a"))
    with pytest.warns(UserWarning, match="junk.png"):
        trained = datasets.from_directory(tmp_path / "a", labels=None)
    np.testing.assert_array_equal(images, np.round((trained.images + 1) * 127.5).astype(np.uint8))
    assert images.shape == (2, 8, 8, 3) and images.min() == 128 and images[0].max() == 255

    # EXIF orientation 6 (rotate 90 degrees clockwise to view): read upright.
    wide = Image.new("L", (20, 10), 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    _save(tmp_path / "b" / "photo.jpg", wide, exif=exif.tobytes())
    assert load_folder(str(tmp_path / "b")).shape == (1, 20, 10, 1)

    # Many files: none is left open (a 10k folder exceeded the open-file limit).
    for i in range(40):
        _save(tmp_path / "c" / f"{i:02d}.png", Image.new("L", (4, 4), i))
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 12 + len(os.listdir("/proc/self/fd"))), hard))
    try:
        assert load_folder(str(tmp_path / "c")).shape == (40, 4, 4, 1)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_metrics_refuse_a_run_folder_and_an_unknown_name(tmp_path):
    from keras_gans.metrics import load_folder

    _save(tmp_path / "run" / "samples" / "epoch_001.png", Image.new("L", (8, 8)))
    (tmp_path / "run" / "checkpoints").mkdir()
    with pytest.raises(ValueError, match="training run's folder .*checkpoints"):
        load_folder(str(tmp_path / "run"))
    with pytest.raises(ValueError, match="neither a folder of images nor a known dataset .*mnist"):
        load_folder("cifar10")

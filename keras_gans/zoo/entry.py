"""A zoo entry on disk: a keras-hub-style preset folder.

    config.json        the serialized GAN (`keras.saving.serialize_keras_object`)
    metadata.json      versions, backend, parameters, date, dataset, training
                       budget, metrics with their protocol, weights sha256
    model.weights.h5   generator, discriminator (and EMA generator) weights;
                       no optimizer state, so entries stay small
    README.md          the model card (YAML front matter for the Hub)
    samples.png        an 8x8 grid drawn from fixed numpy latents (seed 0);
                       for translation models, a grid given by the exporter
                       (input | output | target rows)

The same folder is what `publish` uploads and what `load_gan` reads back.
"""
import datetime
import json
import os
import platform
import shutil
import tempfile

import numpy as np

from keras_gans.utils.files import file_sha256 as sha256_of
from keras_gans.zoo import errors

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
CARD_FILE = "README.md"
GRID_FILE = "samples.png"
REQUIRED_FILES = (CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE)
ENTRY_FILES = REQUIRED_FILES + (CARD_FILE, GRID_FILE)
GRID_SEED = 0


def is_entry(folder):
    """True when `folder` holds the three files every entry has."""
    return all(os.path.isfile(os.path.join(folder, f)) for f in REQUIRED_FILES)


def machine_description():
    """CPU (or accelerator-less platform) and core count, for model cards."""
    cpu = platform.processor() or platform.machine()
    model_name = ""
    try:
        with open("/proc/cpuinfo") as f:
            model_name = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), ""
            )
    except OSError:
        pass
    return f"{model_name or cpu}, {os.cpu_count()} cores"


def _count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


def _parameters(gan):
    """Weights per network (by attribute name, in network-set order)."""
    counts = {name: _count(getattr(gan, name).weights)
              for names in gan.network_sets.values() for name in names}
    counts["all_weights"] = _count(gan.weights)
    return counts


def is_translation(model):
    """True for image-to-image models (they `translate`, not `generate`)."""
    return hasattr(model, "translate") and not hasattr(model, "latent_dim")


def _clean_copy(gan):
    """The GAN rebuilt from its config with the same weights and no
    optimizer, so the weights file holds the networks only (and proves the
    config rebuilds the model)."""
    import keras

    config = keras.saving.serialize_keras_object(gan)
    config.pop("compile_config", None)  # compiling would add the optimizer's variables
    clone = keras.saving.deserialize_keras_object(config)
    clone.set_weights(gan.get_weights())
    return clone


def build_metadata(gan, name, dataset=None, training=None, metrics=None, description=""):
    import keras

    from keras_gans import __version__
    from keras_gans.models.self_conditioned import is_conditional

    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "class_name": type(gan).__name__,
        "registered_name": keras.saving.get_registered_name(type(gan)),
        "description": description,
        "keras_gans_version": __version__,
        "keras_version": keras.__version__,
        # The backend it was trained on (a run's record), else the current one.
        "backend": (training or {}).get("backend", keras.backend.backend()),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "task": "image-to-image" if is_translation(gan) else "image-generation",
        "latent_dim": int(gan.latent_dim) if hasattr(gan, "latent_dim") else None,
        # A self-conditioned GAN's clusters are not classes its users pick.
        "num_classes": gan.num_classes if is_conditional(gan) else None,
        "num_clusters": getattr(gan, "num_clusters", None),
        "image_shape": [int(d) for d in gan.sampler.output_shape[1:]],
        "source_shape": ([int(d) for d in gan.sampler.input_shape[1:]]
                         if is_translation(gan) else None),
        "parameters": _parameters(gan),
        "dataset": dataset or {},
        "training": training or {},
        "metrics": metrics or {},
        "exported_on": machine_description(),
    }


def save_entry(gan, folder, name=None, dataset=None, training=None, metrics=None,
               description="", overwrite=False, grid=None):
    """Writes `gan` as a zoo entry folder (see the module docstring).

    `grid` (images in [-1, 1], shown 6 per row) replaces the default sample
    grid; translation models, which have no latents, need it.

    A new folder appears whole or not at all (written beside it, then
    renamed). With `overwrite=True` an existing entry's five files are
    replaced one by one, each atomically; other files there (a recipe, notes)
    are kept.

    Returns:
        the metadata dict written to `metadata.json`.

    Example:

    >>> import tempfile, os
    >>> from keras_gans.models import DCGAN
    >>> folder = os.path.join(tempfile.mkdtemp(), "tiny")
    >>> gan = DCGAN(latent_dim=8, base_filters=4)
    >>> meta = save_entry(gan, folder, name="tiny")
    >>> sorted(os.listdir(folder))
    ['README.md', 'config.json', 'metadata.json', 'model.weights.h5', 'samples.png']
    """
    import keras

    from keras_gans.core import sample_latents
    from keras_gans.utils import save_grid
    from keras_gans.zoo.card import model_card

    folder = os.path.abspath(os.fspath(folder))
    name = name or os.path.basename(folder)
    _check_entry_target(folder, overwrite)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # as os.makedirs would, not mkdtemp's 0700
    try:
        clean = _clean_copy(gan)
        with open(os.path.join(staging, CONFIG_FILE), "w") as f:
            json.dump(keras.saving.serialize_keras_object(gan), f, indent=2)
        clean.save_weights(os.path.join(staging, WEIGHTS_FILE))
        grid_path = os.path.join(staging, GRID_FILE)
        if grid is not None:
            save_grid(np.asarray(grid), grid_path, columns=6, scale=2)
        elif is_translation(clean):
            raise ValueError(
                f"{type(gan).__name__} translates images and has no latents to draw a "
                "sample grid from: export it from Python with "
                "keras_gans.zoo.save_entry(gan, folder, grid=<images in [-1, 1]>) (e.g. "
                "input | output | target rows), then export or publish that folder."
            )
        else:
            latents = sample_latents(64, clean.latent_dim, seed=GRID_SEED)
            save_grid(clean.generate(latents=latents), grid_path, scale=2)
        metadata = build_metadata(clean, name, dataset, training, metrics, description)
        metadata["weights_sha256"] = sha256_of(os.path.join(staging, WEIGHTS_FILE))
        with open(os.path.join(staging, METADATA_FILE), "w") as f:
            json.dump(metadata, f, indent=2)
        with open(os.path.join(staging, CARD_FILE), "w") as f:
            f.write(model_card(metadata))
        if not os.path.exists(folder):
            os.rename(staging, folder)
        else:
            for filename in os.listdir(staging):
                os.replace(os.path.join(staging, filename), os.path.join(folder, filename))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return metadata


def _check_entry_target(folder, overwrite):
    """An entry goes to a new or empty folder, or replaces an entry's files
    with `overwrite`; never into a folder of other files (a run folder, a
    project), whose files it would replace and which `publish` would then
    treat as an entry."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileExistsError(f"{folder} is a file; choose a folder for the zoo entry.")
    if not os.path.isdir(folder) or not os.listdir(folder):
        return
    if is_entry(folder):
        if not overwrite:
            raise FileExistsError(
                f"{folder} already holds a zoo entry; pass overwrite=True "
                "(keras-gans export --overwrite) to replace it."
            )
        return
    raise FileExistsError(
        f"{folder} holds other files and is not a zoo entry; export to a new or empty folder "
        "(an entry's files would replace yours there)."
    )


# What to do about a damaged entry, said by each CorruptEntryError about its files.
_FETCH_AGAIN = ("Re-download the entry (delete the folder or pass force_download=True) "
                "or re-export it.")


def _read_json(folder, filename):
    path = os.path.join(folder, filename)
    try:
        with open(path) as f:
            content = json.load(f)
    except (OSError, ValueError) as err:
        problem = f"is missing or not valid JSON ({err})"
    else:
        if isinstance(content, dict):
            return content
        problem = f"holds a JSON {type(content).__name__}, not an object"
    raise errors.CorruptEntryError(f"{path} {problem}. {_FETCH_AGAIN}")


def _is_newer(version):
    from packaging.version import InvalidVersion
    from packaging.version import Version

    from keras_gans import __version__

    try:
        return Version(str(version)) > Version(__version__)
    except InvalidVersion:
        return False


def read_metadata(folder, expected_sha256=None):
    """Checks an entry folder and returns its metadata.

    Raises `CorruptEntryError` for missing or unreadable files,
    `IncompatibleEntryError` for a newer entry format and `IntegrityError`
    when `expected_sha256` is given and the weights file differs.
    """
    missing = [f for f in REQUIRED_FILES if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise errors.CorruptEntryError(
            f"{folder} is not a complete zoo entry: missing {', '.join(missing)}. "
            "An entry folder holds config.json, metadata.json and model.weights.h5."
        )
    metadata = _read_json(folder, METADATA_FILE)
    version = metadata.get("format_version", 1)
    if type(version) is not int:
        raise errors.CorruptEntryError(
            f"{os.path.join(folder, METADATA_FILE)} gives format_version {version!r}, not a "
            f"whole number. {_FETCH_AGAIN}"
        )
    if version > FORMAT_VERSION:
        raise errors.IncompatibleEntryError(
            f"{folder} uses zoo format {metadata['format_version']} (written by keras-gans "
            f"{metadata.get('keras_gans_version', '?')}); this keras-gans reads format "
            f"{FORMAT_VERSION}. Upgrade: pip install -U keras-gans."
        )
    if expected_sha256:
        actual = sha256_of(os.path.join(folder, WEIGHTS_FILE))
        if actual != expected_sha256:
            raise errors.IntegrityError(
                f"{WEIGHTS_FILE} of {metadata.get('name', folder)} has sha256 {actual}, "
                f"expected {expected_sha256}: the file was altered or damaged. Download it "
                "again: zoo.load(..., force_download=True)."
            )
    return metadata


def load_entry(folder, expected_sha256=None):
    """The trainable GAN stored in an entry folder, compiled as it was
    trained (fresh optimizer state) when its config recorded that.

    Returns:
        `(gan, metadata)`.
    """
    import keras

    import keras_gans  # noqa: F401  (registers the serializable classes)
    from keras_gans.core import AdversarialModel

    metadata = read_metadata(folder, expected_sha256)
    config = _read_json(folder, CONFIG_FILE)
    written_by = metadata.get("keras_gans_version", "?")
    # Weights first, compile after: the file has no optimizer state, so the
    # optimizers start fresh with the recorded settings.
    compile_config = config.pop("compile_config", None)
    try:
        gan = keras.saving.deserialize_keras_object(config)
    except Exception as err:
        if _is_newer(written_by):
            raise errors.IncompatibleEntryError(
                f"{folder} was written by keras-gans {written_by}, newer than this one, "
                f"and its config does not rebuild here ({err}). Upgrade: "
                "pip install -U keras-gans."
            ) from None
        raise errors.CorruptEntryError(
            f"{folder}/{CONFIG_FILE} does not rebuild a model ({err})."
        ) from None
    if not isinstance(gan, AdversarialModel):
        raise errors.CorruptEntryError(
            f"{folder}/{CONFIG_FILE} does not describe a keras-gans model (it rebuilds "
            f"{type(gan).__name__}). {_FETCH_AGAIN}"
        )
    weights = os.path.join(folder, WEIGHTS_FILE)
    try:
        gan.load_weights(weights)
    except Exception as err:  # h5py's OSError for truncation, Keras's ValueError for mismatch
        raise errors.CorruptEntryError(
            f"{weights} is truncated, corrupt or does not match config.json ({err}). "
            "Re-download the entry (zoo.load(..., force_download=True)) or re-export it."
        ) from None
    if compile_config:
        gan.compile_from_config(compile_config)
    return gan, metadata


def update_metadata(folder, **changes):
    """Updates an entry's metadata (e.g. `metrics=...` after measuring) and
    rewrites its model card; the weights and config are untouched.

    Returns:
        the new metadata dict.
    """
    from keras_gans.zoo.card import model_card

    metadata = read_metadata(folder)
    metadata.update(changes)
    for filename, text in ((METADATA_FILE, json.dumps(metadata, indent=2)),
                           (CARD_FILE, model_card(metadata))):
        staging = os.path.join(folder, f".{filename}.tmp")
        with open(staging, "w") as f:
            f.write(text)
        os.replace(staging, os.path.join(folder, filename))
    return metadata

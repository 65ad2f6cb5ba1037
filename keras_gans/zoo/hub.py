"""Finding, downloading and publishing zoo entries through the Hugging Face Hub.

All Hub traffic goes through `huggingface_hub` (its cache, `HF_ENDPOINT`,
`HF_HOME`, `HF_HUB_OFFLINE`). Those variables are read when
`huggingface_hub` is first imported, and `import keras` imports it: set them
before importing keras.
"""
import json
import logging
import os
import shutil
import tempfile

from keras_gans.zoo import builtin
from keras_gans.zoo import entry
from keras_gans.zoo import errors

logger = logging.getLogger("keras_gans.zoo")
HF_PREFIX = "hf://"


def _split_revision(name):
    if "@" in name:
        name, revision = name.rsplit("@", 1)
        if not revision:
            raise errors.UnknownModelError(f"{name}@ names no revision; write {name}@v1.")
        return name, revision
    return name, None


def _endpoint():
    from huggingface_hub import constants

    return constants.ENDPOINT


def _offline():
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _discard_snapshot(folder):
    """Removes a cached snapshot, the blobs only it links to and its cached
    file listing, so a bad download is fetched again instead of trusted.
    Blobs shared with other snapshots (unchanged files) stay."""
    snapshots = os.path.dirname(folder)
    keep = {
        os.path.realpath(os.path.join(root, name))
        for other in os.listdir(snapshots) if other != os.path.basename(folder)
        for root, _, names in os.walk(os.path.join(snapshots, other)) for name in names
    }
    for root, _, names in os.walk(folder):
        for name in names:
            target = os.path.realpath(os.path.join(root, name))
            if target not in keep and os.path.isfile(target) and not _inside(target, folder):
                os.remove(target)
    shutil.rmtree(folder, ignore_errors=True)
    listing = os.path.join(os.path.dirname(snapshots), "trees", os.path.basename(folder) + ".json")
    if os.path.isfile(listing):
        os.remove(listing)


def _inside(path, folder):
    folder = os.path.realpath(folder)
    return os.path.commonpath([folder, os.path.realpath(path)]) == folder


def download(repo_id, revision=None, force_download=False):
    """Downloads (or finds in the cache) an entry repo at `revision`.

    Returns the local snapshot folder. Hub failures become the zoo's own
    errors, each saying what to do.

    >>> download("my-org/my-gan", revision="v1")  # doctest: +SKIP
    '~/.cache/huggingface/hub/models--my-org--my-gan/snapshots/<sha>'
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub import errors as hub_errors

    from keras_gans import __version__

    where = f"{repo_id}@{revision or 'main'}"
    try:
        return snapshot_download(
            repo_id, revision=revision, force_download=force_download,
            library_name="keras-gans", library_version=__version__,
        )
    except hub_errors.RevisionNotFoundError:
        raise _revision_not_found(repo_id, revision) from None
    except hub_errors.RepositoryNotFoundError:
        # Some Hub servers (mirrors) answer "repo not found" for a missing
        # revision: tell the two apart by asking for the main branch.
        if revision and _repo_exists(repo_id):
            raise _revision_not_found(repo_id, revision) from None
        raise errors.RepositoryNotFoundError(
            f"No repository {repo_id!r} on {_endpoint()} (or it is private: log in with "
            "`hf auth login`). Check the name; built-in names are listed by zoo.list()."
        ) from None
    except hub_errors.LocalEntryNotFoundError:
        if revision and not _offline() and _repo_exists(repo_id):
            raise _revision_not_found(repo_id, revision) from None
        reason = "HF_HUB_OFFLINE is set" if _offline() else f"{_endpoint()} cannot be reached"
        raise errors.OfflineError(
            f"{where} is not in the Hugging Face cache ({_cache_dir()}) and {reason}. "
            "Connect once to fill the cache (it is then used offline), or load a local "
            "entry folder."
        ) from None


def _cache_dir():
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _repo_exists(repo_id):
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(repo_id, revision="main")
        return True
    except Exception:  # unreachable, not found, private: all mean "cannot tell"
        return False


def _revision_not_found(repo_id, revision):
    return errors.RevisionNotFoundError(
        f"{repo_id} has no branch, tag or commit {revision!r} on {_endpoint()}. "
        f"List its tags with huggingface_hub.list_repo_refs({repo_id!r}), or leave "
        "the revision out for the latest."
    )


def _in_cache(folder):
    return _inside(folder, _cache_dir())


def _checked_snapshot(repo_id, revision, expected_sha256, force_download):
    folder = download(repo_id, revision, force_download)
    try:
        entry.read_metadata(folder, expected_sha256)
    except (errors.IntegrityError, errors.CorruptEntryError):
        _discard_snapshot(folder)
        raise
    return folder


def resolve(name, revision=None, force_download=False):
    """Local folder of a zoo entry.

    `name` is a built-in name (`zoo.list()`), `hf://org/repo` (optionally
    `@revision`: a branch, tag or commit), or a local entry folder.

    Returns:
        `(folder, expected_sha256)`; the sha256 is `None` except for built-ins.

    >>> import tempfile, os
    >>> from keras_gans.models import DCGAN
    >>> folder = os.path.join(tempfile.mkdtemp(), "tiny")
    >>> _ = entry.save_entry(DCGAN(latent_dim=8, base_filters=4), folder)
    >>> resolve(folder) == (folder, None)
    True
    """
    name = os.fspath(name)
    if os.path.isdir(name) and name not in builtin.BUILTIN_ENTRIES:
        return name, None
    if os.path.isdir(name):  # a bare built-in name means the built-in
        logger.warning(
            f"keras-gans: loading the built-in entry {name!r}, not the folder {name!r} here; "
            f"write the folder as a path (e.g. {os.path.join('.', name)!r}) to load it."
        )
    name, at_revision = _split_revision(name)
    revision = revision or at_revision
    if name.startswith(HF_PREFIX):
        repo_id = name[len(HF_PREFIX):].strip("/")
        if repo_id.count("/") != 1:
            raise errors.UnknownModelError(
                f"{name!r}: write a Hub repo as hf://organisation/name[@revision]."
            )
        return _checked_snapshot(repo_id, revision, None, force_download), None
    known = builtin.BUILTIN_ENTRIES.get(name)
    if known is None and (os.sep in name or name.startswith(".")):
        raise errors.UnknownModelError(
            f"No such entry folder {name!r}; check the path (a zoo entry folder holds "
            "config.json, metadata.json and model.weights.h5). A Hub repo is written "
            "hf://organisation/name[@revision]."
        )
    if known is None:
        raise errors.UnknownModelError(
            f"Unknown zoo entry {name!r}. Built-in entries: "
            f"{', '.join(sorted(builtin.BUILTIN_ENTRIES))}; or pass hf://organisation/name"
            "[@revision] or the path of an entry folder."
        )
    return _resolve_builtin(known, revision, force_download)


def _resolve_builtin(known, revision, force_download):
    pinned = revision in (None, known.revision)
    expected = known.weights_sha256 if pinned else None
    revision = revision or known.revision
    try:
        try:
            folder = _checked_snapshot(known.repo_id, revision, expected, force_download)
        except errors.IntegrityError as err:
            # _checked_snapshot removed the damaged copy: fetch it once more.
            logger.warning(f"keras-gans: {err} Removed it from the cache; downloading again.")
            folder = _checked_snapshot(known.repo_id, revision, expected, True)
        return folder, expected
    except (errors.OfflineError, errors.RepositoryNotFoundError,
            errors.RevisionNotFoundError, errors.IntegrityError) as err:
        embedded = builtin.embedded_folder(known.name)
        if not pinned or embedded is None:
            raise
        reason = {
            errors.OfflineError: "HF_HUB_OFFLINE is set" if _offline()
            else f"{_endpoint()} cannot be reached",
            errors.RepositoryNotFoundError: f"not hosted on {_endpoint()}",
            errors.RevisionNotFoundError: f"no revision {known.revision} there",
            errors.IntegrityError: f"the copy on {_endpoint()} differs from the pinned "
            "checksum",
        }[type(err)]
        logger.warning(
            f"keras-gans: {known.repo_id}@{known.revision} is not in the Hugging Face cache "
            f"({reason}); using the copy embedded in the package."
        )
        return embedded, expected


def load_gan(name, revision=None, force_download=False):
    """The trainable GAN of a zoo entry, compiled with fresh optimizers when
    it was saved compiled (`fit()` continues training).

    Example:

    >>> from keras_gans import zoo
    >>> gan = zoo.load_gan("dcgan-mnist")  # doctest: +SKIP
    >>> gan.generate(4).shape  # doctest: +SKIP
    (4, 28, 28, 1)
    """
    folder, expected = resolve(name, revision, force_download)
    try:
        gan, _ = entry.load_entry(folder, expected)
    except errors.CorruptEntryError:
        if _in_cache(folder):  # fetch it again next time rather than trust it
            _discard_snapshot(folder)
        raise
    return gan


def load(name, revision=None, force_download=False):
    """The generator of a zoo entry (its EMA copy when it has one), a
    `keras.Model` mapping latents (and labels, or a self-conditioned GAN's
    cluster ids) to images.

    >>> import numpy as np
    >>> generator = load("dcgan-mnist")  # doctest: +SKIP
    >>> generator.predict(np.zeros((2, 100)), verbose=0).shape  # doctest: +SKIP
    (2, 28, 28, 1)
    """
    return load_gan(name, revision, force_download).sampler


def info(name, revision=None):
    """The metadata of a zoo entry (versions, training, metrics...).

    >>> info("cgan-mnist")["metrics"]["label_accuracy"]  # doctest: +SKIP
    0.9865
    """
    folder, expected = resolve(name, revision)
    return entry.read_metadata(folder, expected)


def list_entries():
    """Names of the built-in entries.

    >>> list_entries()  # doctest: +NORMALIZE_WHITESPACE
    ['acgan-fashion-mnist', 'cgan-mnist', 'cyclegan-emoji-twitter-google', 'dcgan-mnist',
     'pix2pix-emoji-twitter2google', 'self-conditioned-gan-mnist', 'wgan-gp-fashion-mnist']
    """
    return sorted(builtin.BUILTIN_ENTRIES)


# ---------------------------------------------------------------- publishing


def export_run(run_dir, folder, name=None, description="", overwrite=False):
    """Turns a `keras-gans train` run folder into a zoo entry folder.

    Reads `gan.keras` and `history.json`, and `evaluation.json` when
    present (written by `keras-gans evaluate --json`).

    >>> meta = export_run("runs/mnist", "entries/dcgan-mine")  # doctest: +SKIP
    """
    import keras

    import keras_gans  # noqa: F401

    gan_file = os.path.join(run_dir, "gan.keras")
    if not os.path.isfile(gan_file):
        raise errors.CorruptEntryError(
            f"{run_dir} has no gan.keras: pass a folder written by `keras-gans train`, "
            "a zoo entry folder, or a GAN model."
        )
    gan = keras.saving.load_model(gan_file, compile=False)
    record = _read_optional_json(run_dir, "history.json")
    record.pop("history", None)
    dataset = {"name": record.get("dataset"), "split": "train"} if record.get("dataset") else None
    metrics = _entry_metrics(_read_optional_json(run_dir, "evaluation.json"))
    return entry.save_entry(
        gan, folder, name=name, dataset=dataset, training=record, metrics=metrics,
        description=description, overwrite=overwrite,
    )


def _entry_metrics(evaluation):
    """An entry's flat metrics (`{"fid": ..., "protocol": {...},
    "protocol_text": ...}`) from `keras-gans evaluate --json`'s
    `{"values": {...}, "protocol": {...}}`; flat input is kept as it is."""
    if not isinstance(evaluation.get("values"), dict):
        return evaluation
    from keras_gans.metrics.distribution import Protocol

    metrics = dict(evaluation["values"])
    protocol = evaluation.get("protocol")
    if isinstance(protocol, dict):
        metrics["protocol"] = protocol
        try:
            metrics["protocol_text"] = str(Protocol(**protocol))
        except TypeError:  # written by another version: keep the fields only
            pass
    return metrics


def _read_optional_json(folder, filename):
    path = os.path.join(folder, filename)
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _entry_folder(source, scratch, name):
    """An entry folder in `scratch` for `source` (a GAN, a run folder or an
    entry folder), holding the entry's files only: an entry folder's other
    files are not published."""
    folder = os.path.join(scratch, name)
    if isinstance(source, (str, os.PathLike)):
        source = os.fspath(source)
        if entry.is_entry(source):
            os.makedirs(folder)
            for filename in entry.ENTRY_FILES:
                if os.path.isfile(os.path.join(source, filename)):
                    shutil.copy2(os.path.join(source, filename), folder)
            return folder
        export_run(source, folder, name=name)
        return folder
    entry.save_entry(source, folder, name=name)
    return folder


def _card_for_hub(folder, load_name):
    """A generated, unedited model card's usage loads the published repo
    (`hf://org/name@tag`); a card the user edited is left as it is."""
    from keras_gans.zoo.card import model_card

    card = os.path.join(folder, entry.CARD_FILE)
    metadata = _read_optional_json(folder, entry.METADATA_FILE)
    try:
        with open(card) as f:
            generated = f.read() == model_card(metadata)
    except (OSError, KeyError, TypeError, ValueError):
        return
    if generated:
        with open(card, "w") as f:
            f.write(model_card(metadata, load_name=load_name))


def _create_or_check_repo(api, repo_id, private):
    from huggingface_hub import errors as hub_errors

    api.create_repo(repo_id, private=private, exist_ok=True)  # an existing repo is kept as it is
    if not private:
        return
    try:
        visibility = getattr(api.repo_info(repo_id), "private", None)
    except hub_errors.HfHubHTTPError:
        visibility = None
    if visibility is False:
        raise errors.ZooError(
            f"{repo_id} exists and is public; private=True (--private) cannot make it "
            "private. Change its visibility in the repo's settings on the Hub, or "
            "publish to a new repo."
        )
    if visibility is None:
        logger.warning(f"keras-gans: could not read whether {repo_id} is private; "
                       "check its visibility on the Hub.")


def publish(source, repo_id, revision_tag="v1", private=False, commit_message=None,
            token=None):
    """Publishes a GAN to the Hub as a zoo entry, in one commit, then tags it.

    Args:
        source: a GAN model, a `keras-gans train` run folder, or an entry
            folder (see `entry.save_entry`).
        repo_id: `"organisation/name"` (or `hf://organisation/name`); the
            repo is created when missing.
        revision_tag: tag for the new commit (`None`: no tag). Tags are
            pins: an existing tag is an error, not moved.
        private: create the repo private (an existing public repo is
            refused: its visibility is changed on the Hub, not here).

    Returns:
        the new commit's id (sha).

    >>> publish("runs/mnist", "my-org/my-gan", revision_tag="v1")  # doctest: +SKIP
    '3f2a...'
    """
    from huggingface_hub import HfApi

    from keras_gans import __version__

    repo_id = repo_id[len(HF_PREFIX):] if repo_id.startswith(HF_PREFIX) else repo_id
    if repo_id.count("/") != 1:
        raise ValueError(f"repo_id must be 'organisation/name', got {repo_id!r}.")
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory() as scratch:
        # The entry first: a source that cannot be exported creates no repo.
        folder = _entry_folder(source, scratch, repo_id.split("/")[1])
        _card_for_hub(folder, f"{HF_PREFIX}{repo_id}" + (f"@{revision_tag}" if revision_tag else ""))
        _create_or_check_repo(api, repo_id, private)
        if revision_tag and revision_tag in _tags(api, repo_id):
            raise errors.ZooError(
                f"{repo_id} already has tag {revision_tag!r}; tags pin a published version "
                "and are never moved. Choose a new tag (e.g. v2)."
            )
        # The commit holds exactly this entry: files of an earlier version
        # that this one lacks are deleted (.gitattributes stays).
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=folder, delete_patterns=["*"],
            commit_message=commit_message or f"Publish with keras-gans {__version__}",
        )
    if revision_tag:
        api.create_tag(repo_id, tag=revision_tag, revision=commit.oid)
    return commit.oid


def _tags(api, repo_id):
    from huggingface_hub import errors as hub_errors

    try:
        return {ref.name for ref in api.list_repo_refs(repo_id).tags}
    except hub_errors.RevisionNotFoundError:  # an empty repo has no refs yet
        return set()

"""The loopback Hub (tests/hub_server.py) through the real huggingface_hub client.

Every client runs in a subprocess that imports only huggingface_hub (it reads
HF_ENDPOINT and friends once, on import), so this file stays fast.
"""
import hashlib
import json
import os
import textwrap

import pytest

from hub_server import HubServer, client_env, run_client

if os.environ.get("CI"):
    import olah  # noqa: F401  (CI must have the read side: fail, never skip)
else:
    pytest.importorskip("olah")

pytestmark = pytest.mark.cross_backend  # subprocess clients only: run once, not per backend

REPO = "gans/tiny-dcgan"
README = "---\nlicense: mit\ntags:\n- gan\n---\n# Tiny DCGAN\n"


def call(env, code, **args):
    """Run ``code`` in a client subprocess with ``args`` as globals; return the JSON it prints."""
    prelude = f"import json\nglobals().update(json.loads({json.dumps(args)!r}))\n"
    return json.loads(run_client(prelude + textwrap.dedent(code), env))


def folder_files(path):
    """{relative path: bytes} of every file under ``path``."""
    return {
        os.path.relpath(os.path.join(d, f), path): open(os.path.join(d, f), "rb").read()
        for d, _, files in os.walk(path) for f in files
    }


def write_folder(path, files):
    path.mkdir()
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubServer(tmp_path_factory.mktemp("hub")) as server:
        yield server


@pytest.fixture(scope="module")
def published(hub, tmp_path_factory):
    """Two commits and a tag: v1 = first upload, main = v2 (changed files, notes.txt deleted)."""
    tmp = tmp_path_factory.mktemp("published")
    # A NUL byte makes the weights binary for sure, so preupload sends them through LFS.
    v1 = {"README.md": README.encode(), "config.json": b'{"epochs": 1}', "notes.txt": b"first run\n",
          "model.weights.h5": b"\0" + os.urandom(4095)}
    v2 = {"README.md": README.encode(), "config.json": b'{"epochs": 2}',
          "model.weights.h5": b"\0" + os.urandom(8191)}
    env = client_env(hub.endpoint, tmp / "hf_home")
    out = call(env, """
        from huggingface_hub import HfApi
        api = HfApi()
        url = api.create_repo(REPO)
        api.create_repo(REPO, exist_ok=True)
        sha1 = api.upload_folder(repo_id=REPO, folder_path=V1).oid
        main_after_1 = api.model_info(REPO, revision="main").sha
        api.create_tag(REPO, tag="v1")
        # delete_patterns="*": mirror the folder, so notes.txt is deleted in this commit.
        sha2 = api.upload_folder(repo_id=REPO, folder_path=V2, delete_patterns="*").oid
        main_after_2 = api.model_info(REPO, revision="main").sha
        print(json.dumps(dict(url=url, sha1=sha1, sha2=sha2, main_after_1=main_after_1, main_after_2=main_after_2)))
    """, REPO=REPO, V1=str(write_folder(tmp / "v1", v1)), V2=str(write_folder(tmp / "v2", v2)))
    return {**out, "v1": v1, "v2": v2, "env": env}


def test_writes_are_visible_at_once(hub, published):
    assert published["url"] == f"{hub.endpoint}/{REPO}"
    assert published["sha1"] != published["sha2"]
    # olah reads the git repo on every request: no stale branch head.
    assert published["main_after_1"] == published["sha1"]
    assert published["main_after_2"] == published["sha2"]


def test_snapshot_of_each_revision_has_the_uploaded_bytes(published):
    revisions = {"v1": published["v1"], "main": published["v2"], published["sha1"]: published["v1"]}
    paths = call(published["env"], """
        from huggingface_hub import snapshot_download
        print(json.dumps({rev: snapshot_download(REPO, revision=rev) for rev in REVISIONS}))
    """, REPO=REPO, REVISIONS=list(revisions))
    for rev, expected in revisions.items():
        got = folder_files(paths[rev])
        assert got.pop(".gitattributes").startswith(b"*.h5 filter=lfs"), rev  # from create_repo's first commit
        assert got == expected, rev


def test_refs_files_card_and_lfs(hub, published):
    out = call(published["env"], """
        from huggingface_hub import HfApi, ModelCard, file_exists, hf_hub_download
        api = HfApi()
        refs = api.list_repo_refs(REPO)
        info = {p.path: p.lfs and p.lfs.sha256 for p in api.get_paths_info(REPO, ["config.json", "model.weights.h5"])}
        print(json.dumps(dict(
            tags={t.name: t.target_commit for t in refs.tags},
            branches={b.name: b.target_commit for b in refs.branches},
            files=api.list_repo_files(REPO),
            notes_at_v1=file_exists(REPO, "notes.txt", revision="v1"),
            notes_at_main=file_exists(REPO, "notes.txt"),
            card=ModelCard.load(REPO).data.to_dict(),
            card_data=api.model_info(REPO, revision="main").card_data.to_dict(),
            config=open(hf_hub_download(REPO, "config.json")).read(),
            lfs=info,
        )))
    """, REPO=REPO)
    assert out["tags"] == {"v1": published["sha1"]}
    assert out["branches"] == {"main": published["sha2"]}
    assert sorted(out["files"]) == [".gitattributes", "README.md", "config.json", "model.weights.h5"]
    assert out["notes_at_v1"] and not out["notes_at_main"]
    assert out["card"] == out["card_data"] == {"license": "mit", "tags": ["gan"]}
    assert out["config"] == '{"epochs": 2}'
    weights_oid = hashlib.sha256(published["v2"]["model.weights.h5"]).hexdigest()
    assert out["lfs"] == {"config.json": None, "model.weights.h5": weights_oid}
    for version in ("v1", "v2"):  # both weights went through the LFS batch API + PUT
        oid = hashlib.sha256(published[version]["model.weights.h5"]).hexdigest()
        assert (hub.mirrors / "models" / REPO / ".git/lfs/objects" / oid[:2] / oid[2:4] / oid).is_file()


def test_error_classes(published):
    errors = call(published["env"], """
        from huggingface_hub import HfApi, hf_hub_download, snapshot_download
        def error_of(fn):
            try:
                fn()
            except Exception as err:
                return type(err).__name__
        api = HfApi()
        print(json.dumps(dict(
            missing_repo=error_of(lambda: snapshot_download("gans/missing")),
            missing_branch=error_of(lambda: snapshot_download(REPO, revision="no-such-branch")),
            missing_sha=error_of(lambda: snapshot_download(REPO, revision="0" * 40)),
            missing_file=error_of(lambda: hf_hub_download(REPO, "missing.txt")),
            existing_repo=error_of(lambda: api.create_repo(REPO)),
            model_info_without_revision=error_of(lambda: api.model_info(REPO)),
        )))
    """, REPO=REPO)
    assert errors == {
        "missing_repo": "RepositoryNotFoundError",
        # olah offline answers what its git mirror lacks with 401 RepoNotFound, as for
        # an unknown repo (it looks the name up in its empty proxy cache instead).
        "missing_branch": "RepositoryNotFoundError",
        "missing_file": "RepositoryNotFoundError",
        # An unknown full sha makes olah fail with a 500 (GitPython raises ValueError,
        # olah catches only BadName); the client then falls back to its empty cache.
        "missing_sha": "LocalEntryNotFoundError",
        "existing_repo": "HfHubHTTPError",  # our 409; create_repo(exist_ok=True) swallows it
        # Without a revision olah offline resolves "latest commit" from that cache too.
        "model_info_without_revision": "RepositoryNotFoundError",
    }


def test_offline_reads_the_cache_only(hub, published, tmp_path):
    download = """
        from huggingface_hub import snapshot_download
        try:
            print(json.dumps(dict(path=snapshot_download(REPO, revision="v1"))))
        except Exception as err:
            print(json.dumps(dict(error=type(err).__name__)))
    """
    online = call(client_env(hub.endpoint, tmp_path / "hf_home"), download, REPO=REPO)
    # Port 9 on loopback has no server: offline, the client must not need one.
    dead = "http://127.0.0.1:9"
    offline = call(client_env(dead, tmp_path / "hf_home", offline=True), download, REPO=REPO)
    assert offline == online and folder_files(offline["path"]).get("notes.txt") == b"first run\n"
    empty = call(client_env(dead, tmp_path / "empty_hf_home", offline=True), download, REPO=REPO)
    assert empty == {"error": "LocalEntryNotFoundError"}

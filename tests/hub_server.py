"""A loopback Hugging Face Hub for the test suite, on one ``HF_ENDPOINT``.

READ side: the real ``olah`` mirror server (PyPI, unchanged) in offline mode.
It serves the git repositories under ``<root>/mirrors/models/<org>/<name>``
(non-bare: olah reads LFS objects from ``<worktree>/.git/lfs/objects``) to the
real ``huggingface_hub`` client: downloads, refs, file lists, model cards.

WRITE side: our own test-only layer, added as extra routes to olah's FastAPI
app before uvicorn starts. It answers create-repo, validate-yaml, preupload,
the LFS batch API + PUT, commit (NDJSON) and tag, by writing git commits and
LFS objects exactly where olah reads them. It is NOT a Hub implementation: no
auth (any or no token is accepted), no Xet (clients need
``HF_HUB_DISABLE_XET=1``), no pull requests, model repositories only.

Use::

    with HubServer(tmp_path) as hub:
        env = client_env(hub.endpoint, tmp_path / "hf_home")
        run_client("from huggingface_hub import HfApi; ...", env)

The server runs in a subprocess (``python hub_server.py --config ...``), and
so must every client: ``huggingface_hub`` reads ``HF_ENDPOINT`` and friends
once, on import.
"""
import argparse
import base64
import codecs
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"
LFS_POINTER_RE = re.compile(rb"version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n")
LFS_MIN_SIZE = 10 * 1024 * 1024  # the Hub's threshold: text files above it go to LFS too
GITATTRIBUTES = b"".join(
    b"*.%s filter=lfs diff=lfs merge=lfs -text\n" % ext for ext in (b"h5", b"keras", b"npz", b"safetensors")
)
GIT_ENV = {
    # Reproducible, identity-complete git regardless of the user's config.
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "hub-server",
    "GIT_AUTHOR_EMAIL": "hub-server@localhost",
    "GIT_COMMITTER_NAME": "hub-server",
    "GIT_COMMITTER_EMAIL": "hub-server@localhost",
}
# Client settings that would leak the developer's Hub identity or cache into a test.
_CLIENT_ENV_DROP = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE",
)


# --------------------------------------------------------------------------- client side


def client_env(endpoint, hf_home, offline=False):
    """Environment for a ``huggingface_hub`` client subprocess talking to ``endpoint``."""
    env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV_DROP}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(hf_home),
        HF_HUB_DISABLE_XET="1",  # with hf_xet installed, uploads go through Xet and never fall back
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
    )
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def run_client(code, env, timeout=120):
    """Run a Python snippet (dedented) in a subprocess with ``env``; return its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"client exited with {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc.stdout


class HubServer:
    """olah + our write routes in a subprocess on 127.0.0.1; a context manager."""

    def __init__(self, root, start_timeout=60):
        self.root = Path(root)
        self.mirrors = self.root / "mirrors"
        self.config = self.root / "olah.toml"
        self.log = self.root / "server.log"
        self.start_timeout = start_timeout
        self.endpoint = None
        self._proc = None

    def start(self):
        self.mirrors.mkdir(parents=True, exist_ok=True)
        # host/port are not used: the subprocess binds a free port itself and
        # reports it through port_file, so parallel test runs cannot collide.
        self.config.write_text(
            "[basic]\n"
            f"repos-path = {json.dumps(str(self.root / 'olah-cache'))}\n"
            f"mirrors-path = [{json.dumps(str(self.mirrors))}]\n"
            "[accessibility]\n"
            "offline = true\n"
        )
        port_file = self.root / "port"
        port_file.unlink(missing_ok=True)
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, __file__, "--config", str(self.config), "--port-file", str(port_file)],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"hub server exited with {self._proc.returncode}:\n{self.log.read_text()}")
            if port_file.exists():
                self.endpoint = f"http://127.0.0.1:{int(port_file.read_text())}"
                if self._answers():
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"hub server did not answer within {self.start_timeout}s:\n{self.log.read_text()}")

    def _answers(self):
        try:
            urllib.request.urlopen(f"{self.endpoint}/api/models/-/-/refs", timeout=5)
        except urllib.error.HTTPError:
            return True  # any HTTP answer means uvicorn is serving
        except OSError:
            return False
        return True

    def stop(self, timeout=10):
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------- write side: git


class HubError(Exception):
    """An error the Hub would answer; ``X-Error-Code`` lets the client pick its exception class."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _git_bytes(repo, *args, stdin=None, env=None):
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, env={**os.environ, **GIT_ENV, **(env or {})}
    )
    if proc.returncode != 0:
        raise HubError(400, "GitError", proc.stderr.decode(errors="replace").strip())
    return proc.stdout


def _git(repo, *args, **kwargs):
    return _git_bytes(repo, *args, **kwargs).decode().strip()


def _git_paths(repo, *args):
    """NUL-separated output (``-z``) as a list, paths kept verbatim."""
    return [p for p in _git_bytes(repo, *args).decode().split("\0") if p]


class MirrorRepo:
    """A model repo as olah serves it: a non-bare git repo plus ``.git/lfs/objects``."""

    def __init__(self, mirrors, repo_id):
        if not re.fullmatch(r"[\w-][\w.-]*/[\w-][\w.-]*", repo_id):
            raise HubError(400, "BadRequest", f"expected a model repo id 'org/name', got {repo_id!r}")
        self.repo_id = repo_id
        self.path = Path(mirrors) / "models" / repo_id

    def exists(self):
        return (self.path / ".git").is_dir()

    def require(self):
        if not self.exists():
            raise HubError(404, "RepoNotFound", f"Repository {self.repo_id} not found")
        return self

    def lfs_object(self, oid):
        if not re.fullmatch(r"[0-9a-f]{64}", oid):
            raise HubError(400, "BadRequest", f"not a sha256 LFS oid: {oid!r}")
        return self.path / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid

    def create(self):
        """Like the Hub: a new repo has branch main with one commit adding .gitattributes."""
        self.path.mkdir(parents=True)
        _git(self.path, "init", "-q", "-b", "main")
        self.commit("main", "initial commit", "", files={".gitattributes": GITATTRIBUTES}, new_branch=True)

    def resolve(self, revision):
        """Commit sha of a branch, tag or sha; None if unknown."""
        try:
            return _git(self.path, "rev-parse", "--verify", "-q", "--end-of-options", f"{revision}^{{commit}}")
        except HubError:
            return None

    def remote_oids(self, revision, paths):
        """What preupload reports per existing path, so the client can skip unchanged files:
        the sha256 for LFS files, the git blob sha for regular ones."""
        commit = self.resolve(revision)
        if commit is None:
            return {}
        # ls-tree -z entries: "<mode> <type> <sha>\t<path>"
        entries = _git_paths(self.path, "ls-tree", "-r", "-z", commit)
        blobs = {entry.split("\t", 1)[1]: entry.split()[2] for entry in entries}
        oids = {}
        for path in set(paths) & set(blobs):
            pointer = LFS_POINTER_RE.fullmatch(_git_bytes(self.path, "cat-file", "blob", blobs[path]))
            oids[path] = pointer.group(1).decode() if pointer else blobs[path]
        return oids

    def commit(self, branch, summary, description, files=(), lfs_files=(), deletions=(), parent=None,
               new_branch=False):
        """Write one commit on ``branch``; return its sha.

        files: {path: bytes}; lfs_files: {path: (oid, size)} of uploaded objects;
        deletions: paths, a trailing "/" deletes a folder.
        """
        ref = f"refs/heads/{branch}"
        head = None if new_branch else self.resolve(ref)
        if head is None and not new_branch:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {branch}")
        if parent is not None and parent != head:
            raise HubError(412, "PreconditionFailed", f"parent commit {parent} is not the head of {branch}")
        existing = set(_git_paths(self.path, "ls-tree", "-r", "-z", "--name-only", head)) if head else set()
        index_info = []  # `git update-index --index-info` lines; mode 0 removes a path
        for path in deletions:
            if path.endswith("/"):
                matches = [p for p in existing if p.startswith(path)]
            else:
                matches = [path] if path in existing else []
            if not matches:
                raise HubError(404, "EntryNotFound", f"A file with this name doesn't exist: {path}")
            index_info += [f"0 {'0' * 40}\t{p}" for p in matches]
        blobs = dict(files)
        for path, (oid, size) in dict(lfs_files).items():
            obj = self.lfs_object(oid)
            if not obj.is_file() or obj.stat().st_size != size:
                raise HubError(422, "LfsObjectMissing", f"LFS object {oid} for {path} was not uploaded")
            blobs[path] = LFS_POINTER.format(oid=oid, size=size).encode()
        for path, data in blobs.items():
            sha = _git(self.path, "hash-object", "-w", "--stdin", stdin=data)
            index_info.append(f"100644 {sha}\t{path}")
        with tempfile.TemporaryDirectory() as tmp:
            # A private index: the commit never touches the worktree, which olah ignores.
            index = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            if head:
                _git(self.path, "read-tree", head, env=index)
            _git(self.path, "update-index", "--index-info", stdin="".join(f"{line}\n" for line in index_info).encode(),
                 env=index)
            tree = _git(self.path, "write-tree", env=index)
        message = f"{summary}\n\n{description}" if description else summary
        sha = _git(self.path, "commit-tree", tree, *(["-p", head] if head else []), stdin=message.encode())
        # Compare-and-swap on the old head: a concurrent commit fails instead of being lost.
        _git(self.path, "update-ref", ref, sha, head or "0" * 40)
        return sha

    def tag(self, tag, revision, message=None):
        commit = self.resolve(revision)
        if commit is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        if self.resolve(f"refs/tags/{tag}") is not None:
            raise HubError(409, "Conflict", f"Tag {tag} already exists")
        _git(self.path, "tag", *(["-m", message] if message else []), "--end-of-options", tag, commit)
        return commit


def upload_mode(sample, size):
    """Our rule for preupload: LFS for binary content (NUL byte or not UTF-8) or big files."""
    try:
        # A non-final decode tolerates a multi-byte character cut at the sample's end.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "lfs"
    return "lfs" if b"\0" in sample or size > LFS_MIN_SIZE else "regular"


# --------------------------------------------------------------------------- write side: routes


def add_write_routes(app, mirrors):
    """Register the write API on olah's app. olah has no POST/PUT routes on
    these paths, so the routes below never shadow a read."""
    import yaml
    from fastapi import Request
    from fastapi.responses import JSONResponse

    def error_response(err):
        return JSONResponse(
            {"error": err.message}, status_code=err.status,
            headers={"X-Error-Code": err.code, "X-Error-Message": err.message},
        )

    def route(path, method):
        # Handlers are async and run git synchronously: blocking the event loop
        # serialises all writes, which is all a test server needs.
        def register(handler):
            async def endpoint(request: Request):
                try:
                    return await handler(request, **request.path_params)
                except HubError as err:
                    return error_response(err)
            app.add_api_route(path, endpoint, methods=[method], name=handler.__name__)
            return handler
        return register

    def repo_url(request, repo_id):
        return f"{str(request.base_url).rstrip('/')}/{repo_id}"

    @route("/api/repos/create", "POST")
    async def create_repo(request):
        body = await request.json()
        if body.get("type", "model") != "model":
            raise HubError(400, "BadRequest", "this test hub serves model repos only")
        repo = MirrorRepo(mirrors, f"{body.get('organization') or ''}/{body['name']}")
        url = repo_url(request, repo.repo_id)
        if repo.exists():
            return JSONResponse({"error": "You already created this model repo", "url": url}, status_code=409)
        repo.create()
        return JSONResponse({"url": url, "name": repo.repo_id})

    @route("/api/validate-yaml", "POST")
    async def validate_yaml(request):
        content = (await request.json()).get("content", "")
        match = re.match(r"^\s*---\s*\n(.*?)\n---\s*$", content, flags=re.S | re.M)
        try:
            metadata = yaml.safe_load(match.group(1)) if match else {}
            if not isinstance(metadata, (dict, type(None))):
                raise ValueError("metadata must be a mapping")
        except (yaml.YAMLError, ValueError) as err:
            return JSONResponse({"errors": [{"message": str(err)}]}, status_code=400)
        return JSONResponse({"errors": [], "warnings": []})

    @route("/api/models/{org}/{name}/preupload/{revision:path}", "POST")
    async def preupload(request, org, name, revision):
        repo = MirrorRepo(mirrors, f"{org}/{name}").require()
        files = (await request.json())["files"]
        oids = repo.remote_oids(revision, [f["path"] for f in files])
        return JSONResponse({"files": [
            {"path": f["path"], "uploadMode": upload_mode(base64.b64decode(f["sample"]), f["size"]),
             "shouldIgnore": False, "oid": oids.get(f["path"])}
            for f in files
        ]})

    @route("/{org}/{name}.git/info/lfs/objects/batch", "POST")
    async def lfs_batch(request, org, name):
        repo = MirrorRepo(mirrors, f"{org}/{name}").require()
        body = await request.json()
        if body.get("operation") != "upload":
            raise HubError(400, "BadRequest", "this test hub's LFS batch API only uploads")
        objects = []
        for obj in body["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if not repo.lfs_object(obj["oid"]).is_file():  # no "actions": the client skips the upload
                href = f"{repo_url(request, repo.repo_id)}.git/info/lfs/objects/{obj['oid']}"
                entry["actions"] = {"upload": {"href": href}}
            objects.append(entry)
        return JSONResponse({"transfer": "basic", "objects": objects})

    @route("/{org}/{name}.git/info/lfs/objects/{oid}", "PUT")
    async def lfs_put(request, org, name, oid):
        target = MirrorRepo(mirrors, f"{org}/{name}").require().lfs_object(oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        # A unique temp file: the client PUTs in parallel threads, maybe one oid twice.
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
        with open(fd, "wb") as out:
            async for chunk in request.stream():
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != oid:
            os.unlink(partial)
            raise HubError(400, "BadRequest", f"uploaded bytes do not hash to {oid}")
        os.replace(partial, target)  # olah must never see a half-written object
        return JSONResponse({})

    @route("/api/models/{org}/{name}/commit/{revision:path}", "POST")
    async def commit(request, org, name, revision):
        repo = MirrorRepo(mirrors, f"{org}/{name}").require()
        if request.query_params.get("create_pr"):
            raise HubError(400, "BadRequest", "this test hub has no pull requests")
        header, files, lfs_files, deletions = {}, {}, {}, []
        for line in (await request.body()).splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "lfsFile":
                lfs_files[value["path"]] = (value["oid"], value["size"])
            elif key == "deletedFile":
                deletions.append(value["path"])
            elif key == "deletedFolder":
                deletions.append(value["path"].rstrip("/") + "/")
            else:
                raise HubError(400, "BadRequest", f"this test hub does not support commit operation {key!r}")
        sha = repo.commit(
            revision, header.get("summary", ""), header.get("description", ""),
            files=files, lfs_files=lfs_files, deletions=deletions, parent=header.get("parentCommit"),
        )
        return JSONResponse({
            "success": True, "commitOid": sha, "pullRequestUrl": None,
            "commitUrl": f"{repo_url(request, repo.repo_id)}/commit/{sha}",
        })

    @route("/api/models/{org}/{name}/tag/{revision:path}", "POST")
    async def create_tag(request, org, name, revision):
        repo = MirrorRepo(mirrors, f"{org}/{name}").require()
        body = await request.json()
        sha = repo.tag(body["tag"], revision, body.get("message"))
        return JSONResponse({"name": body["tag"], "ref": f"refs/tags/{body['tag']}", "targetCommit": sha})


# --------------------------------------------------------------------------- server subprocess


def serve(config, port_file):
    # olah.server builds its app and reads the config named by OLAH_CONFIG at import time.
    os.environ["OLAH_CONFIG"] = str(config)
    os.environ["OLAH_LOG_PATH"] = str(Path(config).parent / "logs")
    import uvicorn
    from olah.server import app

    add_write_routes(app, app.state.app_settings.config.mirrors_path[0])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    Path(f"{port_file}.tmp").write_text(str(port))
    os.replace(f"{port_file}.tmp", port_file)  # the parent never reads a half-written port
    # uvicorn closes a keep-alive connection after 5 idle seconds by default;
    # a client that reuses its pooled connection at that moment gets
    # "connection reset by peer" (seen once in CI, after a slow step between
    # two requests). The Hub itself keeps connections far longer.
    config = uvicorn.Config(app, log_level="warning", timeout_keep_alive=600)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="olah TOML config (offline, mirrors-path)")
    parser.add_argument("--port-file", required=True, help="where to write the bound port")
    args = parser.parse_args()
    serve(args.config, args.port_file)

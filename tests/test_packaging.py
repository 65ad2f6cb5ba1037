"""The wheel: complete package list, built-in zoo entries inside, and a
non-editable install in a fresh venv that samples a built-in entry offline
from the embedded copy (run once)."""
import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

import pytest

from keras_gans.zoo import builtin

pytestmark = pytest.mark.cross_backend
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_package_is_listed_in_pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    found = {
        os.path.relpath(root, ROOT).replace(os.sep, ".")
        for root, _, files in os.walk(os.path.join(ROOT, "keras_gans"))
        if "__init__.py" in files
    }
    assert found <= listed, f"add {sorted(found - listed)} to pyproject.toml's packages"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation",
         "-q", "-w", str(out)], check=True, capture_output=True,
    )
    (path,) = out.glob("keras_gans-*.whl")
    return path


def test_wheel_carries_the_builtin_entries(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for entry in builtin.BUILTIN_ENTRIES:
        for filename in ("config.json", "metadata.json", "model.weights.h5", "README.md"):
            assert f"keras_gans/_zoo/{entry}/{filename}" in names
    assert "keras_gans/metrics/weights/mnist_classifier.weights.h5" in names


def test_fresh_venv_samples_a_builtin_entry_offline(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    # The wheel alone, not the checkout; dependencies (keras, jax...) come from
    # this environment's site-packages, appended after the venv's own.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site,
                    str(wheel)], check=True, capture_output=True)
    with open(os.path.join(site, "deps.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYTHON"))}
    env.update(KERAS_BACKEND="jax", HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1")
    code = (
        "import keras_gans, numpy as np\n"
        "from keras_gans import zoo\n"
        "print('FROM', zoo.resolve('dcgan-mnist')[0])\n"
        "images = zoo.load_gan('dcgan-mnist').generate(4)\n"
        "assert images.shape == (4, 28, 28, 1) and np.isfinite(images).all()\n"
        "print('PACKAGE', keras_gans.__file__)\n"
    )
    result = subprocess.run([str(python), "-c", code], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"FROM {site}/keras_gans/_zoo/dcgan-mnist" in result.stdout
    assert f"PACKAGE {site}/keras_gans/__init__.py" in result.stdout
    # One line says the embedded copy was used, and why.
    notes = [line for line in result.stderr.splitlines() if "embedded in the package" in line]
    assert len(notes) == 2 and "(HF_HUB_OFFLINE is set)" in notes[0]

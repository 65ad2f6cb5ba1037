"""Tiny models and data shared by the tests (keeps every test fast)."""
import keras
import numpy as np

from keras_gans.models import DCGAN

LATENT = 8


def tiny_dcgan(image_shape=(28, 28, 1), seed=0, **kwargs):
    return DCGAN(
        image_shape=image_shape, latent_dim=LATENT, base_filters=4, seed=seed, **kwargs
    )


def compiled_tiny_dcgan(d_lr=2e-4, g_lr=2e-4, **kwargs):
    gan = tiny_dcgan(**kwargs)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(g_lr, beta_1=0.5),
    )
    return gan


def noise_images(n, shape=(28, 28, 1), seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n,) + tuple(shape)).astype("float32")


def weights_of(*networks):
    return [v.numpy().copy() for net in networks for v in net.weights]


def numpy_latents(n, dim=LATENT, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype("float32")


BACKENDS = ("tensorflow", "jax", "torch")


def run_on_backends(code, backends=BACKENDS, env=None, timeout=600):
    """Runs `code` (a string, or a function of the backend giving one) in one
    subprocess per backend, all at once (the two cores overlap one process's
    imports with another's work). Returns {backend: CompletedProcess} with
    text stdout/stderr; any failure fails the test with that backend's
    stderr."""
    import os
    import subprocess
    import sys

    procs = {}
    for backend in backends:
        source = code(backend) if callable(code) else code
        child_env = dict(os.environ if env is None else env, KERAS_BACKEND=backend)
        procs[backend] = subprocess.Popen(
            [sys.executable, "-c", source], env=child_env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outputs, failures = {}, []
    for backend, proc in procs.items():
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            failures.append(f"{backend} timed out after {timeout} s:\n{stderr[-3000:]}")
            continue
        if proc.returncode:
            failures.append(f"{backend} failed:\n{stderr[-3000:]}")
        outputs[backend] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert not failures, "\n".join(failures)
    return outputs


def report_of(stdout):
    """The JSON a test's subprocess printed after "REPORT"."""
    import json

    return json.loads(stdout.split("REPORT", 1)[1])

"""Data-parallel fit() on two CPU devices matches one device (run once).

Each backend runs in its own subprocess: the two virtual devices must be set
up before JAX or TensorFlow initialises (`XLA_FLAGS` for JAX, logical CPU
devices for TF). In one process a GAN trains a few steps on one device, then
a copy with the same initial weights trains on two devices (JAX's
`keras.distribution.DataParallel`, TF's `MirroredStrategy`) at the same
global batch with `shuffle=False`; weights and logged losses must agree.

The random draws (latents, the gradient penalty's interpolation weights)
take part: on JAX one program draws for the global batch; under
MirroredStrategy each replica keeps its rows of a global draw
(`backend.draw_for_replica`), so both runs draw the same numbers. SGD is
used because Adam would hide a wrong gradient scale.
"""
import os

import pytest
from helpers import report_of
from helpers import run_on_backends

pytestmark = pytest.mark.cross_backend

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = {
    "jax": """
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
import contextlib, jax, keras
def two_devices():
    assert len(jax.devices()) == 2
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
    return contextlib.nullcontext()
""",
    "tensorflow": """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
def two_devices():
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope()
""",
}

SCRIPT = """
import json, os, sys
{setup}
import keras, numpy as np
sys.path.insert(0, {here!r})
from helpers import noise_images
from keras_gans.models import DCGAN, WGANGP

BATCH, STEPS, REPLICAS = 16, 3, 2
RUNS = {{"dcgan": (DCGAN, 1), "wgan_gp": (WGANGP, 2)}}
keras.utils.set_random_seed(0)


def train(cls, n_critic, images, init=None):
    gan = cls(image_shape=(8, 8, 1), latent_dim=8, base_filters=4, seed=1,
              n_critic=n_critic, synchronized_batch_norm=True)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.05, momentum=0.5),
                g_optimizer=keras.optimizers.SGD(0.05, momentum=0.5))
    if init is not None:
        gan.set_weights(init)
    init = gan.get_weights()
    history = gan.fit(images, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    weights = gan.get_weights()
    # The losses at the trained weights, on the same partition of rows.
    evals = gan.evaluate(images, batch_size=BATCH, verbose=0, return_dict=True)
    unchanged = all(np.array_equal(a, b) for a, b in zip(weights, gan.get_weights()))
    return init, weights, {{k: v[0] for k, v in history.history.items()}}, evals, unchanged


def one_device_order(images, n_critic):
    # Under MirroredStrategy critic chunk i of the global batch is chunk i
    # of every replica's shard: one device sees that partition when the
    # rows are reordered so. JAX's DataParallel chunks the global batch.
    if {backend!r} == "jax":
        return images
    chunk = BATCH // REPLICAS // n_critic
    index = np.arange(len(images)).reshape(-1, REPLICAS, n_critic, chunk)
    return images[index.transpose(0, 2, 1, 3).ravel()]


images = noise_images(BATCH * STEPS, (8, 8, 1))
one = {{name: train(cls, n, one_device_order(images, n)) for name, (cls, n) in RUNS.items()}}
report = {{}}
with two_devices():
    for name, (cls, n) in RUNS.items():
        init, expected, logs, evals, _ = one[name]
        _, weights, dist_logs, dist_evals, unchanged = train(cls, n, images, init)
        report[name] = {{
            "weights": max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-3))
                           for a, b in zip(expected, weights)),
            "moved": max(float(np.max(np.abs(a - b))) for a, b in zip(init, expected)),
            "logs": max(abs(logs[k] - dist_logs[k]) / max(abs(logs[k]), 1e-3) for k in logs),
            "evaluate": max(abs(evals[k] - dist_evals[k]) / max(abs(evals[k]), 1e-3)
                            for k in evals),
            "evaluate_changed_nothing": unchanged,
            "log_names": sorted(dist_logs),
        }}
print("REPORT" + json.dumps(report))
"""


def _run(backend):
    code = SCRIPT.format(setup=SETUP[backend], here=HERE, backend=backend)
    return report_of(run_on_backends(code, (backend,))[backend].stdout)


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_two_devices_match_one_device(backend):
    report = _run(backend)
    for name, diffs in report.items():
        print(f"{backend} {name}: {diffs}")
        assert diffs["moved"] > 1e-3, (name, diffs)  # the steps did train
        assert diffs["weights"] < 1e-4, (name, diffs)
        assert diffs["logs"] < 1e-4, (name, diffs)
        assert diffs["evaluate"] < 1e-4, (name, diffs)
        assert diffs["evaluate_changed_nothing"], (name, diffs)
    assert report["wgan_gp"]["log_names"] == ["d_loss", "g_loss", "gp"]

"""Penalties and spectral normalization give the same numbers on every
backend for the same weights and inputs (run once, not per backend)."""
import numpy as np
import pytest
from helpers import BACKENDS
from helpers import report_of
from helpers import run_on_backends

pytestmark = pytest.mark.cross_backend

CODE = """
import json, numpy as np, keras
from keras_gans import layers, regularizers
rng = np.random.default_rng(0)
critic = keras.Sequential([
    keras.Input((8, 8, 1)),
    layers.SpectralConv2D(4, 3, strides=2, padding="same"),
    keras.layers.LeakyReLU(0.2), keras.layers.Flatten(), keras.layers.Dense(1),
])
critic.set_weights([rng.normal(size=w.shape).astype("float32") for w in critic.get_weights()])
real = rng.uniform(-1, 1, (6, 8, 8, 1)).astype("float32")
fake = rng.uniform(-1, 1, (6, 8, 8, 1)).astype("float32")
alpha = rng.uniform(0, 1, (6, 1, 1, 1)).astype("float32")
for _ in range(3):
    critic(real, training=True)  # power iterations update u
net = lambda x: critic(x, training=False)
out = {
    "gp": float(regularizers.gradient_penalty(net, real, fake, alpha)),
    "r1": float(regularizers.squared_gradient_norm(net, real)),
    "logits": keras.ops.convert_to_numpy(net(real)).ravel().tolist(),
}
print("REPORT" + json.dumps(out))
"""


def test_penalties_agree_across_backends():
    reports = {backend: report_of(result.stdout)
               for backend, result in run_on_backends(CODE, BACKENDS).items()}
    reference = reports["tensorflow"]
    for backend, report in reports.items():
        print(backend, report["gp"], report["r1"])
        for key in ("gp", "r1"):
            assert abs(report[key] - reference[key]) <= 1e-4 * abs(reference[key]), (backend, key)
        np.testing.assert_allclose(report["logits"], reference["logits"], rtol=1e-4, atol=1e-5)

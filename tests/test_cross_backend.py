"""Files written on one backend load on every other (run once, not per backend).

Each backend runs in its own subprocess (KERAS_BACKEND is read at import).
Latents are drawn with numpy: `keras.random` differs between backends.
"""
import os

import pytest
from helpers import BACKENDS
from helpers import report_of
from helpers import run_on_backends

pytestmark = pytest.mark.cross_backend

HERE = os.path.dirname(os.path.abspath(__file__))

SAVE = """
import sys, numpy as np, keras
sys.path.insert(0, {here!r})
from helpers import compiled_tiny_dcgan, noise_images, numpy_latents
gan = compiled_tiny_dcgan(seed=1)
gan.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
gan.generator.save({out!r} + "/generator.keras")
gan.save({out!r} + "/gan.keras")
np.save({out!r} + "/expected.npy", gan.generator.predict(numpy_latents(8), verbose=0))
np.save({out!r} + "/d_moments.npy", np.concatenate(
    [v.numpy().ravel() for v in gan.optimizer["d"].variables]))
from keras_gans.models import SelfConditionedGAN
clustered = SelfConditionedGAN(num_clusters=3, components=4, latent_dim=8, base_filters=4, seed=1)
clustered.compile()
clustered.fit(noise_images(32), batch_size=16, epochs=1, verbose=0)
clustered.save({out!r} + "/self_conditioned.keras")
np.save({out!r} + "/self_conditioned.npy", clustered.generate(latents=numpy_latents(8)))
"""

LOAD = """
import json, sys, numpy as np, keras
sys.path.insert(0, {here!r})
import keras_gans
from helpers import numpy_latents
report = {{}}
for source in {sources!r}:
    folder = {root!r} + "/" + source
    generator = keras.saving.load_model(folder + "/generator.keras")
    out = generator.predict(numpy_latents(8), verbose=0)
    gan = keras.saving.load_model(folder + "/gan.keras")
    moments = np.concatenate([v.numpy().ravel() for v in gan.optimizer["d"].variables])
    clustered = keras.saving.load_model(folder + "/self_conditioned.keras")
    report[source] = {{
        "self_conditioned": float(np.max(np.abs(
            clustered.generate(latents=numpy_latents(8))
            - np.load(folder + "/self_conditioned.npy")))),
        "generator": float(np.max(np.abs(out - np.load(folder + "/expected.npy")))),
        "gan": float(np.max(np.abs(gan.generator.predict(numpy_latents(8), verbose=0)
                                   - np.load(folder + "/expected.npy")))),
        "moments": float(np.max(np.abs(moments - np.load(folder + "/d_moments.npy")))),
    }}
print("REPORT" + json.dumps(report))
"""


def test_generators_and_gans_load_on_every_backend(tmp_path):
    root = str(tmp_path)
    for backend in BACKENDS:
        os.makedirs(os.path.join(root, backend))
    run_on_backends(lambda backend: SAVE.format(here=HERE, out=os.path.join(root, backend)))
    loads = run_on_backends(LOAD.format(here=HERE, root=root, sources=BACKENDS))
    for target, result in loads.items():
        report = report_of(result.stdout)
        for source, diffs in report.items():
            print(f"{source} -> {target}: {diffs}")
            assert diffs["generator"] < 1e-4, (source, target, diffs)
            assert diffs["gan"] < 1e-4, (source, target, diffs)
            assert diffs["moments"] == 0.0, (source, target, diffs)
            # Clusters drawn from the saved frequencies, images from the saved weights.
            assert diffs["self_conditioned"] < 1e-4, (source, target, diffs)

"""FID Inception feature-extraction throughput per Keras backend on this machine.

Runs one subprocess per backend (KERAS_BACKEND is read at import), each
extracting features of MNIST test images (28x28 -> 299x299x3) after one
warm-up batch (compilation excluded). Writes benchmarks/results/fid_features.json.

    python benchmarks/fid_features.py [--n 100] [--batch-size 25]

The machine's load average is recorded with each number: on a shared 2-core
machine other processes slow the measurement down.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT = os.path.join(HERE, "results", "fid_features.json")

CHILD = """
import json, os, time, numpy as np, keras
from keras_gans import datasets
from keras_gans.metrics import inception
n, batch = {n}, {batch}
x = datasets.load_uint8("mnist", "test")[0][: n + batch]
t0 = time.perf_counter()
ext = inception.InceptionFeatures(batch_size=batch)
build = time.perf_counter() - t0
t0 = time.perf_counter(); ext(x[:batch]); warm = time.perf_counter() - t0
load0 = os.getloadavg()[0]
t0 = time.perf_counter(); ext(x[batch : batch + n]); seconds = time.perf_counter() - t0
print("RESULT" + json.dumps({{
    "backend": keras.backend.backend(), "data_format": ext.data_format,
    "batch_size": batch, "images": n, "seconds": round(seconds, 2),
    "images_per_second": round(n / seconds, 2),
    "build_and_load_seconds": round(build, 2),
    "first_batch_seconds_incl_compile": round(warm, 2),
    "estimated_10k_seconds": round(10000 * seconds / n),
    "load_average_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
}}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend)
        out = subprocess.run([sys.executable, "-c", CHILD.format(n=args.n, batch=args.batch_size)],
                             env=env, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{backend} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.split("RESULT", 1)[1])
        print(result, flush=True)
        results.append(result)
    record = {
        "what": "FID Inception (299x299, ~5.7 GFLOP/image) features of MNIST test images, "
                "compiled batches, warm (compile excluded)",
        "machine": f"{os.cpu_count()} CPU cores, no GPU (shared with other jobs: see load averages)",
        "target_images_per_second": 40,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "results": results,
    }
    os.makedirs(os.path.dirname(RESULT), exist_ok=True)
    with open(RESULT, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()

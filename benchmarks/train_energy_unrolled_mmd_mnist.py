"""Short MNIST runs of EBGAN, BEGAN, UnrolledGAN and MMDGAN, judged by the
domain classifier.

    KERAS_BACKEND=jax python benchmarks/train_energy_unrolled_mmd_mnist.py \
        --model ebgan --minutes 3

Trains on the MNIST training set (batch 64, 28x28, library defaults for the
variant's losses and optimizers, generator EMA 0.999 for sampling) for a
wall-clock budget, then judges 1,000 samples from numpy latents with
`keras_gans.metrics.classify_samples`: the share classified with probability
> 0.9 and the class histogram (mode coverage). Writes
benchmarks/results/<model>_mnist.json and examples/<model>_mnist.png.
"""
import argparse
import json
import os
import time

import keras
import numpy as np

from keras_gans import datasets
from keras_gans import models
from keras_gans.core import sample_latents
from keras_gans.metrics import classify_samples
from keras_gans.utils import save_grid
from common import ROOT
from common import machine
from common import write_result


SETTINGS = {
    "ebgan": dict(latent_dim=64, base_filters=32, code_dim=32),
    "began": dict(latent_dim=64, base_filters=32, code_dim=32),
    "unrolled_gan": dict(latent_dim=64, base_filters=32, unroll_steps=5),
    "mmdgan": dict(latent_dim=64, base_filters=32, code_dim=32),
}


class _Budget(keras.callbacks.Callback):
    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.steps = seconds, 0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=sorted(SETTINGS), required=True)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--note", default="", help="recorded in the JSON")
    parser.add_argument("--set", default="{}",
                        help="JSON of constructor arguments over the defaults")
    args = parser.parse_args()
    backend = keras.backend.backend()

    images = datasets.load("mnist", split="train")
    data, _ = datasets.make_dataset(images, args.batch_size, seed=args.seed)
    settings = {**SETTINGS[args.model], **json.loads(args.set)}
    gan = models.get(args.model, seed=args.seed, ema_decay=0.999, **settings)
    gan.compile()
    budget = _Budget(args.minutes * 60)
    start = time.perf_counter()
    history = gan.fit(data, epochs=10**6, steps_per_epoch=200, callbacks=[budget],
                      verbose=0)
    wall = time.perf_counter() - start

    latents = sample_latents(args.samples, gan.latent_dim, seed=1234)
    samples = gan.generate(latents=latents)
    report = classify_samples(samples, "mnist")
    raw = classify_samples(gan.generator.predict(latents, verbose=0), "mnist")
    grid = f"examples/{args.model}_mnist.png"
    save_grid(samples[:64], os.path.join(ROOT, grid), columns=8, scale=2)
    result = {
        "model": type(gan).__name__,
        "backend": backend,
        "machine": machine(),
        "note": args.note,
        "settings": settings,
        "batch_size": args.batch_size,
        "steps": budget.steps,
        "wall_seconds": round(wall, 1),
        "steps_per_second": round(budget.steps / wall, 2),
        "final_epoch_logs": {
            k: round(float(v[-1]), 5) for k, v in history.history.items()
        },
        "samples": args.samples,
        "confident_share": report["confident_share"],
        "min_class_share": report["min_class_share"],
        "classes_covered": int(np.sum(np.array(report["class_histogram"]) >= 0.01)),
        "class_histogram": [round(v, 3) for v in report["class_histogram"]],
        "mean_confidence": round(report["mean_confidence"], 4),
        "raw_generator_confident_share": raw["confident_share"],
        "raw_generator_min_class_share": raw["min_class_share"],
        "grid": grid,
    }
    write_result(f"{args.model}_mnist.json", result)


if __name__ == "__main__":
    main()

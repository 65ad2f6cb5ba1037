"""Trains a class-conditional GAN (CGAN, ACGAN or ProjectionGAN) on MNIST under
a time budget (process CPU minutes by default, `--clock`) and judges whether
its samples show the asked-for digit.

    KERAS_BACKEND=jax python benchmarks/conditional_mnist.py --model cgan --minutes 4

Generates `--per-class` samples of every class from numpy latents and
classifies them with the committed domain classifier: `label_accuracy` is the
share whose predicted class is the label they were generated for (chance:
0.1); `confident_share` the share with top probability > 0.9. Writes
benchmarks/results/<model>_mnist_<backend>.json and
examples/<model>_mnist_<backend>.png (row k: class k).
"""
import argparse
import os
import time

import keras
import numpy as np

from keras_gans import datasets
from keras_gans.callbacks import TimeBudget
from keras_gans.core import sample_latents
from keras_gans.metrics.classifier import DomainClassifier
from keras_gans.metrics.classifier import classify_samples
from keras_gans.models.conditional import ACGAN
from keras_gans.models.conditional import CGAN
from keras_gans.models.conditional import ProjectionGAN
from keras_gans.utils import save_grid
from common import ROOT
from common import add_clock_argument
from common import machine
from common import write_result

_CLASSIFIERS = {}
MODELS = {"cgan": CGAN, "acgan": ACGAN, "projectiongan": ProjectionGAN}


def label_accuracy(images, labels, dataset="mnist"):
    """Share of images the domain classifier assigns to their label, and the
    summary of `classify_samples`."""
    report = classify_samples(images, dataset)
    if dataset not in _CLASSIFIERS:
        _CLASSIFIERS[dataset] = DomainClassifier.load(dataset)
    clf = _CLASSIFIERS[dataset]
    probs = np.asarray(clf.predict(np.clip(images, -1, 1), batch_size=500, verbose=0))
    predicted = probs.argmax(axis=1)
    per_class = [float(np.mean(predicted[labels == k] == k)) for k in range(10)]
    return float(np.mean(predicted == labels)), per_class, report


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=sorted(MODELS), default="cgan")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    add_clock_argument(parser)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    backend = keras.backend.backend()

    x, y = datasets.load("mnist", split="train", labels=True)
    data, steps = datasets.make_dataset(x, args.batch_size, labels=y, seed=args.seed)
    gan = MODELS[args.model](
        image_shape=(28, 28, 1), num_classes=10, latent_dim=args.latent_dim,
        base_filters=args.base_filters, seed=args.seed,
        ema_decay=args.ema_decay or None,
    )
    gan.compile()
    budget = TimeBudget(args.minutes * 60, clock=args.clock)
    cpu0, start = time.process_time(), time.perf_counter()
    history = gan.fit(data, epochs=10_000, steps_per_epoch=200, callbacks=[budget],
                      verbose=2)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0

    labels = np.repeat(np.arange(10), args.per_class).astype("int32")
    latents = sample_latents(len(labels), args.latent_dim, seed=123)
    samples = gan.generate(labels=labels, latents=latents)
    accuracy, per_class, report = label_accuracy(samples, labels)
    raw = keras.ops.convert_to_numpy(gan.generator.predict([latents, labels], verbose=0))
    raw_accuracy, _, _ = label_accuracy(raw, labels)

    name = f"{args.model}_mnist_{backend}{args.tag}"
    grid_labels = np.repeat(np.arange(10), 10).astype("int32")
    grid = gan.generate(labels=grid_labels, latents=np.tile(
        sample_latents(10, args.latent_dim, seed=7), (10, 1)))
    grid_path = save_grid(grid, os.path.join(ROOT, "examples", f"{name}.png"),
                          columns=10, scale=2)
    result = {
        "model": type(gan).__name__,
        "backend": backend,
        "machine": machine(),
        "budget_minutes": args.minutes,
        "budget_clock": args.clock,
        "wall_seconds": round(wall, 1),
        "process_cpu_seconds": round(cpu, 1),
        "steps": budget.steps,
        "steps_per_second": round(budget.steps / wall, 2),
        "batch_size": args.batch_size,
        "base_filters": args.base_filters,
        "latent_dim": args.latent_dim,
        "ema_decay": args.ema_decay,
        "final_logs": {k: round(float(v[-1]), 4) for k, v in history.history.items()},
        "samples": int(len(labels)),
        "label_accuracy": round(accuracy, 4),
        "label_accuracy_per_class": [round(a, 3) for a in per_class],
        "raw_generator_label_accuracy": round(raw_accuracy, 4),
        "confident_share": round(float(report["confident_share"]), 4),
        "min_class_share": round(float(report["min_class_share"]), 4),
        "grid": os.path.relpath(grid_path, ROOT),
    }
    write_result(f"{name}.json", result)


if __name__ == "__main__":
    main()

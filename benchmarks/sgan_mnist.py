"""Semi-supervised MNIST with 10 labelled images per class: SGAN's
discriminator-classifier against the same network trained on the labels only.

    KERAS_BACKEND=jax python benchmarks/sgan_mnist.py --draws 3 --minutes-per-draw 2 --clock cpu

For each draw d (seed d) of the 100 labelled training images, it trains

- SGAN (feature-matching generator, K-class discriminator whose logsumexp is
  the real/fake logit) on batches of `--labelled-batch` labelled images and
  `--batch-size - --labelled-batch` unlabelled ones (all 60,000 training
  images, labels hidden) for `--minutes-per-draw` minutes (of process CPU
  time by default, see `--clock`), and
- a plain classifier: the same discriminator network (fresh weights, same
  dropout) trained with cross-entropy on the 100 labelled images for
  `--baseline-steps` steps,

and reports their accuracy on the 10,000 MNIST test images: per draw, mean
and standard deviation. Writes benchmarks/results/sgan_mnist_<backend>.json
and examples/sgan_mnist_<backend>.png (samples of the last draw's SGAN).
"""
import argparse
import json
import os
import time

import keras
import numpy as np

from keras_gans import datasets
from keras_gans.callbacks import TimeBudget
from keras_gans.core import sample_latents
from keras_gans.metrics.classifier import classify_samples
from keras_gans.models.sgan import SGAN
from keras_gans.models.sgan import SemiSupervisedBatches
from keras_gans.models.sgan import labelled_subset
from keras_gans.networks.conditional import feature_discriminator
from keras_gans.utils import save_grid
from common import ROOT
from common import add_clock_argument
from common import machine
from common import write_result



def accuracy_on(predict, x_test, y_test):
    probs = np.asarray(predict(x_test))
    return float(np.mean(probs.argmax(axis=1) == y_test))


def train_baseline(args, x_lab, y_lab, seed):
    keras.utils.set_random_seed(seed)
    d = feature_discriminator((28, 28, 1), 10, args.base_filters, batch_norm=False,
                              dropout=args.dropout)
    clf = keras.Model(d.input, d.outputs[0], name="baseline_classifier")
    clf.compile(optimizer=keras.optimizers.Adam(args.baseline_lr),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batch = min(args.labelled_batch, len(x_lab))
    epochs = max(1, args.baseline_steps * batch // len(x_lab))
    start = time.perf_counter()
    clf.fit(x_lab, y_lab, batch_size=batch, epochs=epochs, verbose=0)
    return clf, time.perf_counter() - start, epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--minutes-per-draw", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--labelled-batch", type=int, default=32)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--lr", type=float, default=1e-3,
                        help="Adam learning rate of both SGAN networks (beta_1 0.5)")
    parser.add_argument("--baseline-steps", type=int, default=600)
    parser.add_argument("--baseline-lr", type=float, default=1e-3)
    add_clock_argument(parser)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    backend = keras.backend.backend()

    x, y = datasets.load("mnist", split="train", labels=True)
    x_test, y_test = datasets.load("mnist", split="test", labels=True)
    draws = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for draw in range(args.draws):
        indices = labelled_subset(y, args.per_class, 10, seed=draw)
        data = SemiSupervisedBatches(x, y, indices, args.batch_size,
                                     args.labelled_batch, seed=draw)
        gan = SGAN(image_shape=(28, 28, 1), num_classes=10, latent_dim=args.latent_dim,
                   base_filters=args.base_filters, discriminator_dropout=args.dropout,
                   seed=draw)
        gan.compile(d_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5))
        budget = TimeBudget(args.minutes_per_draw * 60, clock=args.clock)
        start = time.perf_counter()
        history = gan.fit(data, epochs=10_000, steps_per_epoch=200,
                          callbacks=[budget], verbose=2)
        sgan_wall = time.perf_counter() - start
        sgan_acc = accuracy_on(
            lambda images: gan.predict(images, batch_size=500, verbose=0), x_test, y_test)
        clf, base_wall, base_epochs = train_baseline(args, x[indices], y[indices], draw)
        base_acc = accuracy_on(
            lambda images: clf.predict(images, batch_size=500, verbose=0), x_test, y_test)
        row = {
            "draw": draw,
            "sgan_test_accuracy": round(sgan_acc, 4),
            "baseline_test_accuracy": round(base_acc, 4),
            "sgan_steps": budget.steps,
            "sgan_wall_seconds": round(sgan_wall, 1),
            "sgan_final_logs": {k: round(float(v[-1]), 4)
                                for k, v in history.history.items()},
            "baseline_epochs_on_100_images": base_epochs,
            "baseline_wall_seconds": round(base_wall, 1),
        }
        print(json.dumps(row), flush=True)
        draws.append(row)

    name = f"sgan_mnist_{backend}{args.tag}"
    samples = gan.generate(latents=sample_latents(1000, args.latent_dim, seed=123))
    report = classify_samples(samples, "mnist")
    grid_path = save_grid(samples[:100], os.path.join(ROOT, "examples", f"{name}.png"),
                          columns=10, scale=2)
    sgan = np.array([r["sgan_test_accuracy"] for r in draws])
    base = np.array([r["baseline_test_accuracy"] for r in draws])
    result = {
        "model": "SGAN",
        "backend": backend,
        "machine": machine(),
        "labelled_images": 10 * args.per_class,
        "draws": args.draws,
        "budget_minutes_per_draw": args.minutes_per_draw,
        "budget_clock": args.clock,
        "total_wall_seconds": round(time.perf_counter() - wall0, 1),
        "total_process_cpu_seconds": round(time.process_time() - cpu0, 1),
        "batch_size": args.batch_size,
        "labelled_per_batch": args.labelled_batch,
        "base_filters": args.base_filters,
        "discriminator_dropout": args.dropout,
        "learning_rate": args.lr,
        "sgan_test_accuracy_mean": round(float(sgan.mean()), 4),
        "sgan_test_accuracy_std": round(float(sgan.std(ddof=1)) if len(sgan) > 1 else 0.0, 4),
        "baseline_test_accuracy_mean": round(float(base.mean()), 4),
        "baseline_test_accuracy_std": round(float(base.std(ddof=1)) if len(base) > 1 else 0.0, 4),
        "improved_gan_reference_error": "0.93% (Salimans et al. 2016, 100 labels, "
                                        "feature matching, hundreds of epochs)",
        "per_draw": draws,
        "last_draw_samples_confident_share": round(float(report["confident_share"]), 4),
        "last_draw_samples_min_class_share": round(float(report["min_class_share"]), 4),
        "grid": os.path.relpath(grid_path, ROOT),
    }
    write_result(f"{name}.json", result)


if __name__ == "__main__":
    main()

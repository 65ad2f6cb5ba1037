"""Trains InfoGAN on unlabelled MNIST under a time budget (process CPU
minutes by default, `--clock`) and measures whether its categorical code
controls the digit class.

    KERAS_BACKEND=jax python benchmarks/infogan_mnist.py --minutes 5

For each value c of the 10-valued categorical code, `--per-code` samples
(numpy noise, continuous codes uniform in [-1, 1]) are judged by the
committed domain classifier. The 10x10 table counts[c, digit] gives the best
one-to-one code -> digit mapping (an exact assignment over all permutations);
`mapping_accuracy` is the share of samples whose digit is the one their
code maps to (chance ~0.1; an unsupervised-clustering accuracy on generated
images). Also reported: `purity` (each code mapped to its most frequent
digit, not necessarily one-to-one) and Q's own accuracy at recovering the
code. Writes benchmarks/results/infogan_mnist_<backend>.json and
examples/infogan_mnist_<backend>.png (row c: code value c; column j: noise
vector j, shared by all rows; continuous codes 0).
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
from keras_gans.models.infogan import InfoGAN
from keras_gans.utils import save_grid
from common import ROOT
from common import add_clock_argument
from common import machine
from common import write_result



def best_assignment(counts):
    """Maximum of `sum_c counts[c, perm[c]]` over permutations, and `perm`,
    by dynamic programming over subsets (exact; fine for 10 classes).

    >>> best_assignment(np.array([[1, 5], [4, 2]]))
    (9, [1, 0])
    """
    counts = np.asarray(counts)
    n = counts.shape[0]
    best = {0: (0, [])}
    for row in range(n):
        nxt = {}
        for used, (score, perm) in best.items():
            for col in range(counts.shape[1]):
                if used & (1 << col):
                    continue
                key = used | (1 << col)
                cand = score + counts[row, col]
                if key not in nxt or cand > nxt[key][0]:
                    nxt[key] = (cand, perm + [col])
        best = nxt
    score, perm = max(best.values(), key=lambda item: item[0])
    return int(score), perm


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=62)
    parser.add_argument("--info-weight", type=float, default=1.0)
    parser.add_argument("--ema-decay", type=float, default=0.0)
    parser.add_argument("--categorical-dim", type=int, default=10,
                        help="values of the categorical code (the one-to-one "
                             "code -> digit map needs 10)")
    parser.add_argument("--per-code", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--d-lr", type=float, default=2e-4)
    parser.add_argument("--g-lr", type=float, default=1e-3, help="G and Q (paper)")
    parser.add_argument("--beta-1", type=float, default=0.5)
    parser.add_argument("--beta-2", type=float, default=0.999)
    add_clock_argument(parser)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    backend = keras.backend.backend()

    images = datasets.load("mnist", split="train")
    data, _ = datasets.make_dataset(images, args.batch_size, seed=args.seed)
    gan = InfoGAN(image_shape=(28, 28, 1), latent_dim=args.latent_dim,
                  base_filters=args.base_filters, categorical_dim=args.categorical_dim,
                  info_weight=args.info_weight,
                  ema_decay=args.ema_decay or None, seed=args.seed)
    betas = dict(beta_1=args.beta_1, beta_2=args.beta_2)
    gan.compile(d_optimizer=keras.optimizers.Adam(args.d_lr, **betas),
                g_optimizer=keras.optimizers.Adam(args.g_lr, **betas))
    budget = TimeBudget(args.minutes * 60, clock=args.clock)
    cpu0, start = time.process_time(), time.perf_counter()
    history = gan.fit(data, epochs=10_000, steps_per_epoch=200, callbacks=[budget],
                      verbose=2)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0

    k = args.categorical_dim
    n = k * args.per_code
    codes = np.repeat(np.arange(k), args.per_code)
    rng = np.random.default_rng(123)
    continuous = rng.uniform(-1, 1, (n, gan.continuous_dim))
    samples = gan.generate(latents=sample_latents(n, args.latent_dim, seed=123),
                           categorical=codes, continuous=continuous)
    report = classify_samples(samples, "mnist")
    clf = DomainClassifier.load("mnist")
    probs = np.asarray(clf.predict(np.clip(samples, -1, 1), batch_size=500, verbose=0))
    digits = probs.argmax(axis=1)
    counts = np.zeros((k, 10), int)
    np.add.at(counts, (codes, digits), 1)
    matched, mapping = best_assignment(counts) if k == 10 else (None, None)
    q_probs, _ = gan.predict_codes(samples)
    q_accuracy = float(np.mean(q_probs.argmax(axis=1) == codes))

    name = f"infogan_mnist_{backend}{args.tag}"
    # Row c: code value c; column j: noise vector j (the same in every row),
    # continuous codes 0. A row whose digit stays fixed across columns, and
    # differs between rows, is a code that controls the class.
    grid = gan.generate(latents=np.tile(sample_latents(10, args.latent_dim, seed=7),
                                        (10, 1)),
                        categorical=np.repeat(np.arange(10), 10),
                        continuous=np.zeros((100, gan.continuous_dim)))
    grid_path = save_grid(grid, os.path.join(ROOT, "examples", f"{name}.png"),
                          columns=10, scale=2)
    result = {
        "model": "InfoGAN",
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
        "codes": f"{k}-way categorical + 2 continuous in [-1, 1]",
        "info_weight": args.info_weight,
        "learning_rates": {"discriminator": args.d_lr, "generator_and_q": args.g_lr},
        "adam_betas": [args.beta_1, args.beta_2],
        "ema_decay": args.ema_decay,
        "final_logs": {k: round(float(v[-1]), 4) for k, v in history.history.items()},
        "samples": n,
        "mapping_accuracy": round(matched / n, 4) if matched is not None else None,
        "code_to_digit": {str(c): int(d) for c, d in enumerate(mapping or [])},
        "purity": round(float(counts.max(axis=1).sum()) / n, 4),
        "q_code_accuracy": round(q_accuracy, 4),
        "counts_code_by_digit": counts.tolist(),
        "confident_share": round(float(report["confident_share"]), 4),
        "min_class_share": round(float(report["min_class_share"]), 4),
        "grid": os.path.relpath(grid_path, ROOT),
    }
    write_result(f"{name}.json", result)


if __name__ == "__main__":
    main()

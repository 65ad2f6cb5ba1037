"""Trains GAN variants for the same CPU budget and writes one comparison table.

    KERAS_BACKEND=jax python benchmarks/variants.py quality --cpu-minutes 4
    KERAS_BACKEND=tensorflow python benchmarks/variants.py speed --seconds 30
    KERAS_BACKEND=tensorflow python benchmarks/variants.py kid
    python benchmarks/variants.py table

`quality` trains each variant on MNIST and Fashion-MNIST for `--cpu-minutes`
of process CPU time (all threads; other programs on the machine do not eat
into it; on 2 idle cores 4 CPU-minutes take about 2 minutes; batch 64,
28x28, EMA generator for sampling) and judges 1,000
samples from numpy latents with the committed domain classifier: the share
classified with probability > 0.9, and mode coverage (classes that receive
at least 1% of the confidently classified samples, out of 10). Grids go to
examples/variants/. `speed` measures steps/s after the first (compiling)
epoch on the current backend. `kid` measures KID at N=2,000 (the
evaluation protocol's comparison size, against the cached test-split
features) of the samples each `quality` run saved under runs/variants/ (TF
extracts FID features fastest here). `table` merges the JSON results into
benchmarks/results/variants.md.
"""
import argparse
import glob
import json
import os
import time

import keras
import numpy as np

from keras_gans import datasets
from keras_gans import models
from keras_gans.callbacks import TimeBudget
from keras_gans.core import sample_latents
from keras_gans.metrics import DomainClassifier
from keras_gans.utils import save_grid
from common import RESULTS
from common import ROOT
from common import machine
from common import write_result


# One width per family, picked so that every variant costs about the same
# per step on CPU; all use an EMA generator (decay 0.999) for sampling.
VARIANTS = {
    "VanillaGAN": dict(latent_dim=100),
    "DCGAN": dict(latent_dim=100, base_filters=32),
    "LSGAN": dict(latent_dim=100, base_filters=32),
    "RaGAN": dict(latent_dim=100, base_filters=32),
    "WGAN": dict(latent_dim=100, base_filters=32),
    "WGANGP": dict(latent_dim=100, base_filters=32),
    "SNGAN": dict(latent_dim=128, base_filters=8),  # ResNet blocks: ~4x a DCGAN step at 16
    "EBGAN": dict(latent_dim=100, base_filters=32),
    "BEGAN": dict(latent_dim=100, base_filters=32),
    "UnrolledGAN": dict(latent_dim=100, base_filters=32),
    "MMDGAN": dict(latent_dim=100, base_filters=32),
}
# Conditional variants train on (images, labels); speed columns only (their
# quality measures are label accuracy: benchmarks/conditional_mnist.py etc.).
CONDITIONAL = {
    "CGAN": dict(latent_dim=100, base_filters=32),
    "ACGAN": dict(latent_dim=100, base_filters=32),
    "ProjectionGAN": dict(latent_dim=100, base_filters=32),
    "InfoGAN": dict(latent_dim=62, base_filters=32),
    "SGAN": dict(latent_dim=100, base_filters=32),
}
BATCH = 64
KID_N = 2000


def build(name, seed=0):
    options = VARIANTS.get(name) or CONDITIONAL[name]
    gan = getattr(models, name)(seed=seed, ema_decay=0.999, **options)
    gan.compile()
    return gan


def judge(samples, dataset, threshold=0.9):
    """Confident share and modes covered, by the domain classifier."""
    classifier = DomainClassifier.load(dataset)  # softmax outputs
    probs = np.asarray(classifier.predict(np.clip(samples, -1, 1), batch_size=500, verbose=0))
    confident = probs.max(1) > threshold
    counts = np.bincount(probs.argmax(1)[confident], minlength=10)
    share = counts / max(1, confident.sum())
    return {
        "confident_share": round(float(confident.mean()), 4),
        "modes_covered": int((share >= 0.01).sum()),
        "confident_class_shares": [round(float(s), 4) for s in share],
    }


def train(name, dataset, seconds, seed=0):
    images = datasets.load(dataset, split="train")
    data, _ = datasets.make_dataset(images, BATCH, seed=seed)
    gan = build(name, seed)
    budget = TimeBudget(seconds, clock="cpu")
    start = time.perf_counter()
    history = gan.fit(data, epochs=10_000, steps_per_epoch=100, callbacks=[budget], verbose=0)
    wall = time.perf_counter() - start
    # The first 1,000 are judged by the classifier (the same latents as 1,000
    # drawn alone); all KID_N are kept for KID.
    samples = gan.generate(latents=sample_latents(KID_N, gan.latent_dim, seed=123))
    return gan, history, budget.steps, wall, samples


def samples_path(name, dataset):
    return os.path.join(ROOT, "runs", "variants", f"{name.lower()}_{dataset}.npy")


def quality(args):
    backend = keras.backend.backend()
    for dataset in args.datasets:
        for name in args.variants:
            gan, history, steps, wall, samples = train(name, dataset, args.cpu_minutes * 60)
            grid = os.path.join(ROOT, "examples", "variants", f"{name.lower()}_{dataset}.png")
            os.makedirs(os.path.dirname(grid), exist_ok=True)
            save_grid(samples[:64], grid, columns=8, scale=2)
            os.makedirs(os.path.dirname(samples_path(name, dataset)), exist_ok=True)
            np.save(samples_path(name, dataset), np.asarray(samples, dtype="float32"))
            result = {
                "variant": name, "dataset": dataset, "backend": backend,
                "machine": machine(), "budget_cpu_minutes": args.cpu_minutes,
                "steps": steps, "wall_seconds": round(wall, 1),
                "final_losses": {
                    k: round(float(v[-1]), 4) for k, v in history.history.items()
                },
                **judge(samples[:1000], dataset),
                "grid": os.path.relpath(grid, ROOT),
            }
            write_result(f"variants_quality_{dataset}_{name.lower()}.json", result)


def speed(args):
    backend = keras.backend.backend()
    images, labels = datasets.load("mnist", split="train", labels=True)
    images, labels = images[:BATCH * 50], labels[:BATCH * 50].astype("int32")
    for name in args.variants:
        gan = build(name)
        data, _ = datasets.make_dataset(
            images, BATCH, labels=labels if name in CONDITIONAL else None, seed=0)
        start = time.perf_counter()
        gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
        first = time.perf_counter() - start
        budget = TimeBudget(args.seconds)
        start = time.perf_counter()
        gan.fit(data, epochs=1000, steps_per_epoch=10, callbacks=[budget], verbose=0)
        rate = budget.steps / (time.perf_counter() - start)
        result = {
            "variant": name, "backend": backend, "machine": machine(),
            "steps_per_second": round(rate, 2), "first_two_steps_seconds": round(first, 1),
        }
        write_result(f"variants_speed_{backend}_{name.lower()}.json", result)


def kid(args):
    """KID at N=2,000 of each saved sample set, written into its quality JSON."""
    from keras_gans.metrics import Evaluator

    evaluators = {}  # one per dataset: its reference features are loaded once
    for path in sorted(glob.glob(os.path.join(RESULTS, "variants_quality_*.json"))):
        with open(path) as f:
            result = json.load(f)
        if result["variant"] not in args.variants or ("kid" in result and not args.again):
            continue
        source = samples_path(result["variant"], result["dataset"])
        if not os.path.isfile(source):
            print(f"skip {result['variant']} on {result['dataset']}: no {source} "
                  "(run `quality` first)")
            continue
        dataset = result["dataset"]
        if dataset not in evaluators:
            evaluators[dataset] = Evaluator(metrics=("kid",), reference=dataset, split="test",
                                            n=args.n, seed=0)
        measured = evaluators[dataset](np.load(source)[: args.n])
        result.update(kid=float(measured["kid"]), kid_std=float(measured["kid_std"]), kid_n=args.n,
                      kid_protocol=str(measured.protocol))
        write_result(os.path.basename(path), result)


def kid_cell(result):
    if "kid" not in result:
        return "-"
    n = "" if result.get("kid_n", KID_N) == KID_N else f" (N={result['kid_n']})"
    return f"{result['kid']:.4f} ± {result['kid_std']:.4f}{n}"


def table(args):
    def load(pattern):
        return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(RESULTS, pattern)))]

    speed_rows = {}
    for r in load("variants_speed_*.json"):
        speed_rows.setdefault(r["variant"], {})[r["backend"]] = r["steps_per_second"]
    lines = [
        "| variant | steps/s TF | steps/s JAX | steps/s torch | dataset | budget | steps "
        "| final d_loss | final g_loss | confident share | modes covered | KID (N=2,000) | grid |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(load("variants_quality_*.json"), key=lambda r: (r["dataset"], r["variant"])):
        s = speed_rows.get(r["variant"], {})
        losses = r["final_losses"]
        lines.append(
            f"| {r['variant']} | {s.get('tensorflow', '')} | {s.get('jax', '')} | "
            f"{s.get('torch', '')} | {r['dataset']} | {r['budget_cpu_minutes']} CPU-min "
            f"({r['backend']}) | {r['steps']} | {losses.get('d_loss', '')} | "
            f"{losses.get('g_loss', '')} | {r['confident_share']:.1%} | "
            f"{r['modes_covered']}/10 | {kid_cell(r)} | [png](../../{r['grid']}) |"
        )
    judged = {r["variant"] for r in load("variants_quality_*.json")}
    for name in sorted(set(speed_rows) - judged):
        s = speed_rows[name]
        lines.append(
            f"| {name} | {s.get('tensorflow', '')} | {s.get('jax', '')} | "
            f"{s.get('torch', '')} | (speed only) | | | | | | | | |"
        )
    path = os.path.join(RESULTS, "variants.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--cpu-minutes", type=float, default=4.0)
    q.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    q.add_argument("--variants", nargs="+", default=list(VARIANTS))
    s = sub.add_parser("speed")
    s.add_argument("--seconds", type=float, default=30.0)
    s.add_argument("--variants", nargs="+", default=list(VARIANTS) + list(CONDITIONAL))
    k = sub.add_parser("kid")
    k.add_argument("--variants", nargs="+", default=list(VARIANTS))
    k.add_argument("--again", action="store_true", help="re-measure rows that have a KID")
    k.add_argument("--n", type=int, default=KID_N, help="samples (the protocol's 2,000)")
    sub.add_parser("table")
    args = parser.parse_args()
    {"quality": quality, "speed": speed, "kid": kid, "table": table}[args.command](args)


if __name__ == "__main__":
    main()

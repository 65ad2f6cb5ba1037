"""The limited-data demonstration: pretrain a 64x64 LSGAN (DCGAN networks,
least-squares loss) on Twitter emoji,
fine-tune it on 200 Google-style emoji with `keras-gans finetune`, and
compare, at the same CPU budget, with training from scratch on the same 200
images, with and without DiffAugment; KID against the 401 held-out Google
emoji over 3 seeds.

    python benchmarks/emoji_finetune.py pretrain --budget 5200
    python benchmarks/emoji_finetune.py compare --budget 240 --seeds 0 1 2

(budgets in CPU seconds; the committed results used these.)

Writes runs/emoji_finetune/, benchmarks/results/emoji_finetune.{json,md}
and examples/emoji_finetune/*.png (sample grids and a nearest-training-
neighbour grid). Needs the emoji data (bash scripts/fetch_emoji.sh).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import ROOT, add_clock_argument, machine, write_result  # noqa: E402

RUNS = os.path.join(ROOT, "runs", "emoji_finetune")
EXAMPLES = os.path.join(ROOT, "examples", "emoji_finetune")
PRETRAINED = os.path.join(RUNS, "pretrained")
FEW_SHOT = os.path.join(RUNS, "google200")
N_FEW = 200
POLICY = "color,translation,cutout"
CONFIGS = {  # name -> (start from the pretrained model, DiffAugment policy)
    "finetune+diffaugment": (True, POLICY),
    "scratch": (False, None),
    "scratch+diffaugment": (False, POLICY),
}
GAN_OPTIONS = dict(image_shape=(64, 64, 3), latent_dim=100, base_filters=32, ema_decay=0.999)
# The plain DCGAN's discriminator overpowered its generator on the 3,385
# Twitter emoji within ~500 steps (d_loss 0.03, noise samples): least
# squares (no vanishing gradient once D is confident) with DiffAugment (a
# small set) pretrains stably at the same cost.
PRETRAIN_AUGMENT = "translation,cutout"


def pretrain(budget, clock, batch_size=32):
    import keras

    from keras_gans import datasets
    from keras_gans.callbacks import SampleGrid, TimeBudget
    from keras_gans.models import LSGAN

    keras.utils.set_random_seed(0)
    images = datasets.load_emoji("twitter", "train")
    data, steps = datasets.make_dataset(images, batch_size, seed=0)
    gan = LSGAN(seed=0, augment=PRETRAIN_AUGMENT, **GAN_OPTIONS)
    gan.compile()
    timer = TimeBudget(budget, clock=clock)
    os.makedirs(PRETRAINED, exist_ok=True)
    # Progress grids, and the model after each epoch so that a long run
    # stopped early still leaves a usable pretrained model.
    progress = [SampleGrid(os.path.join(PRETRAINED, "grids"), n=32, every_n_batches=1000),
                keras.callbacks.ModelCheckpoint(os.path.join(PRETRAINED, "gan.keras"))]
    start = time.perf_counter()
    history = gan.fit(data, epochs=10000, steps_per_epoch=steps, callbacks=[timer] + progress,
                      verbose=2)
    gan.save(os.path.join(PRETRAINED, "gan.keras"))
    record = {"images": len(images), "steps": timer.steps, "batch_size": batch_size,
              "budget": budget, "clock": clock, "wall_seconds": time.perf_counter() - start,
              "history": {k: [float(v) for v in vs] for k, vs in history.history.items()}}
    with open(os.path.join(PRETRAINED, "history.json"), "w") as f:
        json.dump(record, f, indent=2)
    _grid(gan, os.path.join(EXAMPLES, "pretrained_twitter.png"))


def _grid(gan, path, n=48):
    from keras_gans.core import sample_latents
    from keras_gans.utils import save_grid

    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_grid(gan.generate(latents=sample_latents(n, gan.latent_dim, seed=0)), path,
              columns=8, scale=1)


def write_few_shot_folder():
    """The user's folder: 200 Google-style training emoji as PNG files."""
    from PIL import Image

    from keras_gans import datasets
    from keras_gans.utils.images import to_uint8

    if os.path.isdir(FEW_SHOT) and len(os.listdir(FEW_SHOT)) == N_FEW:
        return
    images = datasets.load_emoji("google", "train")
    rows = np.sort(np.random.default_rng(0).choice(len(images), N_FEW, replace=False))
    os.makedirs(FEW_SHOT, exist_ok=True)
    for i, image in zip(rows, to_uint8(images[rows])):
        Image.fromarray(image).save(os.path.join(FEW_SHOT, f"{i:04d}.png"))


def run_config(name, seed, budget, clock, batch_size=32):
    """One fine-tuning or from-scratch run through the command line."""
    from keras_gans import cli

    pretrained, augment = CONFIGS[name]
    out = os.path.join(RUNS, f"{name}-seed{seed}")
    if pretrained:
        argv = ["finetune", os.path.join(PRETRAINED, "gan.keras"), "--data", FEW_SHOT,
                "--lr", "1e-4"]
    else:
        import keras

        from keras_gans.models import LSGAN

        # A fresh model in a run folder, so that both arms go through the
        # same `keras-gans finetune` command, optimizers, data and budget.
        keras.utils.set_random_seed(seed)
        fresh = LSGAN(seed=seed, **GAN_OPTIONS)
        fresh.compile()
        os.makedirs(out + "-init", exist_ok=True)
        fresh.save(os.path.join(out + "-init", "gan.keras"))
        argv = ["finetune", os.path.join(out + "-init", "gan.keras"), "--data", FEW_SHOT,
                "--lr", "2e-4"]
    if augment:
        argv += ["--augment", augment]
    argv += ["--out", out, "--overwrite", "--seed", str(seed), "--batch-size", str(batch_size),
             "--epochs", "100000", "--steps-per-epoch", "60", "--time-budget", str(budget),
             "--clock", clock, "--verbose", "0", "--samples", "16"]
    assert cli.main(argv) == 0, argv
    return out


def kid_of(out, evaluator, n=500, seed=0):
    import keras

    from keras_gans.core import sample_latents

    gan = keras.saving.load_model(os.path.join(out, "gan.keras"))
    images = gan.generate(latents=sample_latents(n, gan.latent_dim, seed=100 + seed))
    result = evaluator(images)
    return gan, images, result


def nearest_neighbour_grid(images, path, n=8):
    """Each sample beside its nearest training image (pixel L2)."""
    from keras_gans.datasets import from_directory
    from keras_gans.utils import save_grid

    train = from_directory(FEW_SHOT, labels=None).images
    flat_train = train.reshape(len(train), -1)
    rows = []
    distances = []
    for sample in images[:n]:
        d = np.sum((flat_train - sample.reshape(1, -1)) ** 2, axis=1)
        rows += [sample, train[int(np.argmin(d))]]
        distances.append(float(np.sqrt(d.min() / flat_train.shape[1])))
    save_grid(np.stack(rows), path, columns=4, scale=2)
    # Typical distance between two different training images, for scale.
    sub = flat_train[:50]
    pair = np.sqrt(((sub[:, None] - sub[None]) ** 2).mean(-1))
    return {"sample_to_nearest_rms": distances,
            "train_to_nearest_train_rms_median": float(np.median(
                np.where(np.eye(len(sub), dtype=bool), np.inf, pair).min(1)))}


def compare(budget, clock, seeds):
    from keras_gans import datasets
    from keras_gans.metrics import Evaluator

    write_few_shot_folder()
    held_out = datasets.load_emoji("google", "test")
    evaluator = Evaluator(metrics=("kid",), reference=held_out, kid_subset_size=200, verbose=0)
    results = {name: [] for name in CONFIGS}
    for seed in seeds:
        for name in CONFIGS:
            start = time.perf_counter()
            out = run_config(name, seed, budget, clock)
            wall = time.perf_counter() - start
            gan, images, result = kid_of(out, evaluator, seed=seed)
            with open(os.path.join(out, "history.json")) as f:
                steps = json.load(f)["steps"]
            results[name].append({"seed": seed, "kid": float(result["kid"]),
                                  "kid_std": float(result["kid_std"]), "steps": steps,
                                  "wall_seconds": round(wall, 1)})
            print(name, seed, results[name][-1], flush=True)
            if seed == seeds[0]:
                _grid(gan, os.path.join(EXAMPLES, f"{name}.png"))
                if name.startswith("finetune"):
                    memorisation = nearest_neighbour_grid(
                        images, os.path.join(EXAMPLES, "finetune_nearest_neighbours.png"))
    summary = {name: {"kid_mean": float(np.mean([r["kid"] for r in runs])),
                      "kid_std_over_seeds": float(np.std([r["kid"] for r in runs], ddof=1))
                      if len(runs) > 1 else None,
                      "runs": runs} for name, runs in results.items()}
    write_result("emoji_finetune.json", {
        "machine": machine(), "budget_seconds": budget, "clock": clock, "few_shot": N_FEW,
        "protocol": str(evaluator(np.asarray(held_out[:10])).protocol).replace("N=10", "N=500"),
        "memorisation": memorisation, "results": summary})
    lines = ["| setup | KID x1000 (mean ± sd over seeds) | per seed | steps | wall s |",
             "|---|---|---|---|---|"]
    for name, s in summary.items():
        per = ", ".join(f"{r['kid'] * 1000:.1f}" for r in s["runs"])
        sd = s["kid_std_over_seeds"] or 0.0
        lines.append(f"| {name} | {s['kid_mean'] * 1000:.1f} ± {sd * 1000:.1f} | {per} "
                     f"| {int(np.mean([r['steps'] for r in s['runs']]))} "
                     f"| {np.mean([r['wall_seconds'] for r in s['runs']]):.0f} |")
    with open(os.path.join(ROOT, "benchmarks", "results", "emoji_finetune.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pretrain")
    p.add_argument("--budget", type=float, default=5200)
    add_clock_argument(p)
    p = sub.add_parser("compare")
    p.add_argument("--budget", type=float, default=240)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    add_clock_argument(p)
    args = parser.parse_args()
    if args.command == "pretrain":
        pretrain(args.budget, args.clock)
    else:
        compare(args.budget, args.clock, args.seeds)


if __name__ == "__main__":
    main()

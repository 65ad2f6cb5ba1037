"""Trains pix2pix and CycleGAN on the emoji styles (Twitter -> Google) and
an edges -> Google-emoji pix2pix, each for a fixed CPU budget.

    python benchmarks/translation_emoji.py train pix2pix-twitter2google --budget 1200
    python benchmarks/translation_emoji.py evaluate

`train` writes runs/translation/NAME/{model.keras,history.json}; `evaluate`
scores every trained run on the 401 held-out test pairs (see
`keras_gans.metrics.translation_report`) and writes
benchmarks/results/translation_emoji.{json,md} and the grids in
examples/translation/. Needs the emoji data (bash scripts/fetch_emoji.sh).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import ROOT, add_clock_argument, machine, write_result  # noqa: E402

RUNS = os.path.join(ROOT, "runs", "translation")
EXAMPLES = os.path.join(ROOT, "examples", "translation")

# name -> (model, constructor arguments, batch size, source, target)
SETUPS = {
    "pix2pix-twitter2google": (
        "pix2pix", {"base_filters": 32, "depth": 4}, 8, "twitter", "google"),
    "pix2pix-edges2google": (
        "pix2pix", {"base_filters": 32, "depth": 4, "image_shape": (64, 64, 1),
                    "target_channels": 3},
        8, "edges", "google"),
    "cyclegan-twitter-google": (
        "cyclegan", {"base_filters": 16, "seed": 0}, 4, "twitter", "google"),
}


def load_side(style, split):
    from keras_gans import datasets

    if style == "edges":
        return datasets.edge_maps(datasets.load_emoji("google", split))
    return datasets.load_emoji(style, split)


def train(name, budget, clock):
    import keras

    from keras_gans import datasets, models
    from keras_gans.callbacks import TimeBudget

    model_name, options, batch_size, source, target = SETUPS[name]
    a, b = load_side(source, "train"), load_side(target, "train")
    if model_name == "cyclegan":
        data, steps = datasets.unpaired_dataset(a, b, batch_size, seed=0)
    else:
        data, steps = datasets.paired_dataset(a, b, batch_size, seed=0)
    keras.utils.set_random_seed(0)
    model = models.get(model_name, **options)
    model.compile()
    budget_cb = TimeBudget(budget, clock=clock)
    start = time.perf_counter()
    history = model.fit(data, epochs=1000, steps_per_epoch=steps, callbacks=[budget_cb],
                        verbose=2)
    wall = time.perf_counter() - start
    out = os.path.join(RUNS, name)
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "model.keras"))
    record = {
        "name": name, "model": model_name, "options": {k: list(v) if isinstance(v, tuple) else v
                                                       for k, v in options.items()},
        "source": source, "target": target, "train_images": len(a),
        "batch_size": batch_size, "steps": budget_cb.steps,
        "epochs": budget_cb.steps / steps, "budget_seconds": budget, "clock": clock,
        "wall_seconds": round(wall, 1), "backend": keras.backend.backend(),
        "parameters": int(model.count_params()), "machine": machine(),
        "history": {k: [float(x) for x in v] for k, v in history.history.items()},
    }
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump(record, f, indent=2)
    print(f"{name}: {budget_cb.steps} steps in {wall:.0f} s")


def evaluate(names):
    import keras
    import numpy as np

    from keras_gans.metrics import translation_report
    from keras_gans.utils import save_grid

    results = {}
    os.makedirs(EXAMPLES, exist_ok=True)
    for name in names:
        path = os.path.join(RUNS, name, "model.keras")
        if not os.path.exists(path):
            print(f"skipping {name}: not trained ({path})")
            continue
        model_name, _, _, source, target = SETUPS[name]
        model = keras.saving.load_model(path)
        a, b = load_side(source, "test"), load_side(target, "test")
        report = translation_report(model, a, b, cycle=model_name == "cyclegan")
        with open(os.path.join(RUNS, name, "history.json")) as f:
            record = json.load(f)
        record.pop("history")
        results[name] = {"training": record, "test": report}
        rows = np.random.default_rng(0).choice(len(a), 8, replace=False)
        shown = np.repeat(a[rows], 3, -1) if a.shape[-1] == 1 else a[rows]
        grid = np.stack([shown, model.translate(a[rows]), b[rows]], 1).reshape((-1,) + b.shape[1:])
        save_grid(grid, os.path.join(EXAMPLES, f"{name}.png"), columns=6, scale=2)
        print(name, json.dumps(report, indent=1))
    write_result("translation_emoji.json", {"machine": machine(), "results": results})
    write_markdown(results)


def write_markdown(results):
    lines = [
        "# Emoji translation: Twitter (Twemoji) -> Google (Noto), held-out test pairs",
        "",
        "L1 is the mean absolute pixel difference in [-1, 1] units (lower is better);",
        "SSIM is Wang et al. 2004 (11x11 Gaussian window, sigma 1.5, on [0, 1]);",
        "KID compares the outputs with the test split's target images (FID Inception",
        "features, 100 subsets of 200). The identity baseline outputs the input.",
        "",
        "| run | steps (batch) | CPU budget | L1 | identity L1 | SSIM | identity SSIM "
        "| KID x1000 | identity KID x1000 | cycle L1 a->b->a |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        t, s = r["training"], r["test"]
        identity = s.get("identity", {})
        fmt = lambda v, k=1: "-" if v is None else f"{v * k:.4f}" if k == 1 else f"{v * k:.2f}"  # noqa: E731
        lines.append(
            f"| {name} | {t['steps']} ({t['batch_size']}) | {t['budget_seconds'] / 60:.0f} min "
            f"| {fmt(s['l1'])} | {fmt(identity.get('l1'))} | {fmt(s['ssim'])} "
            f"| {fmt(identity.get('ssim'))} | {fmt(s['kid'], 1000)} "
            f"| {fmt(identity.get('kid'), 1000)} | {fmt(s.get('cycle_l1'))} |")
    with open(os.path.join(ROOT, "benchmarks", "results", "translation_emoji.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train")
    p.add_argument("name", choices=sorted(SETUPS))
    p.add_argument("--budget", type=float, default=1200, help="seconds on --clock")
    add_clock_argument(p)
    p = sub.add_parser("evaluate")
    p.add_argument("names", nargs="*", default=sorted(SETUPS))
    args = parser.parse_args()
    if args.command == "train":
        train(args.name, args.budget, args.clock)
    else:
        evaluate(args.names)


if __name__ == "__main__":
    main()

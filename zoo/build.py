"""Reproduces, measures and pins a built-in zoo entry from its recipe.

    python zoo/build.py dcgan-mnist --train --measure   # from scratch (~25 CPU-min + FID)
    python zoo/build.py dcgan-mnist --measure           # re-measure the committed entry

`zoo/<name>/recipe.json` names the variant, dataset, backend and training
arguments of `keras-gans train`. `--train` trains into runs/zoo/<name> and
exports the run into zoo/<name> (config.json, metadata.json,
model.weights.h5, README.md, samples.png). `--measure` computes FID/KID
against the dataset's test split (N samples, protocol printed and stored),
the domain classifier's confident share and mode coverage (and, for
conditional entries, label accuracy), and writes them into metadata.json
and the model card. It ends by printing the weights' sha256 to pin in
keras_gans/zoo/builtin.py.
"""
import argparse
import json
import os
import subprocess
import sys

ZOO = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(ZOO)


def read_recipe(name):
    path = os.path.join(ZOO, name, "recipe.json")
    if not os.path.isfile(path):
        raise SystemExit(f"error: no recipe {path}; built-in entries have zoo/<name>/recipe.json.")
    with open(path) as f:
        return json.load(f)


def train(name, recipe, run_dir):
    command = ["keras-gans", "train", recipe["model"], "--dataset", recipe["dataset"],
               "--out", run_dir, "--overwrite", "--verbose", "2", *recipe["train_args"]]
    env = dict(os.environ, KERAS_BACKEND=recipe["backend"])
    print(f"KERAS_BACKEND={recipe['backend']} " + " ".join(command), flush=True)
    subprocess.run(command, env=env, check=True, cwd=ROOT)


def export(name, recipe, run_dir):
    from keras_gans import zoo
    from keras_gans.zoo.entry import machine_description

    folder = os.path.join(ZOO, name)
    metadata = zoo.export_run(run_dir, folder, name=name, description=recipe["description"],
                              overwrite=True)
    training = dict(metadata["training"])
    training.setdefault("hardware", machine_description())
    training["recipe"] = f"python zoo/build.py {name} --train --measure"
    zoo.entry.update_metadata(folder, training=training)


def measure(name, recipe, n, n_reference):
    import numpy as np

    from keras_gans import zoo
    from keras_gans.core import sample_latents
    from keras_gans.metrics import Evaluator
    from keras_gans.metrics.labels import class_coverage
    from keras_gans.metrics.labels import conditional_accuracy
    from keras_gans.models.self_conditioned import is_conditional

    folder = os.path.join(ZOO, name)
    gan = zoo.load_gan(folder)
    options = {}
    # Balanced classes; a self-conditioned GAN draws its own clusters.
    if is_conditional(gan):
        options["labels"] = np.arange(n) % gan.num_classes
    images = gan.generate(latents=sample_latents(n, gan.latent_dim, seed=1), **options)
    evaluator = Evaluator(metrics=("fid", "kid"), reference=recipe["dataset"], split="test",
                          n=n, n_reference=n_reference, seed=0)
    result = evaluator(images)
    print(result, flush=True)
    coverage = class_coverage(images, dataset=recipe["dataset"])
    metrics = {
        "fid": result["fid"], "kid": result["kid"], "kid_std": result["kid_std"],
        "protocol": result.protocol.as_dict(), "protocol_text": str(result.protocol),
        "confident_share": coverage["confident_share"],
        "modes_covered": coverage["modes_covered"],
        "class_histogram": [round(float(v), 4) for v in coverage["class_histogram"]],
        "command": f"python zoo/build.py {name} --measure --n {n}"
                   + (f" --n-reference {n_reference}" if n_reference else ""),
    }
    if "labels" in options:
        metrics["label_accuracy"] = conditional_accuracy(images, options["labels"],
                                                         dataset=recipe["dataset"])
    zoo.entry.update_metadata(folder, metrics=metrics)
    print(json.dumps({k: v for k, v in metrics.items() if k != "protocol"}, indent=2))


def table():
    """Markdown table of every entry's training budget and metrics."""
    names = sorted(n for n in os.listdir(ZOO) if os.path.isfile(os.path.join(ZOO, n, "metadata.json")))
    lines = ["| entry | variant | trained on | steps x batch | CPU / wall min | FID | KID "
             "| confident | modes | label acc. |", "|---" * 10 + "|"]
    for name in names:
        with open(os.path.join(ZOO, name, "metadata.json")) as f:
            meta = json.load(f)
        t, m = meta["training"], meta["metrics"]
        label = f"{m['label_accuracy']:.1%}" if "label_accuracy" in m else "-"
        lines.append(
            f"| {name} | {meta['class_name']} | {meta['backend']} | {t['steps']} x "
            f"{t['batch_size']} | {t['cpu_seconds'] / 60:.0f} / {t['wall_seconds'] / 60:.0f} "
            f"| {m.get('fid', float('nan')):.2f} | {m.get('kid', float('nan')):.4f} "
            f"| {m.get('confident_share', float('nan')):.1%} | {m.get('modes_covered', '-')} "
            f"| {label} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="an entry name, or 'table' to print all entries' numbers")
    parser.add_argument("--train", action="store_true", help="train from the recipe, then export")
    parser.add_argument("--export", action="store_true",
                        help="export an existing run (runs/zoo/<name>) without training")
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--n", type=int, default=10000, help="generated samples for the metrics")
    parser.add_argument("--n-reference", type=int, default=None,
                        help="test-split images (default: the whole split, 10,000)")
    args = parser.parse_args(argv)
    if args.name == "table":
        print(table())
        return
    recipe = read_recipe(args.name)
    run_dir = os.path.join(ROOT, "runs", "zoo", args.name)
    if args.train:
        train(args.name, recipe, run_dir)
    if args.train or args.export:
        export(args.name, recipe, run_dir)
    if args.measure:
        measure(args.name, recipe, args.n, args.n_reference)
    from keras_gans.zoo.entry import WEIGHTS_FILE
    from keras_gans.zoo.entry import sha256_of

    print(f"{args.name}: {WEIGHTS_FILE} sha256 "
          f"{sha256_of(os.path.join(ZOO, args.name, WEIGHTS_FILE))} (pin it in "
          "keras_gans/zoo/builtin.py)")


if __name__ == "__main__":
    sys.exit(main())

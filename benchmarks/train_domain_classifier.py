"""Train the domain classifiers used by ``keras_gans.metrics.classify_samples``.

Trains one small CNN per dataset on the real training set, evaluates it on
the real test set, and writes

* ``keras_gans/metrics/weights/<dataset>_classifier.weights.h5``
* ``benchmarks/results/domain_classifier.json`` (test accuracy, epochs,
  backend, wall time per dataset)

Runs on any Keras backend (``KERAS_BACKEND``; TensorFlow is the default here
because it is the fastest on CPU for this network: about 25 s per MNIST epoch
on 2 cores). Nothing is downloaded: the data come from
``keras_gans.datasets``.

Usage:
    python benchmarks/train_domain_classifier.py
    python benchmarks/train_domain_classifier.py --datasets mnist --epochs 2
"""
import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gans import datasets  # noqa: E402
from keras_gans.metrics.classifier import DomainClassifier, weights_path  # noqa: E402

DEFAULT_EPOCHS = {"mnist": 3, "fashion_mnist": 6}
TARGET_ACCURACY = {"mnist": 0.99, "fashion_mnist": 0.90}
RESULTS = os.path.join(REPO, "benchmarks", "results", "domain_classifier.json")


def train_one(name, epochs, batch_size, seed):
    keras.utils.set_random_seed(seed)
    x_train, y_train = datasets.load(name, "train", labels=True)
    x_test, y_test = datasets.load(name, "test", labels=True)
    steps = epochs * (len(x_train) // batch_size + 1)
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps,
                                                      alpha=0.05)
    model = DomainClassifier(dataset=name)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        shuffle=True, verbose=2)
    train_s = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000,
                                         verbose=0)
    path = weights_path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Save from a fresh, uncompiled copy: `save_weights` on the trained model
    # would also store the optimizer's slots (3x the size).
    export = DomainClassifier(dataset=name)
    export.set_weights(model.get_weights())
    export.save_weights(path)
    # Reload through the public API and check the saved file gives the same answer.
    reloaded = DomainClassifier.load(name)
    probs = reloaded.predict(x_test, batch_size=1000, verbose=0)
    reload_acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
    result = {
        "backend": keras.backend.backend(),
        "test_accuracy": round(float(test_acc), 5),
        "test_accuracy_reloaded": round(reload_acc, 5),
        "test_loss": round(float(test_loss), 5),
        "train_accuracy_last_epoch": round(float(history.history["accuracy"][-1]), 5),
        "target_accuracy": TARGET_ACCURACY[name],
        "meets_target": bool(test_acc >= TARGET_ACCURACY[name]),
        "epochs": epochs,
        "batch_size": batch_size,
        "train_images": int(len(x_train)),
        "test_images": int(len(x_test)),
        "params": int(model.count_params()),
        "train_wall_s": round(train_s, 1),
        "weights_file": os.path.relpath(path, REPO),
        "weights_bytes": os.path.getsize(path),
    }
    print(f"{name}: test accuracy {test_acc:.4f} (reloaded {reload_acc:.4f}), "
          f"{train_s:.0f} s", flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DEFAULT_EPOCHS),
                        choices=list(DEFAULT_EPOCHS))
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs for every dataset (default: "
                        + ", ".join(f"{k}={v}" for k, v in DEFAULT_EPOCHS.items())
                        + ")")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=RESULTS)
    args = parser.parse_args(argv)

    for name in args.datasets:
        datasets.check_available(name)

    start = time.perf_counter()
    report = {
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "seed": args.seed,
        "datasets": {},
    }
    if os.path.isfile(args.results):  # keep results of datasets not retrained
        with open(args.results) as fh:
            report["datasets"] = json.load(fh).get("datasets", {})
    for name in args.datasets:
        epochs = args.epochs or DEFAULT_EPOCHS[name]
        report["datasets"][name] = train_one(name, epochs, args.batch_size,
                                             args.seed)
    report["total_wall_s"] = round(time.perf_counter() - start, 1)
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    with open(args.results, "w") as fh:
        json.dump(report, fh, indent=2)
        fh.write("\n")
    print(json.dumps(report, indent=2))
    failed = [n for n in args.datasets if not report["datasets"][n]["meets_target"]]
    if failed:
        print(f"below target accuracy: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

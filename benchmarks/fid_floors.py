"""Real-vs-real FID/KID floors: MNIST train vs test, Fashion-MNIST train vs
test, and MNIST vs Fashion-MNIST (large), with the pinned protocol.

    KERAS_BACKEND=tensorflow python benchmarks/fid_floors.py --n 10000

Each set is a seeded random subset of N images of its split. Features are
cached (``$KERAS_GANS_CACHE/features``), so a rerun only redoes the
statistics. Writes benchmarks/results/fid_floors_n<N>.json.
"""
import argparse
import json
import os
import time


HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=25)
    args = parser.parse_args()
    import keras

    from keras_gans.metrics import Evaluator

    sets = [("mnist", "train"), ("mnist", "test"), ("fashion_mnist", "train"),
            ("fashion_mnist", "test")]
    features, seconds = {}, {}
    for name, split in sets:
        ev = Evaluator(("fid",), reference=name, split=split, n_reference=args.n,
                       seed=args.seed, batch_size=args.batch_size, verbose=1)
        t0 = time.perf_counter()
        print(f"{name}:{split}")
        features[f"{name}:{split}"] = ev.reference_features()
        seconds[f"{name}:{split}"] = round(time.perf_counter() - t0, 1)
    pairs = [("mnist:train", "mnist:test"), ("fashion_mnist:train", "fashion_mnist:test"),
             ("mnist:test", "fashion_mnist:test")]
    metrics = ("fid", "kid", "precision_recall", "density_coverage")
    results = []
    for a, b in pairs:
        ev = Evaluator(metrics, reference=features[a], seed=args.seed, verbose=0,
                       kid_subsets=100, kid_subset_size=min(1000, args.n))
        values = ev.compute(features[a], features[b])
        print(f"{b} vs {a}: " + ", ".join(f"{k}={v:.5g}" for k, v in values.items()), flush=True)
        results.append({"reference": a, "samples": b, **values})
    protocol = ev.protocol(args.n, "real images", features["mnist:test"], "see pairs")
    record = {
        "n_per_set": args.n,
        "subsets": f"seeded random subsets (numpy seed {args.seed}) of each split",
        "protocol": {**protocol.as_dict(), "backend": keras.backend.backend()},
        "pairs": results,
        "feature_seconds": seconds,
        "load_average": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    path = os.path.join(HERE, "results", f"fid_floors_n{args.n}.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

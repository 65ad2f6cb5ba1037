"""Where TensorFlow's fit() time goes, against the same compiled step fed by hand.

    KERAS_BACKEND=tensorflow python benchmarks/tf_fit_overhead.py --model wgangp

Times, in interleaved repeats of `--steps` steps each (every other repeat
in reverse order), on the benchmark's model (`performance.make_gan`):

- `fit`: `gan.fit(x)`, one epoch, as `performance.py` times ours;
- `fit_keras_function`: the same with Keras's own train function in place
  of ours (`backend.train_function`: one flat `tf.function`);
- `train_function`: our train function on the same tf.data pipeline that
  `fit()` builds for arrays, called in a plain loop (no callbacks, no
  per-call start);
- `keras_train_function`: Keras's, the same way;
- `prebatched`: our function on a pipeline of whole batches (no per-row
  shuffle: a lower bound for any input pipeline);
- `step`: `tf.function(gan.train_step)` on numpy slices of a fresh
  permutation, as the reference is fed;
- `reference`: the hand-written loop of `references.py`.

Prints steps/s medians and each one's ratio to `--baseline` (`step`;
ratio of medians, and the median of the per-repeat ratios), then writes
nothing: a probe for the ratio table of `performance.py`. Run it on an
idle machine. The A/B of README (16):
`--rows fit,fit_keras_function --baseline fit_keras_function --repeats 30`.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("dcgan", "wgangp"), default="wgangp")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--rows", help="comma list of the rows to time (default: all)")
    parser.add_argument("--baseline", default="step", help="the row the ratios divide by")
    args = parser.parse_args()
    from benchmarks.common import gan_and_reference
    from benchmarks.common import interleaved_rates

    gan, reference = gan_and_reference("tensorflow", args.model)
    import numpy as np
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    from benchmarks.performance import BATCH
    from keras_gans.backend.tf_data import no_autotune
    from keras_gans.backend.tf_data import small_array_dataset

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (args.steps * BATCH, 28, 28, 1)).astype("float32")
    gan.fit(x, batch_size=BATCH, epochs=1, verbose=0)
    train_function = gan.make_train_function()
    keras_function = TensorFlowTrainer._make_function(gan, gan.train_step)
    step = tf.function(gan.train_step)

    def fit_with(function):
        ours, gan.train_function = gan.train_function, function
        try:
            gan.fit(x, batch_size=BATCH, epochs=1, verbose=0)
        finally:
            gan.train_function = ours

    def slices(run_one):
        order = rng.permutation(len(x))
        for i in range(args.steps):
            logs = run_one(x[order[i * BATCH:(i + 1) * BATCH]])
        float(logs["g_loss"])

    def on_pipeline(dataset, function=train_function):
        iterator = iter(dataset)
        for _ in range(args.steps):
            logs = function(iterator)
        float(logs["g_loss"])

    batches = x.reshape(args.steps, BATCH, 28, 28, 1)
    runs = {
        "fit": lambda: gan.fit(x, batch_size=BATCH, epochs=1, verbose=0),
        "fit_keras_function": lambda: fit_with(keras_function),
        "train_function": lambda: on_pipeline(small_array_dataset(x, BATCH, shuffle=True)),
        "keras_train_function": lambda: on_pipeline(
            small_array_dataset(x, BATCH, shuffle=True), keras_function),
        "prebatched": lambda: on_pipeline(no_autotune(tf.data.Dataset.from_tensor_slices(batches))),
        "step": lambda: slices(lambda real: step(tf.convert_to_tensor(real))),
        "reference": lambda: slices(reference.step),
    }
    if args.rows:
        unknown = set(args.rows.split(",")) - set(runs)
        if unknown:
            raise SystemExit(f"error: unknown rows {sorted(unknown)}; choose from {list(runs)}.")
        runs = {name: runs[name] for name in args.rows.split(",")}
    if args.baseline not in runs:
        raise SystemExit(f"error: --baseline {args.baseline!r} is not among the rows {list(runs)}.")
    base = args.baseline
    rates = interleaved_rates(runs, args.repeats, args.steps)
    median = {name: statistics.median(v) for name, v in rates.items()}
    print(f"{args.model}, {args.steps} steps of batch {BATCH}, {args.repeats} interleaved repeats")
    print(f"{'':21s} {'steps/s':>8s} {'/ ' + base:>9s} {'paired':>7s}")
    for name in runs:
        paired = statistics.median(a / b for a, b in zip(rates[name], rates[base]))
        print(f"{name:21s} {median[name]:8.2f} {median[name] / median[base]:9.3f} {paired:7.3f}")


if __name__ == "__main__":
    main()

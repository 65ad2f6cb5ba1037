"""torch's host time per training step, where the kernels cost next to nothing.

    KERAS_BACKEND=torch python benchmarks/torch_host_overhead.py --model dcgan

On a GPU an eager torch step is host-bound: an H100 runs a DCGAN step's
kernels in ~1.7 ms while the host takes ~9 ms to issue them for the
hand-written reference (README (19)). So what decides the GPU ratio is
the host work per step, which this CPU machine shows too once the
tensors are tiny: the benchmark's networks (`performance.make_gan`) on
8x8x1 images at `--batch` rows. Times, in interleaved repeats of
`--steps` steps:

- `fit`: `gan.fit(x)`, one epoch, numpy input, as `performance.py` times ours;
- `train_step`: `gan.train_step` on tensor slices in a plain loop (no
  data adapter, no callbacks);
- `reference`: the hand-written loop of `references.py` on the same shapes;
- with `--keras-ops`, also `keras_ops`: the `train_step` loop with the
  backend's `float32_mean`, `row_norms` and `increment` swapped for their
  `keras.ops` versions (`keras_gans/backend/keras_ops.py`), i.e. what
  Keras's per-op dispatch costs in the losses and penalties.

Prints steps/s medians, milliseconds per step and each one's ratio to the
reference; writes nothing. Run it on an idle machine: single runs move by
a few points.
"""
import argparse
import functools
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("dcgan", "wgangp"), default="dcgan")
    parser.add_argument("--batch", type=int, default=None,
                        help="rows per step (default: 5 for DCGAN, 10 for WGAN-GP's 5 critic steps)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--keras-ops", action="store_true",
                        help="also time train_step with the keras.ops loss pieces")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np

    if keras.backend.backend() != "torch":
        raise SystemExit("error: run with KERAS_BACKEND=torch.")
    from benchmarks.common import interleaved_rates
    from benchmarks.performance import make_gan
    from benchmarks.references import make_reference

    batch = args.batch or (5 if args.model == "dcgan" else 10)
    gan = make_gan(args.model, image_shape=(8, 8, 1))
    reference = make_reference("torch", gan)
    steps = args.steps
    x = np.random.default_rng(0).uniform(-1, 1, (steps * batch, 8, 8, 1)).astype("float32")
    tensors = keras.ops.convert_to_tensor(x)

    def fit():
        gan.fit(x, batch_size=batch, verbose=0)

    def train_step():
        for i in range(steps):
            gan.train_step(tensors[i * batch:(i + 1) * batch])
        reference.sync()  # a CUDA synchronize, when there is one

    def hand_written():
        for i in range(steps):
            reference.step(x[i * batch:(i + 1) * batch])
        reference.sync()

    runs = {"fit": fit, "train_step": train_step, "reference": hand_written}
    if args.keras_ops:
        runs["keras_ops"] = functools.partial(_with_keras_ops, train_step)
    rates = interleaved_rates(runs, args.repeats, steps)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    print(f"{args.model}, 8x8x1, batch {batch}, {args.repeats} repeats of {steps} steps")
    for name, rate in medians.items():
        print(f"  {name:11s} {rate:7.1f} steps/s  {1e3 / rate:6.2f} ms/step  "
              f"{rate / medians['reference']:.3f}x the reference")
    if args.keras_ops:
        paired = sorted(a / b for a, b in zip(rates["train_step"], rates["keras_ops"]))
        print(f"  train_step / keras_ops, paired median: {statistics.median(paired):.3f}x")


def _with_keras_ops(run):
    from keras_gans import backend
    from keras_gans.backend import keras_ops

    names = ("float32_mean", "row_norms", "increment")
    ours = {name: getattr(backend, name) for name in names}
    try:
        for name in names:
            setattr(backend, name, getattr(keras_ops, name))
        run()
    finally:
        for name, function in ours.items():
            setattr(backend, name, function)


if __name__ == "__main__":
    main()

"""Our compiled JAX train step against the hand-written reference's, op by op.

    KERAS_BACKEND=jax python benchmarks/jax_step_profile.py --model wgangp

Compiles `gan.train_step` (as Keras's trainer jits it, state donated) and
the JAX reference of `references.py` on one batch, then prints:

- both programs' cost analysis (FLOPs, bytes) and their convolutions as a
  multiset of (output shape, window), with any difference marked;
- steps/s of each in a plain loop (interleaved repeats; no `fit()`),
  beside a twin of the reference (the same program, built apart): the
  ratio two identical programs read, i.e. what the loop can resolve;
- op time per step from `jax.profiler` traces, convolutions keyed by their
  shape and window (so the same convolution compares across the two
  programs whatever XLA named it), other ops by kind; largest differences
  first.

A probe for `performance.py`'s JAX rows; writes nothing. Run it on an
idle machine.
"""
import argparse
import collections
import glob
import os
import re
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CONV = re.compile(r"%([\w.-]+) = (f32\[[\d,]*\])\S* convolution\(.*?window=\{([^}]*)\}")
_FUSION_CALL = re.compile(r"%([\w.-]+) = .*? fusion\(.*calls=%([\w.-]+)")


def convolutions(hlo_text):
    """({convolution instruction: "shape window"}, the same with each
    fusion that holds one named by its calling instruction too)."""
    computations = re.split(r"\n(?=\S)", hlo_text)
    callers = {}
    for computation in computations:
        for match in _FUSION_CALL.finditer(computation):
            callers[match.group(2)] = match.group(1)
    instructions, names = {}, {}
    for computation in computations:
        head = re.match(r"(?:ENTRY )?%?([\w.-]+)", computation)
        for name, shape, window in _CONV.findall(computation):
            instructions[name] = names[name] = f"{shape} {window}"
            if head and head.group(1) in callers:
                names[callers[head.group(1)]] = instructions[name]
    return instructions, names


def op_times(jax, run, names, steps):
    """Milliseconds per step by convolution signature or op kind."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    folder = tempfile.mkdtemp(prefix="jax_step_profile_")
    try:
        with jax.profiler.trace(folder):
            for _ in range(steps):
                run()
        space = xplane_pb2.XSpace()
        path = glob.glob(folder + "/**/*.xplane.pb", recursive=True)[0]
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    totals = collections.Counter()
    for plane in space.planes:
        metadata = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            if line.name == "python":
                continue
            for event in line.events:
                name = metadata.get(event.metadata_id, "?")
                key = names.get(name) or "op " + re.sub(r"\.\d+$", "", name)
                totals[key] += event.duration_ps / 1e9 / steps
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("dcgan", "wgangp"), default="wgangp")
    parser.add_argument("--repeats", type=int, default=8, help="timed repeats of 30 steps")
    parser.add_argument("--profiles", type=int, default=4, help="traces of 15 steps each")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    from benchmarks.common import gan_and_reference
    from benchmarks.common import interleaved_rates

    gan, reference = gan_and_reference("jax", args.model)
    from benchmarks.references import make_reference

    twin = make_reference("jax", gan)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from benchmarks.performance import BATCH
    from benchmarks.performance import paired_ratio

    real = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (BATCH, 28, 28, 1)).astype("float32"))
    gan.fit(np.asarray(real), batch_size=BATCH, epochs=1, verbose=0)
    state = gan._get_jax_state(trainable_variables=True, non_trainable_variables=True,
                               optimizer_variables=True, metrics_variables=True,
                               purge_model_variables=False)
    state = [jax.tree_util.tree_map(jnp.copy, state)]
    ours = jax.jit(gan.train_step, donate_argnums=0)
    compiled = {"ours": ours.lower(state[0], real).compile(),
                "reference": reference._random.lower(reference.state, real).compile()}
    names, counts = {}, {}
    for side, program in compiled.items():
        cost = program.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        text = program.as_text()
        instructions, names[side] = convolutions(text)
        counts[side] = collections.Counter(instructions.values())
        print(f"{side}: {cost.get('flops', 0) / 1e9:.2f} GFLOP, "
              f"{cost.get('bytes accessed', 0) / 1e6:.0f} MB accessed, "
              f"{text.count(' fusion(')} fusions, {text.count(' convolution(')} convolutions")
    for signature in sorted(set(counts["ours"]) | set(counts["reference"])):
        a, b = counts["ours"][signature], counts["reference"][signature]
        print(f"  {a:3d} {b:3d}  {signature}{'' if a == b else '  <-- differs'}")

    def run_ours():
        logs, state[0] = ours(state[0], real)
        jax.block_until_ready(state[0])

    def run_reference():
        reference.state, logs = reference._random(reference.state, real)
        jax.block_until_ready(reference.state)

    def run_twin():
        twin.state, logs = twin._random(twin.state, real)
        jax.block_until_ready(twin.state)

    runs = {"ours": run_ours, "reference": run_reference}
    rates = interleaved_rates(
        {side: lambda run=run: [run() for _ in range(30)]
         for side, run in dict(runs, twin=run_twin).items()},
        args.repeats, 30)
    median = {side: statistics.median(v) for side, v in rates.items()}
    print("plain loop, steps/s: " + ", ".join(f"{side} {v:.2f}" for side, v in median.items()))
    for side in ("ours", "twin"):
        paired = paired_ratio(rates[side], rates["reference"])
        print(f"  {side} / reference: {median[side] / median['reference']:.3f} "
              f"(paired {paired['median']} [{paired['ci95'][0]}, {paired['ci95'][1]}])")

    totals = {side: collections.Counter() for side in runs}
    for _ in range(args.profiles):
        for side, run in runs.items():
            totals[side].update(op_times(jax, run, names[side], 15))
    keys = sorted(set(totals["ours"]) | set(totals["reference"]),
                  key=lambda k: -abs(totals["ours"][k] - totals["reference"][k]))
    print(f"op ms per step (mean of {args.profiles} traces), largest differences first:")
    for key in keys[:args.top]:
        a, b = (totals[side][key] / args.profiles for side in runs)
        print(f"  {key[:64]:64s} ours {a:7.3f}  reference {b:7.3f}")


if __name__ == "__main__":
    main()

"""Training speed of our GANs against hand-written loops, on every backend.

    python benchmarks/performance.py --backend all

For each backend a subprocess (KERAS_BACKEND set before Keras is imported)
measures, on DCGAN 28x28x1 (batch 64, base_filters 32, latent 100, no EMA)
and WGAN-GP (same networks without BatchNorm in the critic, n_critic 5):

- steps/s of ours, trained with `fit()` and Keras's default compilation
  (`compile()` with no arguments), from a numpy array and from
  `keras_gans.datasets.make_dataset` (tf.data), against the hand-written
  reference of `benchmarks/references.py` (same math, same initial
  weights), in interleaved repeats (ours-numpy, ours-dataset, reference, ...,
  `--repeats` times `--steps` steps, rotated and reversed in turn by
  `benchmarks.common.repeat_order`);
  min/median/max and the ratio of the medians ours/reference, and the
  paired ratio: the median of the per-repeat ratios with a bootstrap 95%
  interval (`paired_ratio`). On torch the reference is also timed with
  `torch.optim.Adam(fused=True)` (ours runs Adam as that fused kernel; the
  default reference uses torch's default CPU loop), and on JAX with
  `optax.adam` (the main JAX reference writes Keras's Adam rule in
  `jax.numpy`); that ratio is reported beside the main one. `--control`
  also times a twin of the reference (the same loop, built apart): what
  two identical loops read against each other, the run's resolution.
  Each repeat of ours is one `fit()` call (one
  epoch): its time includes fit's per-call start and end; the time inside
  the epoch (on_epoch_begin -> on_epoch_end) is reported beside it.
- the first step (trace/compile + one step) of ours and of the reference;
- peak RSS: `ru_maxrss` of the subprocess (it runs everything), and the
  highest RSS sampled (/proc/self/statm, every 10 ms) while ours and while
  the reference ran their timed steps;
- the sgemm peak of that backend in that run (best of 5 fp32 2048^3 matmuls)
  and the FLOPs of one step counted from the layer shapes (see
  `step_flops`), hence achieved GFLOP/s and the fraction of sgemm peak;
- a math check: with identical weights, batch, latents (and interpolation
  weights), one step of ours and of the reference give the same losses
  (d_loss, gp, and g_loss after the discriminator update) within
  1e-4 relative + 1e-5 absolute; the second step's difference is reported.

Then sampling throughput of our generator (`predict`, batch 256), and a
scaling table of ours (numpy input, one warm-up `fit()` then one timed
`fit()`): steps/s and RSS for batch 16, 64, 256, 512 at 28x28x1 (5 steps)
and images 64x64x3 (5 steps) and 128x128x3 (`--big-steps`, 2) at batch 64;
the scaling runs in the same process after everything else, so its RSS
includes what the earlier models left allocated. FID feature throughput is
quoted from benchmarks/results/fid_features.json
(benchmarks/fid_features.py), not rerun.

Writes benchmarks/results/performance.json and performance.md. About 8
minutes on the 2-core reference machine; `--steps 3 --repeats 1
--scaling-steps 1 --batches 16,64 --sizes 28` is a quick smoke run. Run it
on an idle machine: on 2 cores, any other load makes PyTorch's 2-thread
OpenMP kernels wait for a descheduled thread (~8 ms per op).
"""
import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import RESULTS  # noqa: E402
from benchmarks.common import nvidia_gpus  # noqa: E402
from benchmarks.common import repeat_order  # noqa: E402
from benchmarks.common import machine  # noqa: E402
from benchmarks.common import write_result  # noqa: E402

BACKENDS = ("tensorflow", "jax", "torch")
LATENT, BASE_FILTERS, BATCH = 100, 32, 64


# ------------------------------------------------------------------ counting


def forward_flops(network):
    """Multiply-adds x 2 of one image's forward pass through `network`,
    counted from its Dense, Conv2D and Conv2DTranspose layers (BatchNorm,
    activations and the optimizer are left out: a few percent).

    Dense: 2 * in * out; Conv2D: 2 * H_out * W_out * k * k * C_in * C_out;
    Conv2DTranspose: 2 * H_in * W_in * k * k * C_in * C_out."""
    import keras

    total = 0
    for layer in network.layers:
        if isinstance(layer, keras.layers.Dense):
            total += 2 * int(layer.input.shape[-1]) * int(layer.units)
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            kh, kw = layer.kernel_size
            _, hi, wi, ci = (int(d) if d else 0 for d in layer.input.shape)
            _, ho, wo, co = (int(d) if d else 0 for d in layer.output.shape)
            if isinstance(layer, keras.layers.Conv2DTranspose):
                total += 2 * hi * wi * kh * kw * ci * co
            else:
                total += 2 * ho * wo * kh * kw * ci * co
    return total


def step_flops(gan, batch):
    """FLOPs of one train step: every differentiated pass counts 3x its
    forward (forward + input and weight gradients), an undifferentiated one
    1x, a gradient-penalty pass 6x (forward and input gradient, 2x, then
    differentiated, 3x). Per critic update on `b = batch // n_critic` images:
    G forward (1x) + D on real (3x) + D on fake (3x) [+ D on interpolates
    (6x)]; the generator update: G (3x) + D (3x). Slightly high: the first
    layer's input gradient is not needed on real images."""
    g, d = forward_flops(gan.generator), forward_flops(gan.discriminator)
    n = gan.n_critic
    b = batch // n
    gp = 6 if gan.penalties else 0
    return n * b * (g + d * (3 + 3 + gp)) + b * (3 * g + 3 * d)


# ------------------------------------------------------------------- helpers


class PeakRSS:
    """Highest resident set size (MiB) sampled every `interval` seconds."""

    def __init__(self, interval=0.01):
        self.interval, self.peak = interval, 0.0
        self._page = os.sysconf("SC_PAGE_SIZE") / 2**20

    def _read(self):
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._stop = threading.Event()
        self.peak = self._read()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())


def ru_maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(values):
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def paired_ratio(ours, reference, resamples=2000):
    """Median of the per-repeat ratios ours[i] / reference[i] and a
    bootstrap 95% interval of that median: the machine's speed drifts
    between repeats, and a ratio within one repeat cancels most of it.

    >>> paired_ratio([2.0, 4.0, 3.0], [2.0, 4.0, 3.0])
    {'median': 1.0, 'ci95': [1.0, 1.0], 'repeats': 3}
    """
    import numpy as np

    from keras_gans.metrics import bootstrap_interval

    ratios = np.asarray(ours) / np.asarray(reference)
    low, high = bootstrap_interval(ratios, np.median, resamples)
    return {"median": round(float(np.median(ratios)), 3),
            "ci95": [round(float(low), 3), round(float(high), 3)], "repeats": len(ratios)}


def sgemm_peak(backend, n=2048, reps=5):
    """Best GFLOP/s of an fp32 n x n matmul on `backend`."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n)).astype("float32")
    if backend == "tensorflow":
        import tensorflow as tf
        x = tf.constant(a)
        run = lambda: tf.linalg.matmul(x, x).numpy()  # noqa: E731
    elif backend == "jax":
        import jax
        x = jax.numpy.asarray(a)
        mm = jax.jit(lambda u: u @ u)
        run = lambda: mm(x).block_until_ready()  # noqa: E731
    else:
        import torch
        from keras.src.backend.torch.core import get_device

        x = torch.from_numpy(a).to(get_device())
        cuda = x.device.type == "cuda"
        run = lambda: (torch.mm(x, x), cuda and torch.cuda.synchronize())  # noqa: E731
    run()
    best = min(_timed(run) for _ in range(reps))
    return round(2 * n**3 / best / 1e9, 1)


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Time inside the epoch (epoch hooks only: no per-batch sync)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.t0

    return EpochTimer()


def make_gan(kind, image_shape=(28, 28, 1), seed=0):
    from keras_gans.models import DCGAN
    from keras_gans.models import WGANGP

    cls = {"dcgan": DCGAN, "wgangp": WGANGP}[kind]
    gan = cls(image_shape=image_shape, latent_dim=LATENT, base_filters=BASE_FILTERS,
              seed=seed, ema_decay=None)
    gan.compile()
    return gan


# --------------------------------------------------------------- math check


def math_check(backend, kind, steps=2, **reference_options):
    """Losses of `steps` steps of ours and of the reference from the same
    weights, batch and draws (ours' latent and interpolation draws are
    replaced by the fixed arrays the reference gets)."""
    with _full_float32(backend):
        return _math_check(backend, kind, steps, **reference_options)


@contextlib.contextmanager
def _full_float32(backend):
    """Plain float32 products on a GPU, whose default (TF32 in cuDNN, XLA,
    TF) rounds the two sides' different kernels differently."""
    if backend == "torch":
        import torch

        flags = (torch.backends.cuda.matmul, torch.backends.cudnn)
        saved = [f.allow_tf32 for f in flags]
        for f in flags:
            f.allow_tf32 = False
        try:
            yield
        finally:
            for f, value in zip(flags, saved):
                f.allow_tf32 = value
    elif backend == "jax":
        import jax

        with jax.default_matmul_precision("highest"):
            yield
    else:
        import tensorflow as tf

        saved = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(saved)


def _math_check(backend, kind, steps, **reference_options):
    import numpy as np
    from keras import ops

    from benchmarks.references import make_reference
    from keras_gans import regularizers

    gan = make_gan(kind, seed=1)
    ref = make_reference(backend, gan, **reference_options)
    rng = np.random.default_rng(1)
    n = gan.n_critic
    b = BATCH // n
    x = rng.uniform(-1, 1, (BATCH, 28, 28, 1)).astype("float32")
    latents = [rng.standard_normal((b, LATENT)).astype("float32") for _ in range(n + 1)]
    alphas = [rng.uniform(0, 1, (b, 1, 1, 1)).astype("float32") for _ in range(n)]
    ref_logs = [ref.step_with(x, latents, alphas if kind == "wgangp" else ()) for _ in range(steps)]

    draws = {"z": 0, "a": 0}

    def fixed_latents(batch_size):
        i = draws["z"] % (n + 1)
        draws["z"] += 1
        assert int(batch_size) == b
        return ops.convert_to_tensor(latents[i])

    def fixed_alphas(images, seed):
        i = draws["a"] % n
        draws["a"] += 1
        return ops.convert_to_tensor(alphas[i])

    original = regularizers._interpolation_weights
    gan.sample_latent = fixed_latents
    regularizers._interpolation_weights = fixed_alphas
    try:
        hist = gan.fit(x, batch_size=BATCH, epochs=steps, shuffle=False, verbose=0).history
    finally:
        regularizers._interpolation_weights = original
    rows, ok = [], True
    worst = [{"abs": 0.0, "rel": 0.0} for _ in range(steps)]
    for step in range(steps):
        for key, ref_value in ref_logs[step].items():
            ours = float(hist[key][step])
            diff = abs(ours - ref_value)
            worst[step]["abs"] = max(worst[step]["abs"], diff)
            worst[step]["rel"] = max(worst[step]["rel"], diff / max(abs(ref_value), 1e-12))
            if step == 0:
                ok &= diff <= 1e-4 * abs(ref_value) + 1e-5
            rows.append({"step": step + 1, "loss": key, "ours": ours, "reference": ref_value})
    return {"pass": bool(ok),
            "criterion": "step 1 (D update, then G loss on the updated D): "
                         "|ours - ref| <= 1e-4 |ref| + 1e-5 for every loss",
            "max_rel_diff": float(f"{worst[0]['rel']:.3g}"),
            "max_abs_diff": float(f"{worst[0]['abs']:.3g}"),
            "max_rel_diff_later_steps": [float(f"{w['rel']:.3g}") for w in worst[1:]],
            "losses": rows}


# ------------------------------------------------------------------ timing


def _has_optax():
    import importlib.util

    if importlib.util.find_spec("optax") is None:
        print("optax is not installed: the JAX reference runs its jax.numpy Adam only",
              file=sys.stderr)
        return False
    return True


def time_model(backend, kind, steps, repeats, inputs, fast_conv_gradients=True, control=False):
    import numpy as np

    from benchmarks.references import make_reference
    from keras_gans.datasets import make_dataset

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (steps * BATCH, 28, 28, 1)).astype("float32")
    gan = make_gan(kind)
    ref = make_reference(backend, gan, fast_conv_gradients=fast_conv_gradients)
    # A second hand-written loop, timed beside the main one. torch: ours runs
    # Adam as one fused kernel (keras_gans.backend.torch_impl), the main
    # reference torch.optim.Adam's default CPU loop, so the same loop with
    # fused=True. JAX: the main reference writes Keras's Adam rule in
    # jax.numpy (for the math check); JAX users write optax.adam.
    extras = {}
    if backend == "torch":
        extras["fused_adam"] = make_reference(backend, gan, torch_adam="fused")
    elif backend == "jax" and _has_optax():
        extras["optax_adam"] = make_reference(
            backend, gan, fast_conv_gradients=fast_conv_gradients, jax_adam="optax")
    if control:
        # A twin of the main reference (the same program, compiled apart):
        # what two identical loops read against each other in this run.
        extras["control"] = make_reference(backend, gan, fast_conv_gradients=fast_conv_gradients)
    flops = step_flops(gan, BATCH)

    t_ours = _timed(lambda: gan.fit(x[:BATCH], batch_size=BATCH, epochs=1, verbose=0))

    def ref_steps(count, ref=ref):
        idx = rng.permutation(len(x))
        for i in range(count):
            logs = ref.step(x[idx[i * BATCH:(i + 1) * BATCH]])
        ref.sync()
        float(logs["g_loss"])

    t_ref = _timed(lambda: ref_steps(1))
    dataset = None
    if "dataset" in inputs:
        dataset, _ = make_dataset(x, BATCH, seed=0)
        gan.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)  # warm-up
    gan.fit(x[:2 * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    ref_steps(2)
    for extra in extras.values():
        ref_steps(2, extra)

    runs = {name: [] for name in inputs}
    runs["reference"] = []
    for name in extras:
        runs["reference_" + name] = []
    inside = {name: [] for name in inputs}
    peaks = {"ours": 0.0, "reference": 0.0}
    def run_ours(name):
        timer = _epoch_timer()
        if name == "numpy":
            fit = lambda: gan.fit(x, batch_size=BATCH, epochs=1, verbose=0,  # noqa: E731
                                  callbacks=[timer])
        else:
            fit = lambda: gan.fit(dataset, steps_per_epoch=steps, epochs=1,  # noqa: E731
                                  verbose=0, callbacks=[timer])
        with PeakRSS() as rss:
            seconds = _timed(fit)
        peaks["ours"] = max(peaks["ours"], rss.peak)
        runs[name].append(steps / seconds)
        inside[name].append(steps / timer.seconds)

    def run_reference():
        with PeakRSS() as rss:
            seconds = _timed(lambda: ref_steps(steps))
        peaks["reference"] = max(peaks["reference"], rss.peak)
        runs["reference"].append(steps / seconds)

    def run_extra(name):
        runs["reference_" + name].append(steps / _timed(lambda: ref_steps(steps, extras[name])))

    # Each extra loop has its own slot in the rotation (see `repeat_order`).
    order = ([lambda name=name: run_ours(name) for name in inputs]
             + [lambda name=name: run_extra(name) for name in extras] + [run_reference])
    for repeat in range(repeats):
        for run in repeat_order(order, repeat):
            run()

    ref_median = statistics.median(runs["reference"])
    out = {
        "model": kind, "batch": BATCH, "steps_per_repeat": steps, "repeats": repeats,
        "ours_jit_compile": bool(gan.jit_compile),
        "step_gflop": round(flops / 1e9, 3),
        "first_step_seconds": {"ours": round(t_ours, 2), "reference": round(t_ref, 2)},
        "steps_per_second": {k: summary(v) for k, v in runs.items()},
        "steps_per_second_inside_epoch": {k: summary(v) for k, v in inside.items()},
        "ratio_ours_over_reference": {k: round(statistics.median(runs[k]) / ref_median, 3)
                                      for k in inputs},
        "paired_ratio": {k: paired_ratio(runs[k], runs["reference"]) for k in inputs},
        **{key: value for name in extras if name != "control" for key, value in (
            ("ratio_ours_over_reference_" + name, {
                k: round(statistics.median(runs[k]) / statistics.median(runs["reference_" + name]), 3)
                for k in inputs}),
            ("paired_ratio_" + name, {k: paired_ratio(runs[k], runs["reference_" + name])
                                      for k in inputs}))},
        **({"control_ratio": {
            "median": round(statistics.median(runs["reference_control"]) / ref_median, 3),
            "paired": paired_ratio(runs["reference_control"], runs["reference"])}} if control else {}),
        "gflops_per_second": {k: round(flops * statistics.median(v) / 1e9, 1)
                              for k, v in runs.items()},
        "peak_rss_sampled_mib": {k: round(v) for k, v in peaks.items()},
    }
    if backend == "jax" and fast_conv_gradients:
        out["reference_conv_gradients"] = "strided convs (the same routes as ours)"
    return out, gan


def sampling(gan, n=2048, batch=256):
    import numpy as np

    z = np.random.default_rng(0).standard_normal((n, LATENT)).astype("float32")
    gan.generator.predict(z[:batch], batch_size=batch, verbose=0)
    seconds = _timed(lambda: gan.generator.predict(z, batch_size=batch, verbose=0))
    return {"batch": batch, "images": n, "images_per_second": round(n / seconds, 1)}


def scaling(backend, batches, sizes, steps, big_steps):
    import numpy as np

    rows = []
    configs = [(28, b) for b in batches] + [(s, BATCH) for s in sizes if s != 28]
    for size, batch in configs:
        n_steps = big_steps if size > 64 else steps
        shape = (size, size, 1 if size == 28 else 3)
        x = np.random.default_rng(0).uniform(-1, 1, (n_steps * batch,) + shape).astype("float32")
        gan = make_gan("dcgan", image_shape=shape)
        timer = _epoch_timer()
        with PeakRSS() as rss:
            first = _timed(lambda: gan.fit(x[:batch], batch_size=batch, epochs=1, verbose=0))
            seconds = _timed(lambda: gan.fit(x, batch_size=batch, epochs=1, verbose=0,
                                             callbacks=[timer]))
        flops = step_flops(gan, batch)
        rows.append({"image": "x".join(map(str, shape)), "batch": batch, "steps": n_steps,
                     "first_step_seconds": round(first, 2),
                     "steps_per_second": round(n_steps / seconds, 3),
                     "steps_per_second_inside_epoch": round(n_steps / timer.seconds, 3),
                     "images_per_second": round(n_steps * batch / seconds, 1),
                     "gflops_per_second": round(flops * n_steps / seconds / 1e9, 1),
                     "step_gflop": round(flops / 1e9, 2),
                     "peak_rss_sampled_mib": round(rss.peak),
                     "ru_maxrss_after_mib": round(ru_maxrss_mib())})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        gan = x = None  # free them before the next configuration
    return rows


def child(args):
    import keras

    backend = keras.backend.backend()
    load = [round(os.getloadavg()[0], 2)]
    t_start = time.perf_counter()
    peak = sgemm_peak(backend)
    out = {"backend": backend, "sgemm_gflops": peak, "models": {}}
    for kind, inputs, repeats in (("dcgan", ("numpy", "dataset"), args.repeats),
                                  ("wgangp", ("numpy",), max(1, args.repeats - 2))):
        timing, gan = time_model(backend, kind, args.steps, repeats, inputs, control=args.control)
        for k, v in timing["gflops_per_second"].items():
            timing.setdefault("fraction_of_sgemm_peak", {})[k] = round(v / peak, 3)
        if backend == "torch":
            # torch.optim.Adam adds epsilon elsewhere than Keras: the check
            # is made with Keras's rule in torch, torch's Adam is reported.
            timing["math_check"] = math_check(backend, kind, torch_adam="keras_rule")
            timing["math_check"]["optimizer"] = "Keras's Adam rule in torch ops"
            plain = math_check(backend, kind)
            timing["math_check_torch_optim_adam"] = {
                k: plain[k] for k in ("pass", "max_rel_diff", "max_rel_diff_later_steps")}
        else:
            timing["math_check"] = math_check(backend, kind)
        if backend == "jax" and _has_optax():
            check = math_check(backend, kind, jax_adam="optax")
            timing["math_check_optax_adam"] = {
                k: check[k] for k in ("pass", "max_rel_diff", "max_rel_diff_later_steps")}
        out["models"][kind] = timing
        print(json.dumps({kind: {k: timing[k] for k in ("steps_per_second", "ratio_ours_over_reference",
                                                        "paired_ratio")}}),
              file=sys.stderr, flush=True)
        if kind == "dcgan":
            out["sampling"] = sampling(gan)
        del gan
    if backend == "jax" and args.jax_plain_reference:
        out["jax_reference_with_xla_conv_gradients"] = {}
        for kind in ("dcgan", "wgangp"):
            timing, _ = time_model(backend, kind, args.steps, 3, ("numpy",), fast_conv_gradients=False)
            out["jax_reference_with_xla_conv_gradients"][kind] = {
                "steps_per_second": timing["steps_per_second"]["reference"],
                "ours_numpy": timing["steps_per_second"]["numpy"],
                "ratio": timing["ratio_ours_over_reference"]["numpy"]}
    out["ru_maxrss_mib_before_scaling"] = round(ru_maxrss_mib())
    out["scaling"] = scaling(backend, args.batches, args.sizes, args.scaling_steps, args.big_steps)
    load.append(round(os.getloadavg()[0], 2))
    out["load_average_start_end"] = load
    out["ru_maxrss_mib"] = round(ru_maxrss_mib())
    out["wall_seconds"] = round(time.perf_counter() - t_start)
    print("RESULT" + json.dumps(out))


# -------------------------------------------------------------------- report


SECOND_REFERENCES = {
    "fused_adam": "torch, against the same hand-written loop with `torch.optim.Adam(fused=True)` "
                  "(ours runs Adam as that fused kernel; the reference above uses torch.optim.Adam's "
                  "default, a loop over the parameters on CPU)",
    "optax_adam": "JAX, against the same hand-written loop with `optax.adam` (the reference above "
                  "writes Keras's Adam rule in jax.numpy)",
}


def markdown(result):
    lines = ["# Training speed: ours vs hand-written loops", "",
             f"Machine: {result['machine']}. {result['date']}. Command: `{result['command']}`.", "",
             "DCGAN 28x28x1 (batch 64, base_filters 32, latent 100, no EMA) and WGAN-GP "
             "(n_critic 5, GP 10); steps/s median of interleaved repeats (min-max); ratio = "
             "median ours / median reference; ours = one `fit()` call per repeat.", "",
             "| backend | model | ours numpy | ours dataset | reference | ratio numpy | ratio dataset "
             "| first step ours / ref (s) | GFLOP/s ours / ref | of sgemm peak | sgemm GFLOP/s "
             "| RSS ours / ref (MiB) | math check |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b in result["backends"]:
        for kind, m in b["models"].items():
            sps = m["steps_per_second"]
            cell = lambda k: (f"{sps[k]['median']:.2f} ({sps[k]['min']:.2f}-{sps[k]['max']:.2f})"  # noqa: E731
                              if k in sps else "-")
            ratio = m["ratio_ours_over_reference"]
            frac = m["fraction_of_sgemm_peak"]
            gf = m["gflops_per_second"]
            mc = m["math_check"]
            lines.append(
                f"| {b['backend']} | {kind} | {cell('numpy')} | {cell('dataset')} | {cell('reference')} "
                f"| {ratio.get('numpy', '-')} | {ratio.get('dataset', '-')} "
                f"| {m['first_step_seconds']['ours']} / {m['first_step_seconds']['reference']} "
                f"| {gf['numpy']} / {gf['reference']} | {frac['numpy']:.0%} / {frac['reference']:.0%} "
                f"| {b['sgemm_gflops']} "
                f"| {m['peak_rss_sampled_mib']['ours']} / {m['peak_rss_sampled_mib']['reference']} "
                f"| {'pass' if mc['pass'] else 'FAIL'} (rel {mc['max_rel_diff']:.1e}) |")
    for name, text in SECOND_REFERENCES.items():
        rows = [(kind, m) for b in result["backends"] for kind, m in b["models"].items()
                if "ratio_ours_over_reference_" + name in m]
        if rows:
            lines += ["", text + ": " + "; ".join(
                f"{kind} {m['steps_per_second']['reference_' + name]['median']:.2f} steps/s, "
                f"ratio numpy {m['ratio_ours_over_reference_' + name].get('numpy', '-')}, "
                f"dataset {m['ratio_ours_over_reference_' + name].get('dataset', '-')}"
                for kind, m in rows)]
    controls = [(b["backend"], kind, m["control_ratio"]) for b in result["backends"]
                for kind, m in b["models"].items() if "control_ratio" in m]
    if controls:
        lines += ["", "Control (`--control`): a twin of the reference (the same loop, built and "
                  "compiled apart) in its own slot, twin / reference; identical programs, so this "
                  "is the run's resolution: " + "; ".join(
                      f"{backend} {kind} {c['median']} (paired {c['paired']['median']} "
                      f"[{c['paired']['ci95'][0]}, {c['paired']['ci95'][1]}])"
                      for backend, kind, c in controls)]
    plain = [(b["backend"], kind, m) for b in result["backends"]
             for kind, m in b.get("jax_reference_with_xla_conv_gradients", {}).items()]
    if plain:
        lines += ["", "JAX, against the references with XLA's own convolution gradients "
                  "(`--jax-plain-reference`: what a hand-written `lax.conv` loop gets; 3 repeats): "
                  + "; ".join(f"{kind} reference {m['steps_per_second']['median']:.2f} steps/s, "
                              f"ours {m['ours_numpy']['median']:.2f}, ratio {m['ratio']}"
                              for _, kind, m in plain)]
    lines += ["", "Paired ratio (median of per-repeat ours / reference, bootstrap 95% interval; "
              "1.0 inside the interval = no difference this run can resolve): "
              + "; ".join(f"{b['backend']} {kind} " + ", ".join(
                  f"{i} {r['median']} [{r['ci95'][0]}, {r['ci95'][1]}]" for i, r in m["paired_ratio"].items())
                  + "".join(f" (against {name.replace('_', ' ')}: " + ", ".join(
                      f"{i} {r['median']} [{r['ci95'][0]}, {r['ci95'][1]}]"
                      for i, r in m["paired_ratio_" + name].items()) + ")"
                      for name in SECOND_REFERENCES if "paired_ratio_" + name in m)
                  for b in result["backends"] for kind, m in b["models"].items() if "paired_ratio" in m)]
    lines += ["", "Inside the epoch (fit()'s per-call start/end excluded), steps/s median: "
              + "; ".join(f"{b['backend']} {k} "
                          + ", ".join(f"{i} {v['median']:.2f}" for i, v in m["steps_per_second_inside_epoch"].items())
                          for b in result["backends"] for k, m in b["models"].items()), ""]
    lines += ["## Scaling (ours, DCGAN, numpy input)", "",
              "| backend | image | batch | timed steps | steps/s | inside epoch | images/s | GFLOP/s | first step (s) | peak RSS (MiB) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for b in result["backends"]:
        for r in b["scaling"]:
            lines.append(f"| {b['backend']} | {r['image']} | {r['batch']} | {r['steps']} | {r['steps_per_second']} | {r['steps_per_second_inside_epoch']} "
                         f"| {r['images_per_second']} | {r['gflops_per_second']} | {r['first_step_seconds']} "
                         f"| {r['peak_rss_sampled_mib']} |")
    lines += ["", "## Sampling and FID features", "",
              "| backend | generator.predict images/s (batch 256) | FID features images/s |", "|---|---|---|"]
    fid = result.get("fid_features", {})
    for b in result["backends"]:
        lines.append(f"| {b['backend']} | {b['sampling']['images_per_second']} | {fid.get(b['backend'], '-')} |")
    lines += ["", "Load average (start, end) per backend: "
              + ", ".join(f"{b['backend']} {b['load_average_start_end']}" for b in result["backends"]), ""]
    return "\n".join(lines)


def _fid_features():
    """{backend: images/s} from fid_features.py's last result, {} without one."""
    try:
        with open(os.path.join(RESULTS, "fid_features.json")) as f:
            return {r["backend"]: r["images_per_second"] for r in json.load(f)["results"]}
    except (OSError, KeyError, ValueError):
        return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="all", help="tensorflow, jax, torch, a comma list or all")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats (WGAN-GP: 2 fewer)")
    parser.add_argument("--scaling-steps", type=int, default=5)
    parser.add_argument("--big-steps", type=int, default=2, help="timed steps for images larger than 64")
    parser.add_argument("--batches", default="16,64,256,512")
    parser.add_argument("--sizes", default="28,64,128", help="image sides for the scaling table (batch 64)")
    parser.add_argument("--jax-plain-reference", action="store_true",
                        help="also time the JAX reference with XLA's own transposed-conv gradient")
    parser.add_argument("--control", action="store_true",
                        help="also time a twin of each reference: the ratio identical loops read")
    parser.add_argument("--output", default="performance")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        return child(args)
    backends = BACKENDS if args.backend == "all" else tuple(args.backend.split(","))
    results = []
    for backend in backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        cmd = [sys.executable, os.path.abspath(__file__), "--child"] + sys.argv[1:]
        print(f"== {backend}", flush=True)
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
        if proc.returncode or "RESULT" not in proc.stdout:
            sys.exit(f"{backend} failed (exit {proc.returncode})")
        results.append(json.loads(proc.stdout.split("RESULT", 1)[1]))
    # fid_features.json holds the CPU machine's numbers.
    fid = {} if nvidia_gpus() else _fid_features()
    result = {
        "what": "steps/s of our fit() vs hand-written training loops (benchmarks/references.py)",
        "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python benchmarks/performance.py " + " ".join(sys.argv[1:]),
        "fid_features": fid, "fid_features_source": "benchmarks/results/fid_features.json",
        "backends": results,
    }
    write_result(f"{args.output}.json", result)
    with open(os.path.join(RESULTS, f"{args.output}.md"), "w") as f:
        f.write(markdown(result))


if __name__ == "__main__":
    main()

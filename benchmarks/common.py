"""What every benchmark script shares: where results go and how the
machine is described next to them."""
import json
import os
import platform
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")


def machine():
    """The CPU, its core count and the load average when the result was
    taken (other programs on the machine slow wall-clock numbers)."""
    cpu = platform.processor() or platform.machine()
    gpus = nvidia_gpus()
    return (f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
            + (f"; {', '.join(gpus)}" if gpus else ""))


def nvidia_gpus():
    """`nvidia-smi -L`'s GPU names ([] without an NVIDIA driver)."""
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":", 1)[1].split("(UUID")[0].strip()
            for line in listing.splitlines() if line.startswith("GPU ")]


def write_result(filename, result):
    """Writes `result` to benchmarks/results/`filename` and prints it."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, filename), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


def add_clock_argument(parser, default="cpu"):
    """`--clock`: what a benchmark's minutes count (see
    `keras_gans.callbacks.TimeBudget`)."""
    parser.add_argument("--clock", choices=("cpu", "wall"), default=default,
                        help="what the minutes count: this process's CPU time "
                             "(immune to other load) or wall time")


def gan_and_reference(backend, model):
    """`performance.py`'s `model` ("dcgan" or "wgangp") and the hand-written
    reference of `references.py` on `backend`, for the probes that compare
    the two; exits with a message unless Keras runs `backend`."""
    os.environ.setdefault("KERAS_BACKEND", backend)
    import keras

    if keras.backend.backend() != backend:
        raise SystemExit(f"error: run with KERAS_BACKEND={backend}.")
    from benchmarks.performance import make_gan
    from benchmarks.references import make_reference

    gan = make_gan(model)
    return gan, make_reference(backend, gan)


def repeat_order(slots, repeat):
    """The order of `slots` in repeat number `repeat` of an interleaved
    timing: rotated by one place every two repeats, and every other repeat
    reversed. Over 2 * len(slots) repeats each slot takes each position
    equally often, both ways round, so no slot always follows another or
    itself (here a loop timed right after a given other one read 2-4%
    faster, and a forward-and-reverse order alone leaves the middle slots
    always between two others) and a drift within a repeat cancels out.

    >>> [repeat_order("abc", r) for r in range(4)]
    [['a', 'b', 'c'], ['c', 'b', 'a'], ['b', 'c', 'a'], ['a', 'c', 'b']]
    """
    slots = list(slots)
    shift = (repeat // 2) % len(slots)
    order = slots[shift:] + slots[:shift]
    return order if repeat % 2 == 0 else order[::-1]


def interleaved_rates(runs, repeats, steps):
    """{name: [steps/s per repeat]} for `runs` ({name: callable that runs
    `steps` steps}): each is called once to warm up, then once per repeat,
    in `repeat_order`."""
    import time

    for run in runs.values():
        run()
    rates = {name: [] for name in runs}
    for repeat in range(repeats):
        for name in repeat_order(runs, repeat):
            start = time.perf_counter()
            runs[name]()
            rates[name].append(steps / (time.perf_counter() - start))
    return rates

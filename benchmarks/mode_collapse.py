"""Mode collapse, measured: modes covered by the minimax (saturating) loss
against the non-saturating loss and WGAN-GP, 3 seeds each.

    KERAS_BACKEND=jax python benchmarks/mode_collapse.py --steps 800

Same DCGAN networks (width 32, BatchNorm-free critic for all three so that
only the objective differs), batch 64, the same number of generator steps;
1,000 samples per run judged by the MNIST domain classifier (a mode is
covered when it gets at least 1% of the confidently classified samples).
Writes benchmarks/results/mode_collapse.json.
"""
import argparse
import json
import time

import keras

from keras_gans import datasets
from keras_gans import models
from keras_gans.core import sample_latents
from common import machine
from common import write_result
from variants import judge

SETTINGS = {
    "minimax": dict(cls="DCGAN", loss="minimax"),
    "non_saturating": dict(cls="DCGAN", loss="non_saturating"),
    "wgan_gp": dict(cls="WGANGP"),
}


def run(setting, seed, steps, d_lr=None):
    spec = dict(SETTINGS[setting])
    cls = getattr(models, spec.pop("cls"))
    gan = cls(latent_dim=100, base_filters=32, discriminator_batch_norm=False,
              seed=seed, **spec)
    if d_lr and not isinstance(gan, models.WGANGP):
        # A discriminator that learns faster than its generator, where the
        # saturating loss stops giving the generator a gradient.
        gan.compile(d_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5))
    else:
        gan.compile()
    images = datasets.load("mnist", split="train")
    data, _ = datasets.make_dataset(images, 64, seed=seed)
    start = time.perf_counter()
    gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    wall = time.perf_counter() - start
    samples = gan.generate(latents=sample_latents(1000, gan.latent_dim, seed=1000 + seed))
    return {"setting": setting, "seed": seed, "steps": steps,
            "wall_seconds": round(wall, 1), **judge(samples, "mnist")}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--d-lr", type=float, default=None,
                        help="discriminator Adam learning rate of the two DCGAN settings "
                             "(default 2e-4, the generator's); WGAN-GP keeps its own")
    args = parser.parse_args()
    runs = []
    for setting in args.settings:
        for seed in args.seeds:
            runs.append(run(setting, seed, args.steps, args.d_lr))
            print(json.dumps(runs[-1]))
    summary = {
        s: {
            "modes_covered": [r["modes_covered"] for r in runs if r["setting"] == s],
            "confident_share": [r["confident_share"] for r in runs if r["setting"] == s],
        }
        for s in args.settings
    }
    result = {"backend": keras.backend.backend(), "machine": machine(),
              "batch_size": 64, "discriminator_lr": args.d_lr or 2e-4,
              "runs": runs, "summary": summary}
    suffix = f"_dlr{args.d_lr:g}" if args.d_lr else ""
    write_result(f"mode_collapse{suffix}.json", result)


if __name__ == "__main__":
    main()

"""Trains DCGAN on real MNIST under a wall-clock budget and judges the samples.

    KERAS_BACKEND=jax python benchmarks/train_dcgan_mnist.py --minutes 10

Writes benchmarks/results/dcgan_mnist_<backend>.json and
examples/dcgan_mnist_<backend>.png. Judged by the committed domain
classifier on 1,000 samples from numpy latents: the share classified with
probability > 0.9 and the class histogram (mode coverage).
"""
import argparse
import os
import time

import keras

from keras_gans import datasets
from keras_gans.callbacks import TimeBudget
from keras_gans.regularizers import R1Penalty
from keras_gans.core import sample_latents
from keras_gans.metrics import classify_samples
from keras_gans.models import DCGAN
from keras_gans.models import SelfConditionedGAN
from keras_gans.networks import dcgan_discriminator
from keras_gans.networks import dcgan_generator
from keras_gans.utils import plot_history
from keras_gans.utils import save_grid
from common import ROOT
from common import add_clock_argument
from common import machine
from common import write_result



class TopKDCGAN(DCGAN):
    """Top-k training (Sinha et al., NeurIPS 2020), a probe: the generator's
    loss uses only the fakes the discriminator scores highest, the top
    `max(min_fraction, decay ** epochs)` of the batch (epochs counted in
    generator steps / `steps_per_epoch`)."""

    def __init__(self, *args, top_k_min=0.5, top_k_decay=0.75, steps_per_epoch, **kwargs):
        super().__init__(*args, **kwargs)
        self.top_k_min, self.top_k_decay = top_k_min, top_k_decay
        self.top_k_epoch_steps = steps_per_epoch

    def generator_loss(self, real, fake, labels=None):
        ops = keras.ops
        logits = ops.reshape(ops.cast(self.discriminate(fake, labels), "float32"), (-1,))
        epochs = ops.cast(self.optimizer["g"].iterations, "float32") / self.top_k_epoch_steps
        fraction = ops.maximum(self.top_k_min, self.top_k_decay ** epochs)
        count = ops.maximum(1.0, ops.floor(fraction * ops.cast(ops.shape(logits)[0], "float32")))
        rank = ops.cast(ops.argsort(ops.argsort(-logits)), "float32")
        keep = ops.cast(rank < count, "float32")
        loss = ops.sum(ops.softplus(-logits) * keep) / ops.sum(keep)
        return loss, {"g_loss": loss}


class DecayToBudgetEnd(keras.callbacks.Callback):
    """Linear learning-rate decay to zero at the end of a `TimeBudget`: at
    each epoch start (when every backend reads its optimizer state afresh),
    each optimizer's rate is its base rate times the budget share left."""

    def __init__(self, budget, rates):
        super().__init__()
        self.budget, self.rates = budget, rates

    def on_epoch_begin(self, epoch, logs=None):
        left = max(0.0, 1.0 - self.budget.elapsed() / self.budget.seconds)
        for key, rate in self.rates.items():
            self.model.optimizer[key].learning_rate = rate * left


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=500)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--d-base-filters", type=int, default=None,
                        help="discriminator width (default: --base-filters)")
    parser.add_argument("--d-lr", type=float, default=2e-4)
    parser.add_argument("--g-lr", type=float, default=2e-4)
    parser.add_argument("--beta-1", type=float, default=0.5)
    parser.add_argument("--beta-2", type=float, default=0.999)
    parser.add_argument("--lr-decay", action="store_true",
                        help="decay both learning rates linearly to 0 at the budget's end")
    parser.add_argument("--ema-decay", type=float, default=0.999,
                        help="generator EMA used for sampling (0 disables)")
    parser.add_argument("--d-batch-norm", type=int, default=1)
    parser.add_argument("--d-dropout", type=float, default=0.0)
    parser.add_argument("--loss", default="non_saturating", help="adversarial loss name")
    parser.add_argument("--top-k", type=float, default=0.0,
                        help="top-k generator training (probe): the smallest kept fraction (0: off)")
    parser.add_argument("--r1", type=float, default=0.0, help="R1 penalty gamma (0: none)")
    parser.add_argument("--minibatch-stddev", type=int, default=0)
    parser.add_argument("--refine-blocks", type=int, default=0,
                        help="stride-1 3x3 conv blocks at the generator's 7x7 stage")
    add_clock_argument(parser, default="wall")
    parser.add_argument("--clusters", type=int, default=0,
                        help="train SelfConditionedGAN (a CGAN over this many k-means "
                             "clusters of the images, no labels; its networks are "
                             "CGAN's at --base-filters) instead of DCGAN; 0: DCGAN")
    parser.add_argument("--tag", default="", help="suffix of the output files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    images = datasets.load("mnist", split="train")
    if args.clusters:
        return train_self_conditioned(args, images)
    data, _ = datasets.make_dataset(images, args.batch_size, seed=args.seed)
    d_width = args.d_base_filters or args.base_filters
    discriminator = dcgan_discriminator(
        (28, 28, 1), d_width, batch_norm=bool(args.d_batch_norm), dropout=args.d_dropout,
        minibatch_stddev=bool(args.minibatch_stddev))
    generator = dcgan_generator((28, 28, 1), 100, args.base_filters,
                                refine_blocks=args.refine_blocks)
    top_k = {"top_k_min": args.top_k, "steps_per_epoch": len(images) // args.batch_size}
    gan_class, extra = (TopKDCGAN, top_k) if args.top_k else (DCGAN, {})
    gan = gan_class(image_shape=(28, 28, 1), latent_dim=100, base_filters=args.base_filters,
                    generator=generator, discriminator=discriminator, seed=args.seed,
                    ema_decay=args.ema_decay or None, loss=args.loss,
                    penalties=[R1Penalty(args.r1)] if args.r1 else [], **extra)
    compile_from_args(gan, args)
    budget = TimeBudget(args.minutes * 60, clock=args.clock)
    start = time.perf_counter()
    history = gan.fit(
        data, epochs=1000, steps_per_epoch=args.steps_per_epoch,
        callbacks=[budget] + ([DecayToBudgetEnd(budget, {"d": args.d_lr, "g": args.g_lr})]
                              if args.lr_decay else []),
        verbose=2,
    )
    wall = time.perf_counter() - start

    write_report(args, gan, history, budget, wall, len(images),
                 raw_generate=lambda latents: gan.generator.predict(latents, verbose=0))


def train_self_conditioned(args, images):
    """`--clusters K`: SelfConditionedGAN; the clustering counts in the budget."""
    budget = TimeBudget(args.minutes * 60, clock=args.clock)
    start, clock_start = time.perf_counter(), budget.now()
    gan = SelfConditionedGAN(image_shape=(28, 28, 1), num_clusters=args.clusters,
                             latent_dim=100, base_filters=args.base_filters, seed=args.seed,
                             ema_decay=args.ema_decay or None, loss=args.loss)
    ids = gan.cluster(images)
    budget.spent = cluster_seconds = budget.now() - clock_start
    data, _ = datasets.make_dataset(images, args.batch_size, labels=ids, seed=args.seed)
    compile_from_args(gan, args)
    history = gan.fit(data, epochs=1000, steps_per_epoch=args.steps_per_epoch,
                      callbacks=[budget], verbose=2)
    wall = time.perf_counter() - start
    write_report(args, gan, history, budget, wall, len(images),
                 raw_generate=lambda latents: gan.generator.predict(
                     [latents, gan.sample_labels(len(latents))], verbose=0),
                 extra={"model": "SelfConditionedGAN", "clusters": args.clusters,
                        "cluster_seconds": round(cluster_seconds, 1),
                        "cluster_prior_max": round(float(gan.cluster_prior.numpy().max()), 4)})


def compile_from_args(gan, args):
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.d_lr, beta_1=args.beta_1, beta_2=args.beta_2),
        g_optimizer=keras.optimizers.Adam(args.g_lr, beta_1=args.beta_1, beta_2=args.beta_2),
    )


def write_report(args, gan, history, budget, wall, n_images, raw_generate, extra=None):
    """Judges `--samples` samples (numpy latents; `raw_generate(latents)`
    gives the raw, not averaged, generator's) and writes the grid, the loss
    plot and the results JSON."""
    backend = keras.backend.backend()
    latents = sample_latents(args.samples, 100, seed=123)
    samples = gan.generate(latents=latents)
    report = classify_samples(samples, dataset="mnist", threshold=0.9)
    raw = classify_samples(raw_generate(latents), dataset="mnist", threshold=0.9)
    truncated = classify_samples(
        gan.generate(latents=sample_latents(args.samples, 100, seed=123, truncation=1.0)),
        dataset="mnist", threshold=0.9)
    d_width = args.d_base_filters or args.base_filters
    os.makedirs(os.path.join(ROOT, "runs"), exist_ok=True)
    gan.save(os.path.join(ROOT, "runs", f"dcgan_mnist_{backend}{args.tag}.keras"))
    os.makedirs(os.path.join(ROOT, "examples"), exist_ok=True)
    grid = save_grid(samples[:100], os.path.join(ROOT, "examples", f"dcgan_mnist_{backend}{args.tag}.png"),
                     columns=10, scale=2)
    plot_history(history.history, os.path.join(ROOT, "examples", f"dcgan_mnist_{backend}{args.tag}_losses.png"))
    result = {
        "backend": backend,
        "machine": machine(),
        "batch_size": args.batch_size,
        "base_filters": args.base_filters,
        "discriminator_base_filters": d_width,
        "learning_rates": {"discriminator": args.d_lr, "generator": args.g_lr},
        "adam_betas": [args.beta_1, args.beta_2],
        "lr_decay": "linear to 0 at the budget's end" if args.lr_decay else None,
        "steps": budget.steps,
        "epochs_of_mnist": round(budget.steps * args.batch_size / n_images, 2),
        "wall_seconds": round(wall, 1),
        "steps_per_second": round(budget.steps / wall, 2),
        "samples": args.samples,
        "confident_share": round(float(report["confident_share"]), 4),
        "min_class_share": round(float(report["min_class_share"]), 4),
        "class_histogram": [round(float(x), 4) for x in report["class_histogram"]],
        "ema_decay": args.ema_decay,
        "discriminator_batch_norm": bool(args.d_batch_norm),
        "discriminator_dropout": args.d_dropout,
        "loss": args.loss,
        "top_k_min_fraction": args.top_k,
        "r1_gamma": args.r1,
        "minibatch_stddev": bool(args.minibatch_stddev),
        "generator_refine_blocks": args.refine_blocks,
        "budget": f"{args.minutes} min of {args.clock} time",
        "truncation_1.0_confident_share": round(float(truncated["confident_share"]), 4),
        "truncation_1.0_min_class_share": round(float(truncated["min_class_share"]), 4),
        "raw_generator_confident_share": round(float(raw["confident_share"]), 4),
        "raw_generator_min_class_share": round(float(raw["min_class_share"]), 4),
        "grid": os.path.relpath(grid, ROOT),
        **(extra or {}),
    }
    write_result(f"dcgan_mnist_{backend}{args.tag}.json", result)


if __name__ == "__main__":
    main()

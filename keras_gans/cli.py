"""The `keras-gans` command line: train, finetune, sample, translate, evaluate, list,
export, publish."""
import argparse
import collections
import inspect
import json
import math
import os
import shutil
import sys
import time

import numpy as np


def _add_train(sub):
    p = sub.add_parser("train", help="train a GAN on a dataset")
    p.add_argument("model", help="model name, e.g. dcgan, wgangp, sngan (see `keras-gans list`)")
    p.add_argument("--dataset", default="mnist", help="mnist or fashion_mnist")
    p.add_argument("--out", required=True, help="run folder to create")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps-per-epoch", type=int, default=None,
                   help="batches per epoch (default: one pass over the data)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=100)
    p.add_argument("--base-filters", type=int, default=32,
                   help="network width (DCGAN's paper uses 64; 32 trains 3x faster on CPU)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate of both networks' optimizers (default: the variant's)")
    p.add_argument("--beta-1", type=float, default=None,
                   help="Adam's beta_1 of both networks' optimizers (default: the variant's; "
                        "0 with --beta-2 0.99 and --lr 2e-3 trains the width-32 MNIST "
                        "models fastest here)")
    p.add_argument("--beta-2", type=float, default=None,
                   help="Adam's beta_2 of both networks' optimizers (default: the variant's)")
    p.add_argument("--n-critic", type=int, default=None,
                   help="critic steps per generator step (default: the variant's)")
    p.add_argument("--clusters", type=int, default=None,
                   help="self_conditioned_gan: k-means clusters of the images that it "
                        "conditions on (default: the variant's, 100)")
    p.add_argument("--ema-decay", type=float, default=0.999,
                   help="generator weight EMA used for sampling (0 disables)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-budget", type=float, default=None,
                   help="stop after this many seconds (see --clock), whatever --epochs says")
    p.add_argument("--clock", choices=("wall", "cpu"), default=None,
                   help="clock of --time-budget (default wall): wall time, or this process's CPU time "
                        "(a budget that other programs on the machine do not eat into)")
    p.add_argument("--samples", type=int, default=64, help="images in each grid")
    _add_checkpoint_arguments(p)
    p.add_argument("--overwrite", action="store_true",
                   help="allow writing into a folder that holds a previous run "
                        "(its checkpoints are deleted: training starts over)")
    p.add_argument("--verbose", type=int, default=1, help="Keras progress bar (0, 1 or 2)")
    p.set_defaults(func=train)


def _add_checkpoint_arguments(p):
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="write a checkpoint of the whole training state to OUT/checkpoints "
                        "every N steps (and at the end); running the same command again "
                        "resumes from the last one, at the same batch")
    p.add_argument("--keep-checkpoints", type=int, default=None, metavar="K",
                   help="how many of the newest checkpoints to keep (default 2)")
    p.add_argument("--keep-best", choices=("kid", "fid"), default=None,
                   help="evaluate KID or FID (FID Inception network) every --eval-every "
                        "epochs and keep the best model in OUT/best (its checkpoint and "
                        "generator.keras)")
    p.add_argument("--eval-every", type=int, default=None, metavar="E",
                   help="epochs between evaluations for --keep-best (default 1)")
    p.add_argument("--eval-n", type=int, default=None,
                   help="samples per evaluation for --keep-best (default 1000)")
    p.add_argument("--eval-reference", default=None, metavar="DIR_OR_DATASET",
                   help="held-out real images for --keep-best: a folder, or a dataset name "
                        "(its test split, 2,000 images). train: default its --dataset; "
                        "finetune: required, and not the --data folder")


def _add_sample(sub):
    p = sub.add_parser("sample", help="write a PNG grid of generated images")
    p.add_argument("path", help="a zoo name (`keras-gans list`), hf://org/name[@revision], "
                                "a zoo entry or run folder, or a .keras generator/GAN file")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", default="grid.png")
    p.add_argument("--seed", type=int, default=0, help="numpy seed of the latents")
    p.add_argument("--truncation", type=float, default=None,
                   help="redraw latent entries above this magnitude (e.g. 1.0)")
    p.add_argument("--scale", type=int, default=2, help="pixel enlargement of the PNG")
    p.add_argument("--labels", default=None,
                   help="conditional models: comma-separated class ids, repeated to --n "
                        "(default: the classes in turn)")
    p.add_argument("--interpolate", type=int, default=None, metavar="STEPS",
                   help="write --n rows, each a latent interpolation in STEPS images")
    p.set_defaults(func=sample)


def _add_finetune(sub):
    p = sub.add_parser("finetune", help="fine-tune a pretrained GAN on a folder of images")
    p.add_argument("source", help="a zoo name, hf://org/name[@revision], an entry or run "
                                  "folder, or a GAN .keras file")
    p.add_argument("--data", required=True,
                   help="folder of images (class sub-folders give labels for conditional GANs)")
    p.add_argument("--out", required=True, help="run folder to create")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4,
                   help="learning rate of both fresh optimizers (lower than from scratch)")
    p.add_argument("--freeze-d", type=int, default=0, metavar="BLOCKS",
                   help="FreezeD: freeze the discriminator's lowest BLOCKS blocks")
    p.add_argument("--augment", default=None,
                   help="DiffAugment policy (e.g. color,translation,cutout) or 'ada'")
    p.add_argument("--keep-optimizers", action="store_true",
                   help="keep a run folder's optimizer state instead of fresh optimizers")
    p.add_argument("--resize", action="store_true",
                   help="resize images to the model's size instead of refusing other sizes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-budget", type=float, default=None)
    p.add_argument("--clock", choices=("wall", "cpu"), default=None,
                   help="clock of --time-budget (default wall)")
    p.add_argument("--samples", type=int, default=64)
    _add_checkpoint_arguments(p)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--verbose", type=int, default=1)
    p.set_defaults(func=finetune)


def _add_translate(sub):
    p = sub.add_parser("translate", help="translate a folder of images with a pix2pix or "
                                         "CycleGAN model")
    p.add_argument("model", help="a zoo name, hf://org/name[@revision], an entry folder or a "
                                 ".keras file of a translation model")
    p.add_argument("--input", required=True, help="folder of images to translate")
    p.add_argument("--out", required=True,
                   help="folder for the translated PNGs (created; not the input folder)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace PNGs already in --out (refused otherwise)")
    p.add_argument("--direction", default="a2b", help="a2b, or b2a for CycleGAN")
    p.add_argument("--grid", default=None,
                   help="also write an input | output grid PNG here (up to 32 images)")
    p.set_defaults(func=translate)


def _add_list(sub):
    p = sub.add_parser("list", help="the model variants and the built-in zoo entries")
    p.set_defaults(func=list_models)


def _add_publish(sub):
    p = sub.add_parser(
        "publish", help="publish a trained GAN (run folder or entry folder) to the Hugging Face Hub"
    )
    p.add_argument("source", help="a `keras-gans train` run folder or a zoo entry folder")
    p.add_argument("--repo", required=True, help="Hub repo, organisation/name")
    p.add_argument("--tag", default="v1", help="tag of the new commit (default v1; '' for none)")
    p.add_argument("--private", action="store_true")
    p.add_argument("--message", default=None, help="commit message")
    p.set_defaults(func=publish)


def _add_export(sub):
    p = sub.add_parser("export", help="write a run folder as a zoo entry folder (no upload)")
    p.add_argument("run", help="a `keras-gans train` run folder")
    p.add_argument("--out", required=True, help="entry folder to write")
    p.add_argument("--name", default=None, help="entry name (default: the folder's name)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the entry's files in an existing folder (others are kept)")
    p.set_defaults(func=export)


def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate", help="FID/KID (and more) of a generator or image folder vs a dataset"
    )
    p.add_argument("model", help="a run folder, a .keras generator/GAN file, or a folder of images")
    p.add_argument("--dataset", default=None,
                   help="reference dataset, mnist or fashion_mnist (default: the one the model "
                        "was trained on, as its run folder or zoo entry records; else mnist)")
    p.add_argument("--split", default="test", help="reference split (default: test)")
    p.add_argument("--reference", default=None,
                   help="a folder of reference images instead of --dataset")
    p.add_argument("--n", type=int, default=10000, help="samples drawn from the generator")
    p.add_argument("--n-reference", type=int, default=None,
                   help="reference size, a seeded subset (default: the whole split or folder)")
    p.add_argument("--metrics", default="fid,kid",
                   help="comma list of fid, kid, precision_recall, density_coverage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=25, help="images per Inception call")
    p.add_argument("--json", default=None, help="also write the result (values + protocol) here")
    p.set_defaults(func=evaluate)


def _constructor_arguments(model_class):
    """Names accepted by a variant's constructor, through its `**kwargs`
    chain up to `keras.Model`."""
    import keras

    names = set()
    for klass in model_class.__mro__:
        if klass is keras.Model:
            break
        if "__init__" in vars(klass):
            names |= set(inspect.signature(klass.__init__).parameters)
    return names - {"self", "args", "kwargs"}


def _check_out(args):
    """Refuses an --out holding a finished run (unless --overwrite) and an
    unfinished checkpointed run that this command would not resume."""
    from keras_gans import checkpoint

    _fill_dependent_options(args)
    _check_run_arguments(args)
    _check_best_arguments(args)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise SystemExit(f"error: --out {args.out} is a file; give a folder for the run.")
    folder = os.path.join(args.out, "checkpoints")
    if args.overwrite:  # deleted by _fit_and_save, once everything else has passed
        _overwritable(args.out)
        return
    if _finished(args.out):
        raise SystemExit(
            f"error: {args.out} already holds a trained run (gan.keras); "
            "choose another --out or pass --overwrite."
        )
    last = checkpoint.latest(folder)
    if last is not None and not args.checkpoint_every:
        raise SystemExit(
            f"error: {args.out} holds the checkpoints of an unfinished run (last: {last}); "
            "pass the same --checkpoint-every to resume it, or --overwrite to start over."
        )
    if last is None:  # a new run: it must not write over another run's or your files
        found = [name for name in RUN_FILES if os.path.exists(os.path.join(args.out, name))
                 and not _killed_run_leftover(os.path.join(args.out, name))]
        if found:
            raise SystemExit(
                f"error: {args.out} already holds {', '.join(found)}, which this run would "
                "replace; choose a new or empty --out, or pass --overwrite to replace a "
                "keras-gans run's files."
            )


# Options that only act with another one: (option, its default, the option it needs).
_DEPENDENT_OPTIONS = (("keep_checkpoints", 2, "checkpoint_every"), ("eval_every", 1, "keep_best"),
                      ("eval_n", 1000, "keep_best"), ("eval_reference", None, "keep_best"),
                      ("clock", "wall", "time_budget"))


def _fill_dependent_options(args):
    """Refuses an option given without the one it serves (it would be
    silently ignored), then fills in the defaults."""
    for name, default, needs in _DEPENDENT_OPTIONS:
        value = getattr(args, name)
        if value is not None and not getattr(args, needs):
            option, parent = (f"--{n.replace('_', '-')}" for n in (name, needs))
            raise SystemExit(f"error: {option} acts only with {parent}; add {parent} or "
                             f"drop {option}.")
        if value is None:
            setattr(args, name, default)


def _check_run_arguments(args):
    """train's and finetune's numbers, before anything is loaded: 0 or a
    negative count had meant "the default" or an epoch without end."""
    for name, low in (("epochs", 1), ("steps_per_epoch", 1), ("batch_size", 1), ("samples", 1),
                      ("checkpoint_every", 0), ("keep_checkpoints", 1), ("eval_every", 1),
                      ("eval_n", 2)):
        value = getattr(args, name)
        if value is not None and value < low:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be >= {low}, got {value}.")
    for name in ("time_budget", "lr"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be > 0, got {value}.")


def _steps_per_epoch(args, steps):
    return steps if args.steps_per_epoch is None else args.steps_per_epoch


# What a run folder holds (written by _fit_and_save); history.json is last.
RUN_FILES = ("gan.keras", "generator.keras", "history.json", "losses.png", "samples.png",
             "samples", "checkpoints", "best")


def _killed_run_leftover(path):
    """What a run killed before its first checkpoint leaves (its epoch
    grids, a checkpoint's staging folder): the same command starts over on
    it, as the README promises, instead of being refused."""
    if not os.path.isdir(path):
        return False
    names = os.listdir(path)
    if os.path.basename(path) == "samples":
        return all(n.startswith("epoch_") and n.endswith(".png") for n in names)
    if os.path.basename(path) == "checkpoints":
        return all(n.startswith(".") for n in names)
    return False


def _finished(out):
    """A run whose final files were all written: history.json comes last.
    A gan.keras without it was cut short while saving, and resumes."""
    return all(os.path.isfile(os.path.join(out, name)) for name in ("gan.keras", "history.json"))


def _overwritable(out):
    """--overwrite deletes a keras-gans run's files only: a checkpoints/ or
    best/ folder holding files but no keras-gans checkpoint (a folder of
    another program's) is refused, not deleted."""
    from keras_gans import checkpoint

    for name in ("checkpoints", "best"):
        folder = os.path.join(out, name)
        if not os.path.isdir(folder):
            continue
        ours = set(checkpoint.checkpoints(folder))
        others = [entry for entry in os.listdir(folder)
                  if os.path.join(folder, entry) not in ours and not entry.startswith(".")]
        if others and not ours:
            raise SystemExit(
                f"error: --overwrite would delete {folder}, which holds files that are not "
                f"keras-gans checkpoints ({', '.join(sorted(others)[:3])}); move them or "
                "choose another --out."
            )


def _clear_run(out):
    """--overwrite: the previous run's checkpoints, best model and epoch
    grids go (saying so); the rest is replaced as the new run writes it."""
    from keras_gans import checkpoint

    for name in ("checkpoints", "best"):
        folder = os.path.join(out, name)
        found = checkpoint.checkpoints(folder)
        if found:
            print(f"--overwrite: deleting {len(found)} checkpoint(s) in {folder} "
                  f"(last: {os.path.basename(found[-1])}).")
        shutil.rmtree(folder, ignore_errors=True)
    samples = os.path.join(out, "samples")
    if os.path.isdir(samples):
        for name in os.listdir(samples):
            if name.startswith("epoch_") and name.endswith(".png"):
                os.remove(os.path.join(samples, name))


def _check_best_arguments(args):
    if not args.keep_best:
        return
    from keras_gans.datasets import KNOWN_DATASETS

    data = getattr(args, "data", None)
    if args.eval_reference is None:
        if data is not None:
            raise SystemExit(
                "error: --keep-best needs --eval-reference DIR: a held-out folder of images "
                "like yours that training does not see (scored against the training folder, "
                "the best model would be the one that memorised it).")
        args.eval_reference = args.dataset
    if args.eval_reference == "emoji":
        raise SystemExit(
            "error: --eval-reference emoji: the emoji sets are not a scoring reference by "
            "name; give a folder of held-out emoji PNGs.")
    if args.eval_reference in KNOWN_DATASETS:
        return
    if not os.path.isdir(args.eval_reference):
        raise SystemExit(
            f"error: --eval-reference {args.eval_reference!r} is neither a folder nor a dataset "
            f"({', '.join(KNOWN_DATASETS)}).")
    if data is not None and os.path.samefile(args.eval_reference, data):
        raise SystemExit(
            "error: --eval-reference is the training folder; give held-out images (the best "
            "model would otherwise be the one that memorised the training folder).")
    from keras_gans.metrics import load_folder

    try:  # read now: a folder that cannot be scored fails before training, not after
        load_folder(args.eval_reference)
    except ValueError as err:
        raise SystemExit(f"error: --eval-reference: {err}") from None


def _best_callbacks(args):
    """EvaluationCallback then BestCheckpoint (it reads the logged value)."""
    if not args.keep_best:
        return []
    from keras_gans.checkpoint import BestCheckpoint
    from keras_gans.metrics import EvaluationCallback

    evaluation = EvaluationCallback(
        every=args.eval_every, n=args.eval_n, metrics=(args.keep_best,),
        reference=args.eval_reference, n_reference=2000, seed=args.seed,
        verbose=1 if args.verbose else 0)
    return [evaluation, BestCheckpoint(os.path.join(args.out, "best"), monitor=args.keep_best,
                                       verbose=1 if args.verbose else 0)]


def _seed_everything(seed):
    """Seeds Keras's global RNG (initial weights, unseeded layers), Python,
    numpy and the backend, so the same command builds the same model."""
    import keras

    keras.utils.set_random_seed(seed)


def train(args):
    from keras_gans import datasets
    from keras_gans import models
    from keras_gans.models.self_conditioned import labels_itself

    model_class = models.get_class(args.model)
    _check_train_arguments(args, model_class)
    _check_out(args)
    _seed_everything(args.seed)
    if hasattr(model_class, "translate"):
        raise SystemExit(
            f"error: {model_class.__name__} translates images and trains on pairs of image "
            "sets, which `keras-gans train` (one dataset) does not load; train it from Python "
            "(see README, Image-to-image translation), e.g. python benchmarks/"
            "translation_emoji.py train pix2pix-twitter2google."
        )
    if os.path.isdir(args.dataset) and args.dataset not in datasets.KNOWN_DATASETS:
        raise SystemExit(
            f"error: --dataset is mnist or fashion_mnist; {args.dataset} is a folder. For "
            f"your own images, fine-tune a zoo entry on them (keras-gans finetune ENTRY "
            f"--data {args.dataset} --out OUT; entries: keras-gans list), or train from "
            "Python on datasets.from_directory(...) (README, Limited data)."
        )
    accepted = _constructor_arguments(model_class)
    self_labelled = labels_itself(model_class)
    conditional = "num_classes" in accepted and not self_labelled
    loaded = datasets.load(args.dataset, split="train", labels=conditional)
    images, labels = loaded if conditional else (loaded, None)
    options = {
        "image_shape": images.shape[1:], "latent_dim": args.latent_dim,
        "base_filters": args.base_filters, "n_critic": args.n_critic,
        "seed": args.seed, "ema_decay": args.ema_decay or None,
        "num_classes": 10 if conditional else None, "num_clusters": args.clusters,
    }
    # Pass what the variant's constructor takes; None keeps its default.
    gan = model_class(**{
        k: v for k, v in options.items()
        if v is not None and k in accepted
    })
    if self_labelled:
        labels = gan.cluster(images)
    data, steps = datasets.make_dataset(images, args.batch_size, labels=labels, seed=args.seed,
                                        pipeline=_pipeline(args))
    steps = _steps_per_epoch(args, steps)
    gan.compile(**_optimizers(gan, args))
    record = {"model": args.model, "dataset": args.dataset, "latent_dim": args.latent_dim,
              "base_filters": args.base_filters, "ema_decay": args.ema_decay}
    for name in ("lr", "beta_1", "beta_2", "clusters", "n_critic"):
        if getattr(args, name) is not None:
            record[name] = getattr(args, name)
    _fit_and_save(gan, data, steps, args, f"{args.dataset} ({len(images)} images "
                  f"{images.shape[1:]})", record)


def _check_train_arguments(args, model_class):
    """Refuses options the variant cannot take, before anything is loaded
    or built."""
    from keras_gans.models.self_conditioned import labels_itself

    if args.clusters is not None and not labels_itself(model_class):
        raise SystemExit(
            f"error: --clusters is for self_conditioned_gan, which clusters its training "
            f"images; {args.model} does not."
        )
    if args.clusters is not None and args.clusters < 2:
        raise SystemExit(f"error: --clusters must be at least 2, got {args.clusters}.")
    for name in ("beta_1", "beta_2"):
        value = getattr(args, name)
        if value is not None and not 0 <= value < 1:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be in [0, 1), got {value}.")


def _optimizers(gan, args):
    """The variant's default optimizers with --lr, --beta-1 and --beta-2
    applied; {} (compile()'s defaults) when none is given."""
    settings = {"learning_rate": args.lr, "beta_1": args.beta_1, "beta_2": args.beta_2}
    settings = {k: v for k, v in settings.items() if v is not None}
    optimizers = {}
    for key in gan.network_sets if settings else ():
        optimizer = gan.default_optimizer(key)
        for name, value in settings.items():
            if not hasattr(optimizer, name):
                raise SystemExit(
                    f"error: --{name.replace('_', '-')} sets Adam's {name}, but "
                    f"{args.model}'s {key} optimizer is {type(optimizer).__name__}; "
                    "leave it out."
                )
            setattr(optimizer, name, value)
        optimizers[f"{key}_optimizer"] = optimizer
    return optimizers


def _pipeline(args):
    # Resuming at a batch needs batches that are a pure function of their
    # index (tf.data's shuffle iterator cannot be fast-forwarded).
    return "numpy" if args.checkpoint_every else "auto"


def _fit_and_save(gan, data, steps, args, description, record):
    """fit() with sample grids (and a time budget, and checkpoints that a
    rerun resumes from), then the run folder: gan.keras, generator.keras,
    history.json, losses.png, samples.png."""
    import keras

    from keras_gans.callbacks import SampleGrid
    from keras_gans.callbacks import TimeBudget
    from keras_gans.checkpoint import TrainingCheckpoint
    from keras_gans.checkpoint import fit_from_checkpoint
    from keras_gans.utils import plot_history
    from keras_gans.utils import save_grid

    if args.overwrite:  # training starts over
        _clear_run(args.out)
    os.makedirs(args.out, exist_ok=True)
    grids = SampleGrid(os.path.join(args.out, "samples"), n=args.samples, seed=args.seed)
    checkpoint, resumed = None, 0
    # What a resumed run must share with the run it continues.
    settings = dict(record, batch_size=args.batch_size, seed=args.seed)
    if args.checkpoint_every:
        checkpoint = TrainingCheckpoint(os.path.join(args.out, "checkpoints"),
                                        every_n_steps=args.checkpoint_every,
                                        keep=args.keep_checkpoints, run=settings)
        _check_resumed_settings(checkpoint, settings, args.out)
        resumed = checkpoint.restore(gan)
        if resumed:
            print(f"Resuming from step {resumed} ({checkpoint.last_path}).")
    print(
        f"Training {type(gan).__name__} on {description} for up to {args.epochs} x {steps} "
        f"steps of batch {args.batch_size}, backend {keras.backend.backend()}."
    )
    best_callbacks = _best_callbacks(args)
    callbacks = [grids] + best_callbacks
    if args.time_budget is not None:
        spent = checkpoint.seconds[args.clock] if checkpoint else 0.0
        callbacks.append(TimeBudget(args.time_budget, clock=args.clock, spent=spent))
    iterations = lambda: int(keras.ops.convert_to_numpy(gan.optimizer.iterations))  # noqa: E731
    first_step = iterations()
    start, cpu_start = time.perf_counter(), time.process_time()
    if checkpoint is not None:
        history = fit_from_checkpoint(gan, data, args.epochs, steps, checkpoint,
                                      callbacks=callbacks, verbose=args.verbose)
    else:
        history = gan.fit(
            data, epochs=args.epochs, steps_per_epoch=steps,
            callbacks=callbacks, verbose=args.verbose,
        )
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    steps_run = iterations()
    # Whole files or none: a run killed while saving resumes from its checkpoints.
    _save_atomically(gan.save, os.path.join(args.out, "gan.keras"))
    _save_atomically(gan.sampler.save, os.path.join(args.out, "generator.keras"))
    record = dict(
        record,
        backend=keras.backend.backend(),
        epochs=args.epochs,
        steps_per_epoch=steps,
        steps=steps_run,
        batch_size=args.batch_size,
        seed=args.seed,
        time_budget=args.time_budget,
        clock=args.clock,
        wall_seconds=round(seconds, 1),
        cpu_seconds=round(cpu_seconds, 1),
        steps_per_second=round((steps_run - first_step) / seconds, 2),
        history=history.history,
    )
    if checkpoint is not None:
        record.update(checkpoint_every=args.checkpoint_every, resumed_from_step=resumed,
                      checkpoint=checkpoint.last_path)
    best = best_callbacks[-1] if best_callbacks else None
    if best is not None and best.best is not None:
        record["best"] = {"monitor": args.keep_best, "value": best.best,
                          "reference": args.eval_reference, "samples": args.eval_n,
                          "path": best.best_path}
        print(f"Best {args.keep_best.upper()} {best.best:.5g}: {best.best_path} "
              "(its generator.keras samples with keras-gans sample).")
    plot_history(history.history, os.path.join(args.out, "losses.png"))
    final = save_grid(
        gan.generate(latents=_grid_latents(grids, gan)), os.path.join(args.out, "samples.png"),
        scale=2
    )
    # Last: it marks the run finished (_finished). NaN (an epoch without an
    # evaluation) is written as null, which JSON readers take.
    _save_atomically(lambda path: _write_json(_json_safe(record), path),
                     os.path.join(args.out, "history.json"))
    print(
        f"Done in {seconds:.0f} s ({record['steps_per_second']} steps/s). Wrote "
        f"{final}, {args.out}/generator.keras, gan.keras, history.json, losses.png."
    )


def _check_resumed_settings(checkpoint, settings, out):
    """A resumed run continues with the settings it was started with: a
    changed --lr, --dataset, --batch-size, --seed... is refused, not
    silently mixed in (the restored optimizers would keep the old rate)."""
    from keras_gans.checkpoint import read_manifest

    manifest = read_manifest(checkpoint.directory)
    stored = (manifest or {}).get("run")
    if not isinstance(stored, dict):  # a new run, or checkpoints from before runs were recorded
        return
    changed = [key for key in sorted(set(stored) | set(settings))
               if stored.get(key) != settings.get(key)]
    if changed:
        listed = ", ".join(f"{key} {stored.get(key)!r} (now {settings.get(key)!r})"
                           for key in changed)
        raise SystemExit(
            f"error: {out} holds an unfinished run with other settings: {listed}. Resume it "
            "with its own settings (only --epochs, --steps-per-epoch, --time-budget and the "
            "output options may change), or pass --overwrite to start over."
        )


def _write_json(value, path):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, allow_nan=False)


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _save_atomically(write, path):
    """`write(temporary path)`, then renamed to `path`: a kill leaves the
    old file or the new one, never half of one."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    partial = os.path.join(folder, f".{stem}.partial{extension}")  # Keras checks the extension
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _grid_latents(grids, gan):
    # The grids' latents; drawn here when no epoch ran (a rerun of a run
    # killed after its last checkpoint).
    from keras_gans.core import sample_latents

    if grids._latents is None:
        grids._latents = sample_latents(grids.n, gan.latent_dim, grids.seed)
    return grids._latents


def finetune(args):
    from keras_gans import datasets
    from keras_gans import finetune as tuning
    from keras_gans.models.self_conditioned import labels_itself

    _check_out(args)
    _seed_everything(args.seed)
    gan = tuning.prepare(args.source, learning_rate=args.lr, freeze_blocks=args.freeze_d,
                         augment=args.augment, fresh_optimizers=not args.keep_optimizers)
    self_labelled = labels_itself(gan)
    conditional = getattr(gan, "num_classes", None) is not None and not self_labelled
    found = tuning.load_images(gan, args.data, resize=args.resize, labels=conditional)
    labels = gan.assign_clusters(found.images) if self_labelled else found.labels
    data, steps = datasets.make_dataset(found.images, args.batch_size, labels=labels,
                                        seed=args.seed, pipeline=_pipeline(args))
    record = {"source": args.source, "dataset": os.path.abspath(args.data),
              "images": len(found.images), "freeze_d": args.freeze_d,
              "augment": args.augment, "learning_rate": args.lr}
    _fit_and_save(gan, data, _steps_per_epoch(args, steps), args,
                  f"{args.data} ({len(found.images)} images, {len(found.skipped)} skipped)",
                  record)


def _load_generator(path):
    """The model to sample from: a zoo entry (name, hf:// repo or entry
    folder), a GAN (a run folder's gan.keras or a GAN .keras file), or a
    bare generator .keras file."""
    import keras

    from keras_gans import zoo

    looks_like_a_path = path.endswith(".keras") or (
        os.sep in path and not path.startswith(zoo.hub.HF_PREFIX))
    if not os.path.exists(path) and looks_like_a_path:
        raise SystemExit(
            f"error: no such file {path!r}; pass a run folder, a .keras file or a zoo name "
            "(keras-gans list)."
        )
    if not os.path.exists(path) or zoo.entry.is_entry(path):
        return zoo.load_gan(path)
    if os.path.isdir(path):
        gan_file = os.path.join(path, "gan.keras")
        path = gan_file if os.path.exists(gan_file) else os.path.join(path, "generator.keras")
    if not os.path.exists(path):
        raise SystemExit(f"error: no such file {path!r}; pass a run folder or a .keras file.")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # corrupt or foreign file: say what it is
        raise SystemExit(f"error: cannot load {path!r} as a Keras model: {err}") from None


def sample(args):
    from keras_gans.core import sample_latents
    from keras_gans.utils import save_grid

    if args.n < 1:
        raise SystemExit("error: --n must be at least 1.")
    if args.scale < 1:
        raise SystemExit(f"error: --scale must be at least 1, got {args.scale}.")
    _check_image_out(args.out, "--out")
    ids = _class_ids(args.labels)
    model = _load_generator(args.path)
    if hasattr(model, "translate"):
        raise SystemExit(f"error: {args.path} is an image-to-image model with no latents to "
                         "sample; use `keras-gans translate MODEL --input DIR --out DIR`.")
    options = {}
    if args.labels is not None:
        if "labels" not in inspect.signature(getattr(model, "generate", sample)).parameters:
            raise SystemExit(f"error: {type(model).__name__} is not conditional; drop --labels.")
        options["labels"] = [ids[i % len(ids)] for i in range(args.n)]
    columns = None
    if args.interpolate is not None:
        if args.interpolate < 2:
            raise SystemExit("error: --interpolate needs at least 2 steps.")
        latent_dim = model.latent_dim if hasattr(model, "generate") else int(model.input_shape[-1])
        latents = interpolation_latents(args.n, args.interpolate, latent_dim, args.seed,
                                        args.truncation)
        if "labels" in options:  # one class per row
            options["labels"] = list(np.repeat(options["labels"], args.interpolate))
        elif "labels" in inspect.signature(getattr(model, "generate", sample)).parameters:
            # Each class in turn (a self-conditioned GAN: clusters drawn as
            # generate() draws them), one per row.
            labels = (model.sample_labels(args.n) if hasattr(model, "sample_labels")
                      else np.arange(args.n) % model.num_classes)
            options["labels"] = list(np.repeat(labels, args.interpolate))
        columns = args.interpolate
    if hasattr(model, "generate"):  # a GAN: it knows its inputs
        if columns is None:
            latents = sample_latents(args.n, model.latent_dim, args.seed, args.truncation)
        images = model.generate(latents=latents, **options)
    else:
        if isinstance(model.input_shape, list):
            raise SystemExit(
                f"error: this generator takes {len(model.input_shape)} inputs (e.g. "
                "latents and labels); sample from the run folder or its gan.keras, "
                "which knows how to feed them."
            )
        if columns is None:
            latents = sample_latents(args.n, int(model.input_shape[-1]), args.seed,
                                     args.truncation)
        images = model.predict(latents, verbose=0)
    save_grid(images, args.out, columns=columns, scale=args.scale)
    print(f"Wrote {len(images)} samples to {args.out}.")


def _class_ids(text):
    """--labels "3,7" as [3, 7] (None when not given)."""
    if text is None:
        return None
    try:
        ids = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        ids = []
    if not ids:
        raise SystemExit(f"error: --labels takes comma-separated class ids such as 3,7; "
                         f"got {text!r}.")
    return ids


def _check_image_out(path, option):
    """An image file to write: before any work, not after it."""
    from PIL import Image

    if os.path.isdir(path):
        raise SystemExit(f"error: {option} {path} is a folder; give an image file name "
                         "such as grid.png.")
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise SystemExit(f"error: {option} {path}: its folder does not exist; create it first.")
    if os.path.splitext(path)[1].lower() not in Image.registered_extensions():
        raise SystemExit(f"error: {option} {path} has no image file extension; end it with "
                         ".png (or .jpg, .webp).")


def translate(args):
    from PIL import Image

    from keras_gans import datasets
    from keras_gans.utils import save_grid
    from keras_gans.utils.images import to_uint8

    model = _load_generator(args.model)
    if not hasattr(model, "translate"):
        raise SystemExit(f"error: {args.model} is a {type(model).__name__}, not a translation "
                         "model (pix2pix or CycleGAN); use `keras-gans sample` for generators.")
    names = getattr(model, "generator_names", {})
    if args.direction not in names:
        raise SystemExit(f"error: {type(model).__name__} translates {sorted(names)}, "
                         f"not {args.direction!r}.")
    generator = getattr(model, names[args.direction])
    if os.path.isdir(args.out) and os.path.isdir(args.input) and os.path.samefile(args.out,
                                                                                   args.input):
        raise SystemExit("error: --out is the --input folder: the translations would replace "
                         "the images. Choose another folder.")
    height, width, channels = (int(d) for d in generator.input_shape[1:])
    found = datasets.from_directory(args.input, image_size=(height, width), channels=channels,
                                    labels=None)
    targets = [os.path.join(args.out, name) for name in translated_names(found.files)]
    existing = [t for t in targets if os.path.exists(t)]
    if existing and not args.overwrite:
        raise SystemExit(f"error: {len(existing)} of the PNGs to write are in {args.out} "
                         f"already (e.g. {existing[0]}); pass --overwrite to replace them, "
                         "or choose another folder.")
    outputs = model.translate(found.images, direction=args.direction)
    for target, image in zip(targets, to_uint8(outputs)):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(target)
    print(f"Translated {len(outputs)} images ({args.direction}) into {args.out}"
          + (f"; skipped {len(found.skipped)} unreadable files" if found.skipped else "") + ".")
    if args.grid:
        shown = found.images[:32]
        if shown.shape[-1] != outputs.shape[-1]:
            shown = np.repeat(shown, outputs.shape[-1], -1)
        pairs = np.stack([shown, outputs[:32]], 1).reshape((-1,) + outputs.shape[1:])
        print(f"Wrote {save_grid(pairs, args.grid, columns=8, scale=2)} (input | output).")


def translated_names(files):
    """Output PNG names for input files (paths relative to the input
    folder): `cat.jpg` -> `cat.png`; where two inputs would share a name
    (`cat.png`, `cat.jpg`), the non-PNG ones keep their extension
    (`cat.jpg.png`), so no translation replaces another. Inputs whose
    names would still clash (`cat.jpg.png` beside `cat.jpg`, or names that
    differ only in case) are a ValueError.

    >>> translated_names(["cat.png", "cat.jpg", "a/dog.jpeg"])
    ['cat.png', 'cat.jpg.png', 'a/dog.png']
    """
    stems = [os.path.splitext(name)[0] for name in files]
    counts = collections.Counter(stem.lower() for stem in stems)  # case-blind file systems too
    names = [name + ".png" if counts[stem.lower()] > 1 and not name.lower().endswith(".png")
             else stem + ".png" for name, stem in zip(files, stems)]
    taken = collections.defaultdict(list)
    for name, target in zip(files, names):
        taken[target.lower()].append(name)
    clash = next((inputs for inputs in taken.values() if len(inputs) > 1), None)
    if clash:
        raise ValueError(f"{' and '.join(clash)} would be translated into the same PNG; "
                         "rename one of them.")
    return names


def interpolation_latents(rows, steps, latent_dim, seed=0, truncation=None):
    """`rows` straight lines between pairs of numpy-drawn latents, `steps`
    points each (endpoints included), as one `(rows * steps, latent_dim)`
    array."""
    from keras_gans.core import sample_latents

    ends = sample_latents(2 * rows, latent_dim, seed, truncation).reshape(rows, 2, latent_dim)
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None]
    return ((1 - t) * ends[:, :1] + t * ends[:, 1:]).reshape(rows * steps, latent_dim)


def list_models(args):
    from keras_gans import models
    from keras_gans import zoo

    print("Variants (keras-gans train NAME):")
    print("  " + ", ".join(models.names()))
    print("Zoo entries (keras-gans sample NAME; loaded from the Hub, else the embedded copy):")
    names = zoo.list()
    width = max(map(len, names), default=0)
    for name in names:
        known = zoo.builtin.BUILTIN_ENTRIES[name]
        print(f"  {name:{width}s}  {known.description} [{known.repo_id}@{known.revision}]")


def publish(args):
    from keras_gans import zoo

    commit = zoo.publish(args.source, args.repo, revision_tag=args.tag or None,
                         private=args.private, commit_message=args.message)
    tag = f", tagged {args.tag}" if args.tag else ""
    print(f"Published {args.source} to {args.repo} (commit {commit[:12]}{tag}).")


def export(args):
    from keras_gans import zoo

    meta = zoo.export_run(args.run, args.out, name=args.name, overwrite=args.overwrite)
    print(f"Wrote zoo entry {meta['name']} to {args.out} (weights sha256 "
          f"{meta['weights_sha256'][:16]}...).")


def evaluate(args):
    from keras_gans.metrics import Evaluator

    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        raise ValueError(f"--json {args.json!r}: its folder does not exist; create it first.")
    if args.json and os.path.isdir(args.json):
        raise ValueError(f"--json {args.json!r} is a folder; give a file name.")
    from keras_gans.zoo.entry import is_entry

    is_images = os.path.isdir(args.model) and not (
        os.path.exists(os.path.join(args.model, "generator.keras")) or is_entry(args.model))
    reference = args.reference or args.dataset
    if reference is None:
        reference = _trained_on(args.model) or "mnist"
        print(f"Reference: {reference} ({args.split} split; --dataset or --reference to "
              "choose another).")
    evaluator = Evaluator(
        metrics=tuple(m.strip() for m in args.metrics.split(",") if m.strip()),
        reference=reference, split=args.split, n=args.n,
        n_reference=args.n_reference, seed=args.seed, batch_size=args.batch_size,
    )
    samples = args.model if is_images else _load_generator(args.model)
    result = evaluator(samples)
    print(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result.as_dict(), f, indent=2)
    return result


def _trained_on(model):
    """The dataset a run folder's history.json or a zoo entry's metadata
    names, when it can serve as a reference (mnist, fashion_mnist)."""
    from keras_gans import zoo
    from keras_gans.datasets import UINT8_DATASETS

    name = None
    try:
        if os.path.isfile(os.path.join(model, "history.json")):
            with open(os.path.join(model, "history.json")) as f:
                name = json.load(f).get("dataset")
        elif not os.path.isfile(model):
            name = (zoo.info(model).get("dataset") or {}).get("name")
    except (OSError, ValueError, AttributeError, zoo.ZooError):
        return None  # the model's own loading reports what is wrong with it
    return name if name in UINT8_DATASETS else None


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-gans",
        description="Train and sample GANs on TensorFlow, JAX or PyTorch "
        "(choose with KERAS_BACKEND).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_sample(sub)
    _add_evaluate(sub)
    _add_finetune(sub)
    _add_translate(sub)
    _add_list(sub)
    _add_publish(sub)
    _add_export(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, RuntimeError, OSError) as err:
        # Our errors already say what to do, and an OSError names its path
        # (a folder given for a file, a full disk): spare users the traceback.
        if os.environ.get("KERAS_GANS_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fine-tuning a pretrained GAN on a user's images.

`prepare(...)` turns a source (zoo name, `hf://` repo, entry folder, run
folder or `.keras` file) into a compiled GAN ready for `fit()` on new data,
with the limited-data tools: a lower learning rate, FreezeD, DiffAugment or
ADA, fresh or restored optimizer state. `load_images(...)` reads a folder
at the model's image size and channels.
"""
import os
import warnings

import keras
import numpy as np

from keras_gans import augment as augment_lib
from keras_gans import freeze


def load_source(source, fresh_optimizers=True):
    """The GAN of `source` and whether it kept its optimizer state.

    A run folder's `gan.keras` (or any GAN `.keras` file) carries optimizer
    state, kept unless `fresh_optimizers`; zoo entries carry none.

    >>> gan, kept = load_source("runs/mnist", fresh_optimizers=False)  # doctest: +SKIP
    >>> kept  # doctest: +SKIP
    True
    """
    from keras_gans import zoo
    from keras_gans.zoo.entry import is_entry

    path = os.path.join(source, "gan.keras") if os.path.isdir(source) else source
    if os.path.isdir(source) and not os.path.isfile(path) and not is_entry(source):
        raise ValueError(
            f"{source} holds no gan.keras (a run folder has one once training ends) and is "
            "not a zoo entry; pass a finished run folder, a GAN .keras file or a zoo name.")
    if source.endswith(".keras") and not os.path.exists(source):
        raise ValueError(f"No such file: {source}.")
    if os.path.isfile(path) and path.endswith(".keras"):
        import keras_gans  # noqa: F401  (registers the serializable classes)

        from keras_gans.core import AdversarialModel

        try:
            gan = keras.saving.load_model(path, compile=not fresh_optimizers)
        except Exception as err:  # Keras calls a corrupt file "not found"
            raise ValueError(
                f"Cannot load {path} as a Keras model ({type(err).__name__}: {err}); it is "
                "corrupt or not a .keras file. Pass a run folder, its gan.keras or a zoo name."
            ) from None
        if not isinstance(gan, AdversarialModel):
            raise ValueError(
                f"{path} holds a {type(gan).__name__}, not a keras-gans GAN; fine-tuning needs "
                "the discriminator too: pass the run folder or its gan.keras."
            )
        return gan, not fresh_optimizers
    return zoo.load_gan(source), False


def load_images(gan, data, resize=False, labels=False):
    """The images of folder `data` at `gan`'s size and channels.

    Without `resize`, images of another size are an error that says so.
    With `labels`, class folders give the labels; folders named by class
    ids the GAN knows (`3/`, `7/`) keep those ids, so a pretrained
    conditional GAN's classes keep their meaning; other names are numbered
    in sorted order.

    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from keras_gans.models import DCGAN
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("L", (32, 32)).save(root / "a.png")
    >>> load_images(DCGAN(latent_dim=8, base_filters=4), root, resize=True).images.shape
    (1, 28, 28, 1)
    """
    from keras_gans.datasets import from_directory

    height, width, channels = gan.image_shape

    def check_size(found):
        if found.images.shape[1:3] != (height, width):
            raise ValueError(
                f"The images in {data} are {found.images.shape[1]}x{found.images.shape[2]}; "
                f"this GAN makes {height}x{width}. Pass resize=True (--resize) to resize them."
            )

    if not resize:  # one image tells, before a folder of large photos is decoded
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the full read below warns once
            check_size(from_directory(data, channels=channels, labels=None, limit=1))
    found = from_directory(data, image_size=(height, width) if resize else None,
                           channels=channels, labels="inferred" if labels else None)
    check_size(found)
    if labels and found.labels is None:
        raise ValueError(
            f"{type(gan).__name__} is conditional: put each class's images in its own "
            f"sub-folder of {data} (sub-folder names, sorted, become class ids)."
        )
    if labels and len(found.class_names) > gan.num_classes:
        raise ValueError(
            f"{data} has {len(found.class_names)} class folders; this GAN knows "
            f"{gan.num_classes} classes."
        )
    if labels and all(name.isdigit() and int(name) < gan.num_classes
                      for name in found.class_names):
        ids = np.array([int(name) for name in found.class_names], "int32")
        found = found._replace(labels=ids[found.labels])
    return found


def with_augment(gan, augment):
    """`gan` rebuilt with a DiffAugment policy (or ADA), same weights.

    >>> from keras_gans.models import DCGAN
    >>> with_augment(DCGAN(latent_dim=8, base_filters=4), "cutout").augment.policy
    'cutout'
    """
    config = gan.get_config()
    config["augment"] = keras.saving.serialize_keras_object(augment_lib.get_augment(augment))
    rebuilt = type(gan).from_config(config)
    # Every weight but the augments' own (ADA's `p` and counters start anew).
    source, target = _weights_but_augment(gan), _weights_but_augment(rebuilt)
    if len(source) != len(target):
        raise ValueError(
            f"Cannot rebuild {type(gan).__name__} with another augment: it has "
            f"{len(source)} weights, the rebuilt model {len(target)}."
        )
    for variable, value in zip(target, source):
        variable.assign(value.value)
    return rebuilt


def _frozen(network):
    return [layer.path for layer in freeze.weighted_layers(network) if not layer.trainable]


def _weights_but_augment(gan):
    augment = getattr(gan, "augment", None)
    skip = {id(v) for v in augment.weights} if augment is not None else set()
    return [v for v in gan.weights if id(v) not in skip]


def prepare(source, learning_rate=1e-4, freeze_blocks=0, augment=None,
            fresh_optimizers=True):
    """A compiled GAN from `source`, ready to `fit()` on new images.

    Args:
        source: a zoo name, `hf://org/name[@rev]`, an entry folder, a run
            folder or a GAN `.keras` file.
        learning_rate: of both networks' fresh optimizers (the variant's
            betas); ignored when the restored optimizer state is kept.
        freeze_blocks: FreezeD: freeze this many of the discriminator's
            lowest blocks.
        augment: a DiffAugment policy string, `"ada"`, or an augment object.
        fresh_optimizers: new optimizers (default) or, for a run folder,
            the saved optimizer state.

    Example:

    >>> import tempfile, os
    >>> from keras_gans import zoo
    >>> from keras_gans.models import DCGAN
    >>> folder = os.path.join(tempfile.mkdtemp(), "tiny")
    >>> _ = zoo.save_entry(DCGAN(latent_dim=8, base_filters=4), folder)
    >>> gan = prepare(folder, freeze_blocks=1, augment="translation")
    >>> gan.augment.policy, gan.compiled
    ('translation', True)
    """
    gan, kept_state = load_source(source, fresh_optimizers)
    frozen_before = _frozen(gan.discriminator)
    # Exactly `freeze_blocks` blocks frozen, whatever an earlier fine-tune froze.
    gan.discriminator.trainable = True
    for layer in freeze.weighted_layers(gan.discriminator):  # TF's setter stops at the model
        layer.trainable = True
    if freeze_blocks:
        freeze.freeze_discriminator_blocks(gan.discriminator, freeze_blocks)
    if not fresh_optimizers:
        why = ("the source holds no optimizer state (a zoo entry)" if not kept_state
               else "augment rebuilds the model" if augment is not None
               else "the trainable weights change (freeze_blocks)"
               if _frozen(gan.discriminator) != frozen_before else None)
        if why:
            raise ValueError(
                f"Cannot keep the optimizers' state: {why}. Fine-tune with fresh optimizers "
                "(drop --keep-optimizers), or keep the source's freezing and augment.")
    if augment is not None:
        gan = with_augment(gan, augment)
        kept_state = False  # a rebuilt model starts with fresh optimizers
    if not kept_state:
        # Optimizers are built on the variables trainable at compile time
        # (a kept state's were: its trainable set is checked above).
        optimizers = {}
        for key in gan.network_sets:
            optimizer = gan.default_optimizer(key)
            optimizer.learning_rate = learning_rate
            optimizers[f"{key}_optimizer"] = optimizer
        gan.compile(**optimizers)
    return gan

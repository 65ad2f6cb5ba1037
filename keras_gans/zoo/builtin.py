"""The built-in entries: names, their Hub home and pinned revision, and the
copy embedded in the package.

Each built-in pins a revision (tag) and the sha256 of its weights; a copy
downloaded from the Hub must match it. The embedded copy (package data,
from the repository's `zoo/<name>/`) is used when the Hub cannot be reached
and the cache is empty.
"""
import dataclasses
import os

HUB_ORGANISATION = "keras-gans"


@dataclasses.dataclass(frozen=True)
class BuiltinEntry:
    """A built-in zoo entry: its name, Hub home, pinned tag and weights sha256.

    >>> BUILTIN_ENTRIES["dcgan-mnist"].repo_id
    'keras-gans/dcgan-mnist'
    """

    name: str
    description: str
    weights_sha256: str
    revision: str = "v1"

    @property
    def repo_id(self):
        return f"{HUB_ORGANISATION}/{self.name}"


BUILTIN_ENTRIES = {
    entry.name: entry
    for entry in [
        BuiltinEntry(
            "dcgan-mnist", "DCGAN, unconditional MNIST digits (28x28x1).",
            weights_sha256="23e2d445d635d9f489dc2176bd82abc6d0e196d98252f91a20eebd81a036fc06",
        ),
        BuiltinEntry(
            "wgan-gp-fashion-mnist", "WGAN-GP, unconditional Fashion-MNIST (28x28x1).",
            weights_sha256="1e6070fde3f1b6db26bd8d0fafc27403ca3d155572988ee9c8f0980baf7ade7c",
        ),
        BuiltinEntry(
            "cgan-mnist", "Class-conditional GAN (CGAN), MNIST digits by label (28x28x1).",
            weights_sha256="c2376d6a0b77a6bda01729ca49781ead6bd08cf43c52cb6c1a5b41bc22b72108",
        ),
        BuiltinEntry(
            "self-conditioned-gan-mnist",
            "Self-conditioned GAN, unconditional MNIST digits (28x28x1; 200 clusters, no labels).",
            weights_sha256="c37641b60fa7d8466e145b5982bd10235ff8423231ab7a24c2980dd502749997",
        ),
        BuiltinEntry(
            "acgan-fashion-mnist", "ACGAN, Fashion-MNIST by class (28x28x1).",
            weights_sha256="fdc46de95e02cb8d40575141629372ce049c8a211699a1b262243634bd43a5bc",
        ),
        BuiltinEntry(
            "pix2pix-emoji-twitter2google",
            "pix2pix, Twemoji -> Noto emoji style, paired (64x64x3; keras-gans translate).",
            weights_sha256="11501b91142a6ef9ad81be97cc330697c6062afa528b3f9d03166475a58a2079",
        ),
        BuiltinEntry(
            "cyclegan-emoji-twitter-google",
            "CycleGAN, Twemoji <-> Noto emoji styles, unpaired (64x64x3; keras-gans translate).",
            weights_sha256="cddcb44e1c32e492f6fff74979366de27240de668da26a9462930e68fb9bc857",
        ),
    ]
}


def embedded_folder(name):
    """Where the package keeps `name`'s files: `keras_gans/_zoo/<name>` in an
    installed wheel, the repository's `zoo/<name>` in a source checkout."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for root in (os.path.join(package, "_zoo"), os.path.join(os.path.dirname(package), "zoo")):
        folder = os.path.join(root, name)
        if os.path.isfile(os.path.join(folder, "model.weights.h5")):
            return folder
    return None

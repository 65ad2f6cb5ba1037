"""FreezeD (Mo et al. 2020, "Freeze the Discriminator: a Simple Baseline for
Fine-Tuning GANs"): when fine-tuning a pretrained GAN on a small data set,
keep the discriminator's lowest layers fixed and train only the upper ones.

Freezing sets `trainable = False` on layers, so their weights drop out of
`discriminator.trainable_variables`, hence out of the `"d"` network set of
every keras-gans model. Freeze before `compile()`: compile builds the
optimizers on the trainable variables, and the first `fit()` traces the
train step with the variable list of that moment (after a later change,
compile again). A frozen BatchNormalization layer also runs in inference
mode (its moving statistics stay fixed), as Keras does for fine-tuning.

>>> from keras_gans.networks.dcgan import dcgan_discriminator
>>> d = dcgan_discriminator((28, 28, 1), base_filters=4)
>>> [layer.name for layer in weighted_layers(d)]
['down1', 'down2', 'down2_bn', 'logit']
>>> [[layer.name for layer in block] for block in discriminator_blocks(d)]
[['down1'], ['down2', 'down2_bn'], ['logit']]
>>> [layer.name for layer in freeze_discriminator_blocks(d, 2)]
['down1', 'down2', 'down2_bn']
>>> [v.path for v in d.trainable_variables]
['logit/kernel', 'logit/bias']
"""
import keras

from keras_gans.utils.checks import at_least

NORMALIZATIONS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
)


def _sublayers(network):
    """`network`'s layers in topological order (functional and Sequential
    models; a subclassed model lists them in the order they were set)."""
    return [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]


def _flatten(network, path=()):
    """`(path, layer)` for every weight-carrying layer, nested models
    expanded, lowest first."""
    found = []
    for layer in _sublayers(network):
        if isinstance(layer, keras.Model):
            found.extend(_flatten(layer, path + (layer.name,)))
        elif layer.weights:
            found.append((path, layer))
    return found


def weighted_layers(network):
    """The layers of `network` that own weights, lowest (closest to the
    input) first; layers of nested models are listed in place.

    A layer counts whether or not it is frozen already, so freezing is
    idempotent.
    """
    return [layer for _, layer in _flatten(network)]


def _block_key(path, layer, previous):
    if isinstance(layer, NORMALIZATIONS) and previous is not None:
        return previous  # a normalization belongs to the layer it follows
    prefix, _, rest = layer.name.partition("_")
    if rest and not rest.isdigit():
        return path + (prefix,)  # "down2_bn" -> "down2", "block1_conv1" -> "block1"
    return path + (layer.name,)  # "down1", "logit", or Keras's "conv2d_3"


def discriminator_blocks(network):
    """The weight-carrying layers of `network` grouped into blocks, lowest
    block first.

    A layer named `<block>_<part>` belongs to block `<block>` (DCGAN's
    `down2` and `down2_bn`; the ResNet critic's `block1_conv1`,
    `block1_conv2`, `block1_skip`); a normalization layer joins the block of
    the layer before it; any other layer is a block of its own. Blocks are
    ordered by their lowest layer. Label embeddings (a conditional
    discriminator's input) belong to no block: FreezeD leaves them trainable.
    """
    blocks, order, previous = {}, [], None
    for path, layer in _flatten(network):
        if isinstance(layer, keras.layers.Embedding):
            continue  # a label's input map (CGAN), not a feature block
        key = _block_key(path, layer, previous)
        if key not in blocks:
            blocks[key] = []
            order.append(key)
        blocks[key].append(layer)
        previous = key
    return [blocks[key] for key in order]


def _check_count(n, available, what):
    n = at_least(n, 0, "n")
    if n >= available:
        raise ValueError(
            f"Cannot freeze {n} {what}: the network has {available}, and at least one "
            f"must stay trainable (freeze at most {available - 1})."
        )
    return n


def freeze_lowest_layers(network, n):
    """Marks the `n` lowest weight-carrying layers of `network`
    non-trainable (FreezeD). Returns the frozen layers.

    >>> import keras
    >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
    ...                         keras.layers.Dense(1)])
    >>> freeze_lowest_layers(net, 1) == [net.layers[0]]
    True
    >>> len(net.trainable_weights)
    2
    """
    layers = weighted_layers(network)
    n = _check_count(n, len(layers), "weight-carrying layers")
    for layer in layers[:n]:
        layer.trainable = False
    return layers[:n]


def freeze_discriminator_blocks(network, n_blocks):
    """Marks the layers of the `n_blocks` lowest blocks of `network` (see
    `discriminator_blocks`) non-trainable (FreezeD). Returns the frozen
    layers."""
    blocks = discriminator_blocks(network)
    n_blocks = _check_count(n_blocks, len(blocks), "blocks")
    frozen = [layer for block in blocks[:n_blocks] for layer in block]
    for layer in frozen:
        layer.trainable = False
    return frozen

"""Regularizers and training tricks as small reusable pieces.

>>> import keras, numpy as np
>>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> ema = averaged_copy(net)
>>> [round(float(a), 6) for a in np.ravel(ema.weights[0].numpy())] == [
...     round(float(a), 6) for a in np.ravel(net.weights[0].numpy())]
True
"""
import keras
from keras import ops


def averaged_copy(network, name=None):
    """A frozen clone of `network` with the same weights, to hold an EMA.

    Its variables are non-trainable, so no optimizer touches them and
    Keras trainers carry them as model state on every backend.
    """
    copy = keras.models.clone_model(network)
    if name is not None:
        copy.name = name
    if not copy.built:
        copy.build(network.input_shape)
    copy.set_weights(network.get_weights())
    copy.trainable = False
    return copy


def ema_update(averaged, source, decay):
    """`averaged <- decay * averaged + (1 - decay) * source`, weight by weight.

    Used for the generator EMA (Karras et al. 2018; Yazici et al. 2019):
    samples from the averaged generator are smoother and cleaner than from
    the raw one. Covers BatchNorm statistics too.
    """
    for avg, value in zip(averaged.weights, source.weights):
        current = ops.cast(value, avg.dtype)
        avg.assign(avg * decay + current * (1.0 - decay))

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


def ema_decay_at(decay, step):
    """`min(decay, (1 + step) / (10 + step))`: the average follows the
    weights closely early on, so it does not drag the random initial
    weights along for thousands of steps (as tf.train.ExponentialMovingAverage
    with num_updates).

    >>> round(float(ema_decay_at(0.999, 0)), 4), round(float(ema_decay_at(0.999, 10**6)), 4)
    (0.1, 0.999)
    """
    step = ops.cast(step, "float32")
    return ops.minimum(decay, (1.0 + step) / (10.0 + step))


def ema_update(averaged, source, decay, step=None):
    """`averaged <- d * averaged + (1 - d) * source`, weight by weight.

    `d` is `decay`, or `ema_decay_at(decay, step)` when `step` is given.
    Used for the generator EMA (Karras et al. 2018; Yazici et al. 2019):
    samples from the averaged generator are smoother than from the raw one.
    Covers BatchNorm statistics too.
    """
    if step is not None:
        decay = ema_decay_at(decay, step)
    for avg, value in zip(averaged.weights, source.weights):
        current = ops.cast(value, avg.dtype)
        avg.assign(avg * decay + current * (1.0 - decay))

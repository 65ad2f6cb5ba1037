"""TensorFlow implementation of the backend seam (graph mode under tf.function)."""
import tensorflow as tf
from keras import ops


def value_and_grad(loss_fn, variables):
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    grads = tape.gradient(loss, variables)
    # tape.gradient(unconnected_gradients=ZERO) crashes on Keras variables.
    grads = [
        ops.zeros(v.shape, v.dtype) if g is None else g
        for g, v in zip(grads, variables)
    ]
    return (loss, aux), grads


def input_gradient(fn, x):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        total = tf.reduce_sum(y)
    return y, tape.gradient(total, x)


def stateful_train_step(model, step_fn, data):
    return step_fn(data)


def sync_model_state(model):
    """Variables are always current outside JAX."""


conv_transpose = ops.conv_transpose

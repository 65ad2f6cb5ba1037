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


def differentiable_grad(fn, values):
    """`(fn(values), grads)`. An enclosing tape records this inner tape's
    gradient computation, so the gradients are differentiable (nested tapes)."""
    values = [tf.convert_to_tensor(v) for v in values]
    with tf.GradientTape() as tape:
        for value in values:
            tape.watch(value)
        loss = fn(values)
    grads = tape.gradient(loss, values)
    grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
    return loss, grads

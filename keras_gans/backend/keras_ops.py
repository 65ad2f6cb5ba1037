"""Small numeric pieces of the backend interface, written with `keras.ops`.

They are the interface's implementation on TF and JAX (which trace the
step once, so Keras's per-op cost is paid once), and torch's for anything
that is not a torch tensor. torch's own (`torch_impl`) calls the kernels
these come down to, with the same numbers. `check_rows` is every
backend's check of a batch size known while tracing.
"""
from keras import ops


def float32_mean(x):
    return ops.mean(ops.cast(x, "float32"))


def row_norms(x):
    x = ops.cast(x, "float32")
    x = ops.reshape(x, (ops.shape(x)[0], -1))
    # The epsilon keeps the norm differentiable where a row is zero.
    return ops.sqrt(ops.sum(ops.square(x), axis=1) + 1e-12)


def check_rows(rows, minimum, message):
    # A count known while tracing (always, on JAX and torch).
    if isinstance(rows, int) and rows < minimum:
        raise ValueError(message)
    return rows


def check_class_ids(images, labels, low, high, message):
    # A compiled program (JAX's, TF's under XLA) cannot raise on values, so
    # a batch holding an id out of range gets NaN images instead: its losses
    # are NaN, and fit() ends the epoch with NonFiniteLossError, which names
    # labels out of range as a cause. One fused add per step.
    in_range = ops.all(ops.logical_and(labels >= low, labels < high))
    poison = ops.where(in_range, ops.zeros((), images.dtype), ops.full((), float("nan"), images.dtype))
    return images + poison, labels


def increment(variable):
    # A device tensor of ones, not the Python 1 (which torch would copy
    # from the host).
    variable.assign_add(ops.ones(variable.shape, variable.dtype))


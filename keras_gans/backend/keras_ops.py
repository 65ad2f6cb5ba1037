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


def increment(variable):
    # A device tensor of ones, not the Python 1 (which torch would copy
    # from the host).
    variable.assign_add(ops.ones(variable.shape, variable.dtype))


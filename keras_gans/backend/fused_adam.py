"""Routes a plain Keras Adam's update through a backend's fused kernel.

TF and torch each have a kernel that does Keras's Adam update in one pass
(`tensorflow_impl.fused_adam_update`, `torch_impl.fused_adam_step`); JAX's
jitted update is fused by XLA already. `install` swaps the kernel into one
optimizer instance's update method, keeping Keras's own update for the
cases the kernel declines.
"""
import functools
import types

import keras


@functools.cache
def _keras_adam():
    """The backend's Keras Adam class (one optimizer built to find it)."""
    return type(keras.optimizers.Adam())


def install(optimizer, method, fused_step, enabled):
    """Makes `optimizer.<method>(*args)` call `fused_step(optimizer, *args)`
    while `enabled()` (read at each call, or each trace on TF), falling back
    to Keras's method where `fused_step` returns False. Only plain Keras
    Adam (exactly that class, not AMSGrad) is changed, once."""
    if type(optimizer) is not _keras_adam() or optimizer.amsgrad or method in vars(optimizer):
        return
    keras_step = getattr(type(optimizer), method)

    def step(self, *args):
        if not (enabled() and fused_step(self, *args)):
            keras_step(self, *args)

    # Bound to the instance rather than closing over it: a copy made
    # attribute by attribute would still update its own variables.
    setattr(optimizer, method, types.MethodType(step, optimizer))

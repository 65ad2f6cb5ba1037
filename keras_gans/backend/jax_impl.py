"""JAX implementation of the backend seam.

Keras's JAX trainer calls `train_step(state, data)` under `jax.jit` with the
variable values passed in as `state`. `stateful_train_step` maps that state
onto the Keras variables with a `StatelessScope`, so one stateful step
written with `keras.ops` serves all backends. Every variable the step reads
must be in the mapping: an unmapped variable inside a StatelessScope silently
reads its initializer value.
"""
import functools

import jax
from keras import ops
from keras.src.backend.common.stateless_scope import StatelessScope
from keras.src.backend.common.stateless_scope import get_stateless_scope
from keras.src.backend.jax import nn as jax_nn

# One replica: means, draws and BatchNorm statistics are global (see single_replica.py).
from keras_gans.backend.single_replica import SYNCHRONIZES_BATCH_NORM  # noqa: F401
from keras_gans.backend.single_replica import draw_for_replica  # noqa: F401
from keras_gans.backend.single_replica import replicas_in_sync  # noqa: F401
from keras_gans.backend.single_replica import scale_loss_for_distribution  # noqa: F401


def _child_scope(extra=()):
    """A StatelessScope that sees the current scope's values plus `extra`."""
    scope = StatelessScope()
    outer = get_stateless_scope()
    if outer is not None:
        scope.state_mapping.update(outer.state_mapping)
    for variable, value in extra:
        scope.state_mapping[id(variable)] = value
    return scope


def value_and_grad(loss_fn, variables):
    ids = {id(v) for v in variables}
    base = get_stateless_scope()
    base_mapping = dict(base.state_mapping) if base is not None else {}

    def pure(values):
        with _child_scope(zip(variables, values)) as scope:
            loss, aux = loss_fn()
        # Non-differentiated state written by loss_fn (BatchNorm statistics,
        # seed generators) leaves the gradient trace as auxiliary output.
        updates = {
            key: value
            for key, value in scope.state_mapping.items()
            if key not in ids and base_mapping.get(key) is not value
        }
        return loss, (aux, updates)

    values = [v.value for v in variables]
    (loss, (aux, updates)), grads = jax.value_and_grad(pure, has_aux=True)(
        values
    )
    if base is not None:
        base.state_mapping.update(updates)
    # Outside a train step (no scope) there is nowhere to write the updates
    # functionally; they are dropped, as in a Keras stateless call.
    return (loss, aux), grads


def input_gradient(fn, x):
    def pure(x_):
        # Forward passes inside a penalty must not write state: their
        # tracers would leak out of this inner transformation.
        with _child_scope():
            y = fn(x_)
        return ops.sum(y), y

    (_, y), grad = jax.value_and_grad(pure, has_aux=True)(
        ops.convert_to_tensor(x)
    )
    return y, grad


def stateful_train_step(model, step_fn, state, data):
    trainable, non_trainable, optimizer_values, metrics_values = state
    return _run_stateful(step_fn, data, (
        (model.trainable_variables, trainable),
        (model.non_trainable_variables, non_trainable),
        (model.optimizer.variables, optimizer_values),
        (model.metrics_variables, metrics_values),
    ))


def stateful_test_step(model, step_fn, state, data):
    # Keras's JAX test step takes (trainable, non-trainable, metrics) values
    # and returns the same three.
    trainable, non_trainable, metrics_values = state
    return _run_stateful(step_fn, data, (
        (model.trainable_variables, trainable),
        (model.non_trainable_variables, non_trainable),
        (model.metrics_variables, metrics_values),
    ))


def _run_stateful(step_fn, data, groups):
    """`step_fn(data)` with each `(variables, values)` group's values mapped
    onto its variables; returns the logs and the groups' new values."""
    mapping = [pair for refs, vals in groups for pair in zip(refs, vals)]
    with StatelessScope(state_mapping=mapping) as scope:
        logs = step_fn(data)
    new_state = tuple(
        [_current(scope, ref, val) for ref, val in zip(refs, vals)]
        for refs, vals in groups
    )
    return logs, new_state


def apply_gradients(optimizer, grads, variables):
    """`optimizer.apply` run statelessly, as Keras's JAX trainer does.

    A stateful apply that branches with `ops.cond` (LossScaleOptimizer's
    finite-gradient check, gradient accumulation) would leak the branches'
    traced values into the enclosing StatelessScope.
    """
    built_on = getattr(optimizer, "_trainable_variables", None)
    if built_on is None or [id(v) for v in built_on] != [id(v) for v in variables]:
        # stateless_apply needs the variables the optimizer was built on.
        return optimizer.apply(grads, variables)
    slots = optimizer.variables
    new_values, new_slots = optimizer.stateless_apply(
        [v.value for v in slots], grads, [v.value for v in variables]
    )
    for variable, value in zip(list(variables) + slots, list(new_values) + list(new_slots)):
        variable.assign(value)


def sync_model_state(model):
    """fit() on JAX keeps variable values outside the model mid-epoch."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


def _current(scope, variable, default):
    value = scope.get_current_value(variable)
    return default if value is None else value


def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """`ops.conv_transpose` whose kernel gradient is a strided convolution.

    XLA on CPU computes the kernel gradient of a strided transposed
    convolution (a convolution with lhs dilation) about 25x slower than the
    forward pass. The kernel gradient equals the kernel gradient of the
    adjoint map, a plain strided convolution, which XLA computes quickly:
    <dy, T_k(x)> = <T_k^*(dy), x>, so d/dk of both sides agree.
    """
    forward = functools.partial(
        jax_nn.conv_transpose,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        data_format=data_format,
        dilation_rate=dilation_rate,
    )
    return _fast_conv_transpose(forward, inputs, kernel)


def _with_backward(bwd):
    """`fn(forward, x, kernel) = forward(x, kernel)`, differentiated by
    `bwd(forward, (x, kernel), dy) -> (dx, dkernel)`."""

    @functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
    def fn(forward, x, kernel):
        return forward(x, kernel)

    def fwd(forward, x, kernel):
        return forward(x, kernel), (x, kernel)

    fn.defvjp(fwd, bwd)
    return fn


def _adjoint(forward, x_like, dy, kernel):
    """`A_k^T dy` for the linear map `A_k x = forward(x, kernel)`."""
    (dx,) = jax.linear_transpose(lambda x_: forward(x_, kernel), x_like)(dy)
    return dx


def _fast_conv_transpose_bwd(forward, residuals, dy):
    x, kernel = residuals
    dx, kernel_vjp = jax.vjp(lambda k: _adjoint(forward, x, dy, k), kernel)
    (dkernel,) = kernel_vjp(x)
    return dx, dkernel


_fast_conv_transpose = _with_backward(_fast_conv_transpose_bwd)


def differentiable_grad(fn, values):
    """`(fn(values), grads)`; JAX gradients are differentiable as they are."""
    return jax.value_and_grad(fn)(list(values))


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """`ops.conv` whose input gradient has a fast kernel gradient.

    A penalty on the input gradient (WGAN-GP, R1) differentiates the input
    gradient of a strided convolution, an lhs-dilated convolution, with
    respect to the kernel; XLA on CPU computes that kernel gradient ~10x
    slower than a convolution of the same size (WGAN-GP: half of each
    step). Here the input gradient goes through `_fast_conv_transpose`,
    whose kernel gradient is a strided convolution again. Values and first
    derivatives are those of `ops.conv`. It applies on every JAX platform
    (measured on CPU only), and, as a `jax.custom_vjp`, it supports reverse
    mode only: `jax.jvp`/`jax.hessian` through a strided call fail.
    """
    forward = functools.partial(
        jax_nn.conv,
        strides=strides,
        padding=padding,
        data_format=data_format,
        dilation_rate=dilation_rate,
    )
    if _all_ones(strides):
        return forward(inputs, kernel)
    # Variables become arrays here (read under the layer's autocast scope);
    # integer images take the kernel's dtype (the adjoint needs floats).
    kernel = ops.convert_to_tensor(kernel)
    inputs = ops.convert_to_tensor(inputs)
    if not jax.numpy.issubdtype(inputs.dtype, jax.numpy.floating):
        inputs = inputs.astype(kernel.dtype)
    return _fast_strided_conv(forward, inputs, kernel)


def _all_ones(strides):
    return all(s == 1 for s in (strides if isinstance(strides, (list, tuple)) else [strides]))


def _fast_strided_conv_bwd(forward, residuals, dy):
    x, kernel = residuals
    # dx = A_k^T dy, written as a transposed convolution of dy whose own
    # derivatives are strided convolutions (see `_fast_conv_transpose`).
    transposed = functools.partial(_adjoint, forward, jax.ShapeDtypeStruct(x.shape, x.dtype))
    dx = _fast_conv_transpose(transposed, dy, kernel)
    _, kernel_vjp = jax.vjp(lambda k: forward(x, k), kernel)
    (dkernel,) = kernel_vjp(dy)
    return dx, dkernel


_fast_strided_conv = _with_backward(_fast_strided_conv_bwd)

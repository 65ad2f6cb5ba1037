"""PyTorch implementation of the backend seam (eager autograd)."""
import functools
import math

import keras
import numpy as np
import torch
from keras import ops

from keras_gans.backend import fused_adam
from keras_gans.backend import keras_ops
from keras_gans.backend import torch_variables

# One replica: means, draws and BatchNorm statistics are global (see single_replica.py).
from keras_gans.backend.single_replica import SYNCHRONIZES_BATCH_NORM  # noqa: F401
from keras_gans.backend.single_replica import draw_for_replica  # noqa: F401
from keras_gans.backend.single_replica import replicas_in_sync  # noqa: F401
from keras_gans.backend.single_replica import scale_loss_for_distribution  # noqa: F401
from keras_gans.backend.torch_graph import call_network  # noqa: F401
from keras_gans.backend.torch_random import normal as random_normal  # noqa: F401
from keras_gans.backend.torch_random import uniform as random_uniform  # noqa: F401


def value_and_grad(loss_fn, variables):
    loss, aux = loss_fn()
    grads = torch.autograd.grad(
        loss,
        torch_variables.values(variables),
        allow_unused=True,
        materialize_grads=True,
    )
    return (loss, aux), list(grads)


def input_gradient(fn, x):
    x = ops.convert_to_tensor(x)
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    y = fn(x)
    (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    return y, grad


def stateful_train_step(model, step_fn, data):
    return step_fn(data)


def stateful_test_step(model, step_fn, data):
    # Keras runs test steps under torch.no_grad(); an evaluated gradient
    # penalty still needs its input gradient.
    with torch.enable_grad():
        return step_fn(data)


def apply_gradients(optimizer, grads, variables):
    # Not while torch.compile traces: both would only break its graph
    # (building Keras's Adam to compare classes makes a Parameter), and
    # neither step applies there.
    if not torch.compiler.is_compiling():
        fused_adam.install(optimizer, "_parallel_update_step", fused_adam_step, lambda: FUSED_ADAM)
        # Not `optimizer.iterations`: with gradient accumulation that is a
        # quotient tensor; a LossScaleOptimizer's inner optimizer counts.
        _add_iterations_in_place(getattr(optimizer, "inner_optimizer", optimizer)._iterations)
    optimizer.apply(grads, variables)


def add_to_mean(tracker, value):
    # Keras's update and result take ~20 ops and a Python count per call.
    if not torch_variables.reads_are_plain():
        return None
    total, count = torch_variables.values([tracker.total, tracker.count])
    with torch.no_grad():
        total.add_(value.to(total.dtype))  # as Keras's cast (float64 would round otherwise)
        count.add_(1)
    return total / count


def float32_mean(x):
    if not isinstance(x, torch.Tensor):  # arrays, numbers, KerasTensors
        return keras_ops.float32_mean(x)
    # Keras's cast and mean come down to these two calls.
    return torch.mean(x if x.dtype == torch.float32 else x.to(torch.float32), None, False)


def row_norms(x):
    if not isinstance(x, torch.Tensor):
        return keras_ops.row_norms(x)
    x = x if x.dtype == torch.float32 else x.to(torch.float32)
    x = x.reshape(x.shape[0], -1)
    return torch.sqrt(torch.sum(torch.square(x), dim=1) + 1e-12)


def increment(variable):
    if _add_in_place(variable, 1) is None:
        keras_ops.increment(variable)


def _add_iterations_in_place(variable):
    """Makes `variable.assign_add(<Python int>)` add in place. Keras's own
    first makes the int a device tensor: a host-to-device copy, which on a
    GPU waits for every queued kernel, and `Optimizer.apply` counts each
    update that way (six stalls in a WGAN-GP step)."""
    if "assign_add" not in vars(variable):
        # A partial, not a closure: a deep copy updates its own value, and
        # the variable still pickles.
        variable.assign_add = functools.partial(_assign_add_in_place, variable)


def _assign_add_in_place(variable, value):
    stored = _add_in_place(variable, value) if type(value) is int else None
    if stored is not None:
        return stored.clone()  # as Keras's: not the variable itself
    return type(variable).assign_add(variable, value)


def _add_in_place(variable, value):
    """Adds the Python number `value` to `variable`'s stored tensor in
    place (no host-to-device copy) and returns that tensor; None, with
    nothing done, where the tensor is not plainly readable."""
    stored = _plain_stored(variable)
    if stored is None:
        return None
    before, count = torch_variables.version(stored), _HOST_VALUES.get(stored)
    with torch.no_grad():
        stored.add_(value)
    if count is not None:
        _HOST_VALUES.keep(stored, count + value, before + 1)
    return stored


def _plain_stored(variable):
    """The tensor a Keras variable stores, where a read is that tensor:
    Keras's own `value`, outside stateless and autocast scopes and not
    traced by `torch.compile`; else None."""
    if isinstance(variable, keras.Variable) and type(variable).value is torch_variables.PLAIN_VALUE \
            and torch_variables.reads_are_plain() and not torch.compiler.is_compiling():
        return variable._value
    return None


# Optimizer counters and learning rates as Python numbers (see `_host_value`).
_HOST_VALUES = torch_variables.HostMirror()


def _host_value(variable):
    """A scalar variable's value as a Python number: read back once, then
    kept while nothing else writes it (our in-place `iterations` count keeps
    it current). None where a read is not plain (a stateless or autocast
    scope) or traced (`torch.compile` would recompile for each new number)."""
    stored = _plain_stored(variable)
    if stored is None:
        return None
    number = _HOST_VALUES.get(stored)
    if number is None:
        before = torch_variables.version(stored)
        number = stored.item()
        _HOST_VALUES.keep(stored, number, before)
    return number


# Keras's torch Adam updates with ten `torch._foreach_*` passes and four
# temporary lists: 11.9 ms per step for DCGAN's 0.77M generator weights at
# one thread, against 8.2 ms for `torch.optim.Adam`'s default loop and
# 0.84 ms for torch's fused kernel. Set False to keep Keras's update.
FUSED_ADAM = True


def fused_adam_step(optimizer, grads, variables, learning_rate):
    """Keras's Adam update in one `torch._fused_adam_` call; False (nothing
    done) where the kernel does not apply (mixed dtypes or devices).

    Keras divides by `sqrt(v) + epsilon` and folds both bias corrections
    into the step size `alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`;
    torch's kernel divides by `sqrt(v) / sqrt(1 - beta_2^t) + epsilon`. The
    kernel gets Keras's `alpha` as its learning rate and a step count so
    large that its own corrections are exactly 1, so it computes Keras's
    update (to float rounding: `m` moves by `lerp`).
    """
    if torch.compiler.is_compiling():
        return False  # the kernel has no fake (meta) implementation to trace
    params = torch_variables.values(variables)
    first = params[0]
    if any(t.dtype != first.dtype or t.device != first.device for t in params + list(grads)):
        return False
    index = optimizer._get_variable_index
    momentums = torch_variables.values([optimizer._momentums[index(v)] for v in variables])
    velocities = torch_variables.values([optimizer._velocities[index(v)] for v in variables])
    alpha = _step_size(optimizer, learning_rate, first.dtype)
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    steps = [_saturated_step(first.device)] * len(params)
    torch._fused_adam_(params, [g.contiguous() for g in grads], momentums, velocities, [],
                       steps, lr=alpha, beta1=float(beta_1), beta2=float(beta_2),
                       weight_decay=0.0, eps=float(optimizer.epsilon), amsgrad=False,
                       maximize=False)
    # The fused kernel does not bump the weights' version counters, which
    # autograd's in-place checks and the kernel copies of
    # `torch_graph._KernelCopies` read.
    for param in params:  # one at a time: torch < 2.5 takes no list
        torch.autograd.graph.increment_version(param)
    return True


# Weight dtypes whose step size the host computes: in 16 bits Keras's own
# rounds to something else (bfloat16's 0.999 is 1: a step size of 0).
_HOST_FLOATS = {torch.float32: np.float32, torch.float64: np.float64}


def _step_size(optimizer, learning_rate, dtype):
    """Keras's Adam step size `lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`,
    `t = iterations + 1`: from the host's copies of the count and the rate
    where there are such (a Python float, or the rate tensor times one),
    else in tensor ops as Keras computes it. The host way saves ~12 tiny ops
    (~75 us here, and as many kernel launches on a GPU) per apply."""
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    host_dtype = _HOST_FLOATS.get(dtype)  # Keras rounds the betas to the weights' dtype
    # A tensor, not a variable, when accumulating gradients.
    count = _host_value(optimizer.iterations) if host_dtype else None
    if count is not None:
        t = count + 1
        beta_1, beta_2 = float(host_dtype(beta_1)), float(host_dtype(beta_2))
        correction = math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        rate = _host_value(learning_rate)
        if rate is not None:
            return rate * correction
        return ops.convert_to_tensor(learning_rate).to(dtype) * correction
    step = (ops.convert_to_tensor(optimizer.iterations) + 1).to(dtype)
    return (ops.convert_to_tensor(learning_rate).to(dtype)
            * torch.sqrt(1 - torch.pow(torch.as_tensor(beta_2, dtype=dtype), step))
            / (1 - torch.pow(torch.as_tensor(beta_1, dtype=dtype), step)))


_SATURATED = {}


def _saturated_step(device):
    # beta^(2^40) is 0 in float32 for any beta < 1 - 1e-11: corrections of 1.
    if device not in _SATURATED:
        _SATURATED[device] = torch.tensor(2.0**40, device=device)
    return _SATURATED[device]


def check_class_ids(images, labels, low, high, message):
    in_range = torch.logical_and(labels >= low, labels < high).all()
    if labels.device.type == "cpu":
        if not bool(in_range):
            raise ValueError(message)
    else:  # no host sync per step: an asynchronous device-side assertion
        torch._assert_async(in_range, message)
    return images, labels


def copy_values(variables):
    with torch.no_grad():
        return [value.clone() for value in torch_variables.values(variables)]


def assign_values(variables, values):
    if not torch_variables.reads_are_plain():
        for variable, value in zip(variables, values):
            variable.assign(value)
        return
    with torch.no_grad():
        for stored, value in zip(torch_variables.values(variables), values):
            stored.copy_(value)


def no_gradient():
    return torch.no_grad()


def sync_model_state(model):
    """Variables are always current outside JAX."""


def batch_norm_training(inputs, gamma, beta, epsilon, moving_mean, moving_variance, momentum):
    """Training-mode BatchNormalization over all axes but the last.

    Returns the outputs and moves the Keras variables `moving_mean` and
    `moving_variance` towards the batch statistics (biased variance, as
    Keras's moments) by `momentum` (not when they are None: batch
    statistics only), or returns None where torch's kernel does not apply
    (one value per channel). Keras's torch version
    normalizes with separate element-wise ops and reductions; torch's fused
    kernel does the forward and backward in one pass each (~2x faster on a
    DCGAN feature map), and the moving update is two in-place ops instead
    of ten Keras ops. Channels-last data is a channels-first view with
    channels-last strides, which the kernel takes without a copy.
    """
    channels = inputs.shape[-1]
    count = inputs.numel() // max(1, channels)
    if inputs.ndim < 2 or count < 2:
        return None
    view = inputs if inputs.ndim == 2 else inputs.movedim(-1, 1)
    # The kernel writes the batch statistics into "running" buffers
    # (momentum 1); its variance there is unbiased.
    mean = torch.zeros(channels, dtype=inputs.dtype, device=inputs.device)
    variance = torch.ones(channels, dtype=inputs.dtype, device=inputs.device)
    outputs = torch.nn.functional.batch_norm(
        view, mean, variance, gamma, beta, training=True, momentum=1.0, eps=epsilon
    )
    if moving_mean is None:  # batch statistics only
        return outputs if inputs.ndim == 2 else outputs.movedim(1, -1)
    with torch.no_grad():
        for moving, batch in ((moving_mean, mean), (moving_variance, variance * ((count - 1) / count))):
            value = torch_variables.value(moving)
            value.mul_(momentum).add_(batch.to(value.dtype), alpha=1.0 - momentum)
    return outputs if inputs.ndim == 2 else outputs.movedim(1, -1)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """`ops.conv_transpose`, computing only the window it keeps.

    Keras's torch version runs torch's transposed convolution unpadded and
    slices the result (the DCGAN's 4x4 stride-2 "same" layers: 30x30
    computed for 28x28 kept, then a copy). When the slice is what torch's
    own `padding` (both sides) plus `output_padding` (right side) express,
    pass those instead: the same numbers, less work. Anything else goes to
    `ops.conv_transpose`.
    """
    inputs, kernel = ops.convert_to_tensor(inputs), ops.convert_to_tensor(kernel)
    strides, dilation = _pair(strides), _pair(dilation_rate)
    pads = None
    if inputs.ndim == 4:
        pads = conv_transpose_padding(kernel.shape, strides, padding, output_padding, dilation)
    if pads is None:
        return ops.conv_transpose(inputs, kernel, strides, padding, output_padding,
                                  data_format, dilation_rate)
    return padded_conv_transpose(inputs, kernel.permute(3, 2, 0, 1), strides, pads, dilation,
                                 data_format)


def conv_transpose_padding(kernel_shape, strides, padding, output_padding, dilation):
    """torch's `(padding, output_padding)` giving Keras's output window of a
    2D transposed convolution, or None where they cannot (it depends on the
    kernel and the options only, so a graph computes it once)."""
    from keras.src.backend.common.backend_utils import (
        compute_conv_transpose_output_crops_for_torch as output_crops,
    )

    crops = output_crops(input_shape=(None,) * 4, kernel_shape=kernel_shape,
                         strides=strides, padding=padding,
                         output_padding=output_padding, dilation_rate=dilation)
    # torch's output_padding must be smaller than the stride or the dilation.
    if crops is None or not all(0 <= right <= left and left - right < max(s, d)
                                for (left, right), s, d in zip(crops, strides, dilation)):
        return None
    return [left for left, _ in crops], [left - right for left, right in crops]


def torch_transpose_kernel(kernel):
    """A Keras `Conv2DTranspose` kernel `(h, w, out, in)` as torch's
    transposed convolution takes it for channels-last inputs, `(in, out, h,
    w)` in channels-last memory: the copy torch's kernel would otherwise
    make on each call (the same numbers)."""
    return kernel.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)


def padded_conv_transpose(inputs, kernel, strides, pads, dilation, data_format=None,
                          bias=None):
    """torch's transposed convolution with `pads` from `conv_transpose_padding`
    (and the per-channel `bias`, added inside the kernel). `kernel` is in
    torch's layout `(in, out, h, w)`: a permuted view of Keras's, or
    `torch_transpose_kernel`'s copy of it."""
    channels_last = _channels_last(data_format)
    x = inputs.permute(0, 3, 1, 2) if channels_last else inputs
    y = torch.nn.functional.conv_transpose2d(
        x, kernel, bias, stride=strides, padding=pads[0],
        output_padding=pads[1], dilation=dilation)
    return y.permute(0, 2, 3, 1) if channels_last else y


def _channels_last(data_format):
    return (data_format or keras.config.image_data_format()) == "channels_last"


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value), int(value))


def differentiable_grad(fn, values):
    """`(fn(values), grads)` with `create_graph=True`, so the gradients are
    differentiable. Values that need no gradient get a fresh leaf."""
    values = [
        v if v.requires_grad else v.detach().requires_grad_(True)
        for v in (ops.convert_to_tensor(v) for v in values)
    ]
    loss = fn(values)
    grads = torch.autograd.grad(
        loss, values, create_graph=True, allow_unused=True, materialize_grads=True
    )
    return loss, list(grads)


def global_rng_states():
    """torch's global generators (Keras's unseeded Dropout draws its masks
    there, not from the layer's seed state), as numpy arrays."""
    states = {"rng_torch_cpu": torch.get_rng_state().numpy()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"rng_torch_cuda{i}"] = state.cpu().numpy()
    return states


def set_global_rng_states(states):
    if "rng_torch_cpu" in states:
        torch.set_rng_state(torch.from_numpy(states["rng_torch_cpu"]))
    for name, state in states.items():
        if name.startswith("rng_torch_cuda") and torch.cuda.is_available():
            index = int(name[len("rng_torch_cuda"):])
            if index < torch.cuda.device_count():
                torch.cuda.set_rng_state(torch.from_numpy(state), index)

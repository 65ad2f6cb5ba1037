"""Calls a built Functional or Sequential network on torch without
`Layer.__call__`'s per-layer bookkeeping.

Eager torch pays `Layer.__call__` (input conversion, call-spec parsing,
name scopes, training and mask resolution) for every layer of every call:
~0.5 ms a layer here, ~27 ms of a DCGAN training step's five network calls,
a quarter of the step at batch 64. TF and JAX trace the step once, so they
pay it once. `call_network` walks the graph's nodes in order and calls each
built layer's `call(...)` directly, passing `training` where the layer takes
it: the same torch operations in the same order, so the same numbers and
gradients.

The commonest layers go one step further (`_lowerings`): Keras's own
`call` still pays ~0.1-0.3 ms of op dispatch per layer (`Conv2D` reshapes
its bias through `ops.reshape`, whose symbolic-tensor check flattens its
arguments; the convolution copies its input to NCHW and back to
channels-last memory). For exactly `Conv2D`, `Dense`, `Flatten`,
`Reshape`, `LeakyReLU`, `ReLU` and `Activation` in their plain
configurations (and our `Conv2DTranspose` and `BatchNormalization`) the
step calls the torch
operations that `call` ends in, with the same memory layouts, so the same
kernels run; any other configuration keeps `call`. The lowered
convolutions also keep their kernels' copies in torch's layout while the
weights are unchanged (`_KernelCopies`), instead of copying them on each
call.

It falls back to `network(inputs, training=training)` where the shortcut
would skip something that matters: networks that are not graphs (subclassed
models, graph subclasses that override `call`), unbuilt layers, mixed
precision or quantized layers (autocasting), activity regularizers, mask-producing layers (`Masking`, `Embedding` with
`mask_zero`, custom `compute_mask`), and inputs whose rank or dtype differ
from the graph's (so the usual error message is raised).
"""
import functools
import weakref

import keras
import torch
from keras.src.backend import KerasTensor
from keras.src.backend.torch.core import to_torch_dtype
from keras.src.models.functional import Functional
from keras.src.models.sequential import Sequential

from keras_gans.backend import torch_variables

# Flip off to time or debug the plain `Layer.__call__` path; LOWER off
# keeps the shortcut but calls every layer's own `call` (clear `_PLANS`
# after changing it).
ENABLED = True
LOWER = True

_PLANS = weakref.WeakKeyDictionary()  # network -> _Plan, or False if ineligible

# Off: every convolution call copies its kernel to torch's layout again.
REUSE_KERNELS = True


def call_network(network, inputs, training):
    """`network(inputs, training=training)`, without per-layer overhead
    for graph networks (see the module docstring)."""
    # training=None defers to each layer's default, which only __call__ resolves.
    plan = _PLANS.get(network) if ENABLED and training is not None else False
    if plan is None:
        plan = _PLANS[network] = _Plan.build(network) or False
    if plan and plan.accepts(inputs):
        return plan(inputs, training)
    return network(inputs, training=training)


def _graph_of(network):
    """The Functional graph that runs `network`, or None."""
    # A subclass that overrides `call` runs its own code, not the graph.
    if isinstance(network, Sequential) and type(network).call is Sequential.call:
        network = getattr(network, "_functional", None)
    if isinstance(network, Functional) and type(network).call is Functional.call and network.built:
        return network
    return None


def _layer_is_plain(layer):
    """True where calling `layer.call` equals `layer.__call__` for
    unmasked, float32-policy tensors."""
    policy = layer.dtype_policy
    if getattr(policy, "quantization_mode", None) or layer.compute_dtype != layer.variable_dtype:
        return False
    if not layer.built or getattr(layer, "activity_regularizer", None) is not None:
        return False
    if isinstance(layer, (keras.layers.Masking, keras.layers.ActivityRegularization)):
        return False
    if getattr(layer, "mask_zero", False):
        return False
    custom_mask = type(layer).compute_mask is not keras.layers.Layer.compute_mask
    return not (custom_mask and not type(layer).__module__.startswith("keras.src."))


class _Plan:
    """A graph's layer calls in execution order."""

    def __init__(self, graph, steps):
        self.input_ids = [id(x) for x in graph.inputs]
        self.input_specs = [
            (len(x.shape), to_torch_dtype(x.dtype), [(i, d) for i, d in enumerate(x.shape) if d is not None])
            for x in graph.inputs
        ]
        # Inputs on another device (a CPU tensor for a CUDA network) take
        # `__call__`, which moves them as Keras's conversion does.
        stored = [w._value for w in graph.weights if getattr(w, "_value", None) is not None]
        self.device = stored[0].device if stored else None
        self.output_ids = [id(x) for x in graph.outputs]
        self.outputs_struct = graph._outputs_struct
        # One output tensor, not nested: no tree packing needed.
        self.single_output = not isinstance(self.outputs_struct, (list, tuple, dict))
        self.steps = steps

    @classmethod
    def build(cls, network):
        graph = _graph_of(network)
        if graph is None or not _layer_is_plain(network):
            return None
        steps = []
        for depth in sorted(graph._nodes_by_depth, reverse=True):
            for node in graph._nodes_by_depth[depth]:
                if not node.operation or node.is_input:
                    continue
                step = cls._step(node)
                if step is None:
                    return None
                call, takes_training, arguments, outputs = step
                steps.append((call, takes_training, _filler(arguments), outputs))
        return cls(graph, steps)

    @staticmethod
    def _step(node):
        """`(call, takes_training, arguments, output ids)` for one node, or None."""
        operation = node.operation
        outputs = [id(x) for x in node.outputs]
        if not isinstance(operation, keras.layers.Layer):
            # A keras.ops call inside the graph: cheap, keep its __call__.
            return operation, False, node.arguments, outputs
        if _graph_of(operation) is not None:  # a nested graph network
            inner = _Plan.build(operation)
            kwargs = node.arguments.kwargs
            if inner is None or set(kwargs) - {"training", "mask"} or kwargs.get("mask") is not None:
                return None

            def call_inner(*args, training, mask=None):
                return inner(args[0] if len(args) == 1 else list(args), training)

            return call_inner, True, node.arguments, outputs
        if isinstance(operation, keras.Model) or not _layer_is_plain(operation):
            return None
        call = _converting(operation) if operation._convert_input_args else operation.call
        takes_training = operation._call_has_training_arg
        lowered = _lowered(operation, node, call)
        if lowered is not None:
            call, takes_training = lowered
        return call, takes_training, node.arguments, outputs

    def accepts(self, inputs):
        """Whether `inputs` are torch tensors of the graph's input shapes,
        dtypes and device (anything else takes `__call__`, which converts or
        raises)."""
        flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        return len(flat) == len(self.input_specs) and all(
            isinstance(x, torch.Tensor) and x.ndim == rank and x.dtype == dtype
            and (self.device is None or x.device == self.device)
            and all(x.shape[i] == size for i, size in known)
            for x, (rank, dtype, known) in zip(flat, self.input_specs)
        )

    def __call__(self, inputs, training):
        flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        tensors = dict(zip(self.input_ids, flat))
        for call, takes_training, fill_in, output_ids in self.steps:
            args, kwargs = fill_in(tensors)
            if takes_training:
                # As Functional.call: the call's `training` overrides the node's.
                kwargs["training"] = training
            outputs = call(*args, **kwargs)
            if len(output_ids) == 1:
                tensors[output_ids[0]] = outputs
            else:
                tensors.update(zip(output_ids, keras.tree.flatten(outputs)))
        if self.single_output:
            return tensors[self.output_ids[0]]
        results = [tensors[i] for i in self.output_ids]
        return keras.tree.pack_sequence_as(self.outputs_struct, results)


def _filler(arguments):
    """`arguments.fill_in`, without its two tree walks per call for the
    common node: one tensor argument and constant keyword arguments (Keras
    skips them only when there are no keyword arguments at all, and its
    nodes record `mask=None`, `training=...`)."""
    args, kwargs = arguments.args, arguments.kwargs
    # Single values only: Keras rebuilds a list or dict on each call, which
    # a layer may then change in place.
    constant = not any(isinstance(v, KerasTensor) or keras.tree.is_nested(v) for v in kwargs.values())
    if len(args) != 1 or not isinstance(args[0], KerasTensor) or not constant:
        return arguments.fill_in
    key = id(args[0])

    def fill_in(tensors):
        return (tensors[key],), dict(kwargs)  # a new dict: the step sets `training`

    return fill_in


def _converting(layer):
    """`layer.call` with `Layer.__call__`'s cast of float inputs to the
    layer's input dtype (e.g. a float64 tensor reaching a float32 layer)."""
    dtype = layer.input_dtype
    expected = to_torch_dtype(dtype)
    policy, autocast, call = layer.dtype_policy, layer.autocast, layer.call

    def convert(x):
        return policy.convert_input(x, autocast, dtype)

    def run(*args, **kwargs):
        if len(args) == 1 and isinstance(args[0], torch.Tensor):
            if args[0].dtype != expected:
                args = (convert(args[0]),)
        else:
            args = keras.tree.map_structure(convert, args)
        return call(*args, **kwargs)

    return run


# ------------------------------------------------------------- lowerings
# Each builder gets the layer and its node's static input shape and returns
# `fn(x)` equal to `layer.call(x)` for a float tensor of the layer's compute
# dtype (`fn(x, training)` for layers that take `training`), or None where
# the configuration is not the plain one it covers.


def _lowered(layer, node, call):
    """`(lowered call, takes_training)` of `layer` at `node`, or None (keep
    `call`)."""
    build = _lowerings().get(type(layer)) if LOWER else None
    args, kwargs = node.arguments.args, node.arguments.kwargs
    unmasked = all(key == "mask" and value is None for key, value in kwargs.items())
    if build is None or not unmasked or len(args) != 1 or not hasattr(args[0], "shape"):
        return None
    if getattr(layer, "lora_enabled", False):
        return None
    fn = build(layer, tuple(args[0].shape))
    if fn is None:
        return None
    expected = to_torch_dtype(layer.compute_dtype)
    # Only the lowerings that use `training` take it (Dense's `call` has the
    # argument and ignores it).
    takes_training = getattr(fn, "takes_training", False)

    def run(x, mask=None, **training):
        # Another dtype takes `call`, which casts it as `__call__` would.
        return fn(x, **training) if x.dtype == expected else call(x, **training)

    run.lowers = layer
    return run, takes_training


def _activation(layer):
    """`layer.activation` as a torch function (None for linear)."""
    activation = layer.activation
    if activation is keras.activations.linear:
        return None
    return _TORCH_ACTIVATIONS.get(activation, activation)


def _with_bias_and_activation(layer, fn):
    """`fn(x, kernel, bias)` (bias None without one), then the layer's
    activation; the weights are read once per call. `fn` adds the bias
    inside its kernel where that gives the same numbers (convolutions add
    it after accumulating): a separate add costs an op and an autograd node
    per call."""
    activation = _activation(layer)
    use_bias = getattr(layer, "use_bias", True) and layer.bias is not None
    weights = (layer.kernel, layer.bias) if use_bias else (layer.kernel,)

    def run(x):
        read = torch_variables.values(weights)
        y = fn(x, read[0], read[1] if use_bias else None)
        return y if activation is None else activation(y)

    return run


class _KernelCopies:
    """`convert(kernel)` (a copy in the layout torch's convolution takes),
    reused while `kernel` is the same tensor with no in-place write since
    (its version counter: optimizer steps and assigns bump it) and the
    grad mode is the same.

    A WGAN-GP step runs the generator six times and the critic up to four
    times per update at the same weights; each call would copy every
    kernel (~2 ms of copies per step here). A copy made with gradients
    enabled keeps its autograd path to the kernel (a permute and a clone,
    which save no tensors), so a later graph can differentiate through it
    again; one made without gradients serves only calls without them.
    One instance per lowered layer: the copies go with the layer's plan.
    `requires_grad` is part of the check too: Keras's `trainable` setter
    flips it without a version bump, and a copy made while frozen has no
    path back to the kernel.
    """

    def __init__(self, convert):
        self.convert = convert
        self.copies = {}  # grad mode -> (kernel, its version, requires_grad, copy)

    def __call__(self, kernel):
        version = torch_variables.version(kernel)
        # Inference tensors have no version counter; torch.compile traces.
        if not REUSE_KERNELS or version is None or torch.compiler.is_compiling():
            return self.convert(kernel)
        grad_mode = torch.is_grad_enabled()
        state = (version, kernel.requires_grad)
        held = self.copies.get(grad_mode)
        if held is not None and held[0] is kernel and held[1:3] == state:
            return held[3]
        copy = self.convert(kernel)
        self.copies[grad_mode] = (kernel, *state, copy)
        return copy


def _conv2d(layer, shape):
    from keras.src.backend.torch.nn import _compute_padding_length

    if layer.data_format != "channels_last" or layer.groups != 1 or len(shape) != 4:
        return None
    padding = [0, 0]
    if layer.padding == "same":
        if None in shape[1:3]:
            return None
        pads = [_compute_padding_length(n, k, s, d) for n, k, s, d in zip(
            shape[1:3], layer.kernel_size, layer.strides, layer.dilation_rate)]
        if any(left != right for left, right in pads):
            return None  # Keras pads the input itself: keep its call
        padding = [left for left, _ in pads]
    stride, dilation = list(layer.strides), list(layer.dilation_rate)
    channels_last = torch.channels_last

    to_torch = _KernelCopies(
        lambda kernel: kernel.permute(3, 2, 0, 1).contiguous(memory_format=channels_last))

    def conv(x, kernel, bias):
        # As Keras's conv: NCHW shape in channels-last memory (a view of an
        # NHWC tensor), the kernel copied to channels-last memory.
        x = x.permute(0, 3, 1, 2)
        if not x.is_contiguous(memory_format=channels_last):
            x = x.contiguous(memory_format=channels_last)
        kernel = to_torch(kernel)
        y = torch.nn.functional.conv2d(x, kernel, bias, stride, padding, dilation)
        return y.permute(0, 2, 3, 1)

    return _with_bias_and_activation(layer, conv)


def _conv2d_transpose(layer, shape):
    from keras_gans.backend import torch_impl

    if layer.data_format != "channels_last" or len(shape) != 4:
        return None
    strides, dilation = list(layer.strides), list(layer.dilation_rate)
    pads = torch_impl.conv_transpose_padding(
        tuple(layer.kernel.shape), strides, layer.padding, layer.output_padding, dilation)
    if pads is None:
        return None  # Keras slices its output: keep its call

    to_torch = _KernelCopies(torch_impl.torch_transpose_kernel)

    def conv_transpose(x, kernel, bias):
        kernel = to_torch(kernel)
        return torch_impl.padded_conv_transpose(x, kernel, strides, pads, dilation,
                                                "channels_last", bias)

    return _with_bias_and_activation(layer, conv_transpose)


def _dense(layer, shape):
    if getattr(layer, "quantization_mode", None) is not None:
        return None
    return _with_bias_and_activation(layer, _matmul_add)


def _matmul_add(x, kernel, bias):
    # Not addmm: BLAS would accumulate onto the bias, which rounds
    # differently from Keras's matmul-then-add.
    y = torch.matmul(x, kernel)
    return y if bias is None else y + bias


def _flatten(layer, shape):
    if layer.data_format == "channels_first" and len(shape) > 2:
        return None
    return lambda x: x.reshape(x.shape[0], -1)


def _reshape(layer, shape):
    from keras.src.ops.operation_utils import compute_reshape_output_shape

    target = compute_reshape_output_shape(shape[1:], layer.target_shape, "target_shape")
    target = tuple(-1 if d is None else d for d in target)
    return lambda x: x.reshape((x.shape[0],) + target)


def _leaky_relu(layer, shape):
    slope = float(layer.negative_slope)
    return lambda x: torch.nn.functional.leaky_relu(x, negative_slope=slope)


def _relu(layer, shape):
    if layer.max_value is not None or layer.negative_slope != 0 or layer.threshold != 0:
        return None
    return torch.relu


def _activation_layer(layer, shape):
    activation = _activation(layer)
    return (lambda x: x) if activation is None else activation


def _batch_norm(layer, shape):
    """Our BatchNormalization: its fused training path without the casts
    (float32 in, float32 statistics), Keras's `call` otherwise."""
    from keras_gans.backend import torch_impl

    if layer.axis not in (-1, len(shape) - 1) or layer.renorm or layer.synchronized:
        return None
    if layer.compute_dtype != "float32":
        return None

    weights = (layer.gamma if layer.scale else None, layer.beta if layer.center else None)

    def run(x, training=None):
        if training and layer.trainable:
            gamma, beta = (None if w is None else torch_variables.value(w) for w in weights)
            moving = (None, None) if layer.keeps_statistics else (
                layer.moving_mean, layer.moving_variance)
            outputs = torch_impl.batch_norm_training(
                x, gamma, beta, layer.epsilon, *moving, layer.momentum)
            if outputs is not None:
                return outputs
        return layer.call(x, training=training)

    run.takes_training = True
    return run


@functools.cache  # built on first use: our layers import this module
def _lowerings():
    from keras_gans.layers.batch_norm import BatchNormalization
    from keras_gans.layers.batch_norm import SyncBatchNormalization
    from keras_gans.layers.conv import Conv2D
    from keras_gans.layers.conv_transpose import Conv2DTranspose

    return {
        BatchNormalization: _batch_norm,
        SyncBatchNormalization: _batch_norm,
        keras.layers.Conv2D: _conv2d,
        Conv2D: _conv2d,
        Conv2DTranspose: _conv2d_transpose,
        keras.layers.Dense: _dense,
        keras.layers.Flatten: _flatten,
        keras.layers.Reshape: _reshape,
        keras.layers.LeakyReLU: _leaky_relu,
        keras.layers.ReLU: _relu,
        keras.layers.Activation: _activation_layer,
    }


# Keras activations whose torch backend is exactly one torch function.
_TORCH_ACTIVATIONS = {
    keras.activations.tanh: torch.tanh,
    keras.activations.relu: torch.relu,
}

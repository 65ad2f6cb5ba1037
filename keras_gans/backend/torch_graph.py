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

It falls back to `network(inputs, training=training)` where the shortcut
would skip something that matters: networks that are not graphs (subclassed
models, graph subclasses that override `call`), unbuilt layers, mixed
precision or quantized layers (autocasting), activity regularizers, mask-producing layers (`Masking`, `Embedding` with
`mask_zero`, custom `compute_mask`), and inputs whose rank or dtype differ
from the graph's (so the usual error message is raised).
"""
import weakref

import keras
import torch
from keras.src.backend.torch.core import to_torch_dtype
from keras.src.models.functional import Functional
from keras.src.models.sequential import Sequential

# Flip off to time or debug the plain `Layer.__call__` path.
ENABLED = True

_PLANS = weakref.WeakKeyDictionary()  # network -> _Plan, or False if ineligible


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
        self.output_ids = [id(x) for x in graph.outputs]
        self.outputs_struct = graph._outputs_struct
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
                steps.append(step)
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
        return call, takes_training, node.arguments, outputs

    def accepts(self, inputs):
        """Whether `inputs` are torch tensors of the graph's input shapes and
        dtypes (anything else takes `__call__`, which converts or raises)."""
        flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        return len(flat) == len(self.input_specs) and all(
            isinstance(x, torch.Tensor) and x.ndim == rank and x.dtype == dtype
            and all(x.shape[i] == size for i, size in known)
            for x, (rank, dtype, known) in zip(flat, self.input_specs)
        )

    def __call__(self, inputs, training):
        flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        tensors = dict(zip(self.input_ids, flat))
        for call, takes_training, arguments, output_ids in self.steps:
            args, kwargs = arguments.fill_in(tensors)
            if takes_training:
                # As Functional.call: the call's `training` overrides the node's.
                kwargs["training"] = training
            outputs = call(*args, **kwargs)
            if len(output_ids) == 1:
                tensors[output_ids[0]] = outputs
            else:
                tensors.update(zip(output_ids, keras.tree.flatten(outputs)))
        results = [tensors[i] for i in self.output_ids]
        return keras.tree.pack_sequence_as(self.outputs_struct, results)


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

"""PyTorch implementation of the backend seam (eager autograd)."""
import torch
from keras import ops

# One replica: means, draws and BatchNorm statistics are global (see single_replica.py).
from keras_gans.backend.single_replica import SYNCHRONIZES_BATCH_NORM  # noqa: F401
from keras_gans.backend.single_replica import draw_for_replica  # noqa: F401
from keras_gans.backend.single_replica import replicas_in_sync  # noqa: F401
from keras_gans.backend.single_replica import scale_loss_for_distribution  # noqa: F401


def value_and_grad(loss_fn, variables):
    loss, aux = loss_fn()
    grads = torch.autograd.grad(
        loss,
        [v.value for v in variables],
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


def apply_gradients(optimizer, grads, variables):
    optimizer.apply(grads, variables)


def sync_model_state(model):
    """Variables are always current outside JAX."""


conv_transpose = ops.conv_transpose


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

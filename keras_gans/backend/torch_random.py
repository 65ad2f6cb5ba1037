"""`keras.random.normal` / `uniform` with a `SeedGenerator`, on torch, for less.

Keras's torch draw spends ~0.2 ms per call on seed bookkeeping
(`SeedGenerator.next()`: a copy, a numpy increment converted to a tensor, a
variable assign, then a tensor sum read back), more than drawing a latent
batch costs; a WGAN-GP step draws 11 times. This does the same bookkeeping
on Python ints and in place (as Keras's own `Variable.assign` does on
torch) and seeds a `torch.Generator` exactly as Keras does, so the
numbers and the seed state after the draw are Keras's, bit for bit.
Anything else (an int or None seed, a stateless scope, the meta device)
goes to Keras.

The state's two ints are kept on the host after each draw (`_HOST_STATES`)
and reused while the state tensor is unchanged: reading a CUDA tensor back
waits for every queued kernel, which would stall the step's launches twice
a step on a GPU.
"""
import keras
import torch
from keras.src.backend.common.stateless_scope import in_stateless_scope
from keras.src.backend.torch.core import get_device
from keras.src.backend.torch.core import to_torch_dtype

from keras_gans.backend import torch_variables


def _generator(seed):
    """A torch.Generator seeded as Keras's torch backend seeds it from
    `seed.next()`, advancing `seed` as `next()` does; None when Keras must
    draw itself."""
    if not isinstance(seed, keras.random.SeedGenerator) or in_stateless_scope() \
            or torch.compiler.is_compiling():  # a traced draw: Keras's own
        return None
    device = get_device()
    if device == "meta":
        return None
    state = torch_variables.value(seed.state)
    before = torch_variables.version(state)
    first, second = _host_state(state)
    # next(ordered=True): [a, b] -> [a, b + 1], int32 wrap-around; in place
    # as Keras's own assign is (the state never requires grad).
    state.add_(_increment(state.device, state.dtype))
    if before is not None:
        _keep_host_state(state, first, second + 1, before + 1)
    # One generator per device, re-seeded for each draw: the same numbers
    # as a fresh one, without building it each time.
    generator = _GENERATORS.get(device)
    if generator is None:
        generator = _GENERATORS[device] = torch.Generator(device=device)
    generator.manual_seed((first + second) & 0xFFFFFFFF)
    return generator


_GENERATORS = {}
_INCREMENTS = {}
# state tensor -> (first, second), as after the last draw.
_HOST_STATES = torch_variables.HostMirror()


def _host_state(state):
    """`state.tolist()`, from the copy kept at the last draw while nothing
    wrote the tensor since (an assign, a restore, Keras's own `next()`)."""
    return _HOST_STATES.get(state) or state.tolist()


def _keep_host_state(state, first, second, at_version):
    info = torch.iinfo(state.dtype)  # wrap as the tensor's add did
    second = (second - info.min) % (info.max - info.min + 1) + info.min
    _HOST_STATES.keep(state, (first, second), at_version)


def _increment(device, dtype):
    key = (device, dtype)
    if key not in _INCREMENTS:
        _INCREMENTS[key] = torch.tensor([0, 1], dtype=dtype, device=device)
    return _INCREMENTS[key]


def _options(generator, dtype):
    """The draw's keyword arguments: Keras's default dtype, the generator's device."""
    return {"generator": generator, "device": generator.device,
            "dtype": to_torch_dtype(dtype or keras.config.floatx())}


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """`keras.random.normal`, the same numbers."""
    generator = _generator(seed)
    if generator is None:
        return keras.random.normal(shape, mean, stddev, dtype, seed)
    return torch.normal(mean, stddev, size=tuple(shape), **_options(generator, dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """`keras.random.uniform`, the same numbers."""
    generator = _generator(seed) if len(shape) else None
    if generator is None:
        return keras.random.uniform(shape, minval, maxval, dtype, seed)
    values = torch.rand(size=tuple(shape), **_options(generator, dtype))
    return (maxval - minval) * values + minval

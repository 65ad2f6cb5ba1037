"""Reads Keras variables on torch without `Variable.value`'s per-read checks.

`Variable.value` checks for a stateless scope, an autocast scope and the
meta device on every read: ~5-12 us a read here, against 0.05 us for the
tensor itself. A WGAN-GP training step reads ~400 variables (each layer's
weights at each network call, the optimizer's parameters and moments), so
the checks cost a few percent of the step. Outside those scopes `value` is
the stored tensor, so `values` checks the scopes once per list and hands
the stored tensors back; anything else goes through `value`.
"""
import torch
import torch.utils.weak
from keras.src.backend.common import global_state
from keras.src.backend.torch.core import Variable
from keras.src.backend.torch.core import DEFAULT_DEVICE

# A subclass that overrides `value` reads through it.
PLAIN_VALUE = Variable.value


def reads_are_plain():
    """Whether `variable.value` is the stored tensor right now: no
    stateless scope, no autocast scope, not the meta device."""
    # Keras's getters, read straight from their thread-local store: this
    # runs ~100 times a WGAN-GP step (four `get_global_attribute` calls took
    # ~3% of a host-bound step).
    state = vars(global_state.GLOBAL_STATE_TRACKER)
    device = state.get("torch_device") or DEFAULT_DEVICE
    return (state.get("stateless_scope") is None and state.get("autocast_scope") is None
            and str(device) != "meta")


def version(tensor):
    """`tensor._version`, the count of in-place writes to it; None for an
    inference tensor, which has no counter."""
    try:
        return tensor._version
    except RuntimeError:
        return None


class HostMirror:
    """Python values kept beside tensors, each valid while its tensor's
    version counter says nothing wrote the tensor since (an assign, a
    restore, Keras's own update): reading a CUDA tensor back waits for
    every queued kernel.

    Keyed by identity, not stored on the tensor: a pickled or copied tensor
    restarts its version counter.

    >>> import torch
    >>> counts = HostMirror()
    >>> count = torch.tensor(3)
    >>> counts.keep(count, 3, version(count))
    >>> counts.get(count)
    3
    >>> _ = count.add_(1)
    >>> counts.get(count) is None
    True
    """

    def __init__(self):
        self._kept = torch.utils.weak.WeakIdKeyDictionary()

    def get(self, tensor):
        """The value kept for `tensor`, or None if it was written since."""
        kept = self._kept.get(tensor)
        if kept is not None and kept[0] == version(tensor):
            return kept[1]
        return None

    def keep(self, tensor, value, at_version):
        """Keeps `value`, the tensor's value when its version counter read
        `at_version` (taken before reading it, or before writing it plus
        one), if nothing wrote the tensor since: a write from another thread
        in between leaves nothing kept. Nothing is kept for an inference
        tensor (no counter, None) or while `torch.compile` traces."""
        if at_version is not None and at_version == version(tensor) \
                and not torch.compiler.is_compiling():
            self._kept[tensor] = (at_version, value)


def values(variables):
    """`[v.value for v in variables]`, checking the scopes once."""
    if reads_are_plain():
        stored = [v._value if type(v).value is PLAIN_VALUE else None for v in variables]
        if all(value is not None for value in stored):
            return stored
    return [v.value for v in variables]


def value(variable):
    """`variable.value`, for one variable."""
    return values((variable,))[0]

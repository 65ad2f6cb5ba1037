"""torch's fast variable reads equal `Variable.value` in every scope."""
import keras
import numpy as np
import pytest
from keras.src.backend.common.stateless_scope import StatelessScope
from keras.src.backend.common.variables import AutocastScope

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch only")


def _variables():
    return [keras.Variable(np.full((2, 3), 1.5, "float32")), keras.Variable(np.arange(3.0, dtype="float32"))]


def test_plain_reads_are_the_stored_tensors():
    from keras_gans.backend import torch_variables

    variables = _variables()
    values = torch_variables.values(variables)
    assert all(a is v._value for a, v in zip(values, variables))
    assert torch_variables.value(variables[1]) is variables[1]._value


def test_stateless_and_autocast_scopes_read_through_value():
    from keras_gans.backend import torch_variables

    variables = _variables()
    replacement = keras.ops.zeros((2, 3))
    with StatelessScope(state_mapping=[(variables[0], replacement)]):
        assert not torch_variables.reads_are_plain()
        read = torch_variables.values(variables)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(read[0]), np.zeros((2, 3)))
    with AutocastScope("float16"):
        read = torch_variables.values(variables)
        assert all(str(r.dtype) == "torch.float16" for r in read)
    assert torch_variables.reads_are_plain()


def test_a_variable_subclass_with_its_own_value_is_respected():
    from keras_gans.backend import torch_variables

    class Doubled(type(keras.Variable(0.0))):
        @property
        def value(self):
            return super().value * 2

    plain, doubled = _variables()[0], Doubled(np.ones((2,), "float32"))
    read = torch_variables.values([plain, doubled])
    assert read[0] is plain._value
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(read[1]), [2.0, 2.0])


def test_host_mirror_keeps_a_value_only_while_the_tensor_is_unwritten():
    import torch

    from keras_gans.backend.torch_variables import HostMirror
    from keras_gans.backend.torch_variables import version

    mirror, count = HostMirror(), torch.tensor(3)
    mirror.keep(count, 3, version(count))
    assert mirror.get(count) == 3
    count.copy_(torch.tensor(7))  # as Keras's assign writes
    assert mirror.get(count) is None
    # A value read before a write that landed in between (another thread)
    # is not kept.
    read_at = version(count)
    count.add_(1)
    mirror.keep(count, 7, read_at)
    assert mirror.get(count) is None
    mirror.keep(count, 8, read_at + 1)  # what the add made
    assert mirror.get(count) == 8
    with torch.inference_mode():
        frozen = torch.tensor(1)
    mirror.keep(frozen, 1, version(frozen))  # no counter: nothing kept
    assert mirror.get(frozen) is None


def test_nothing_is_kept_while_torch_compile_traces(monkeypatch):
    # A traced step would recompile for every new Python number.
    import torch

    from keras_gans.backend import torch_impl
    from keras_gans.backend.torch_variables import HostMirror
    from keras_gans.backend.torch_variables import version

    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    mirror, count = HostMirror(), torch.tensor(3)
    mirror.keep(count, 3, version(count))
    assert mirror.get(count) is None
    assert torch_impl._host_value(keras.Variable(2.0)) is None

"""A torch train step neither copies Python numbers to the device nor reads
tensors back: on a GPU each of those waits for every queued kernel, so the
host stops queueing the step's work (the profile on an H100 found ten a
DCGAN step before these checks). The batch's own copy stays."""
import pickle

import keras
import numpy as np
import pytest

from helpers import noise_images
from keras_gans.models import DCGAN
from keras_gans.models import WGANGP

if keras.backend.backend() != "torch":
    pytest.skip("torch runs eagerly; the others trace the step once", allow_module_level=True)

import torch  # noqa: E402


@pytest.fixture
def host_syncs(monkeypatch):
    """Counts Python numbers made into tensors on a device, and reads back."""
    calls = []
    for name in ("as_tensor", "tensor"):
        def counting(data, *args, _make=getattr(torch, name), **kwargs):
            if isinstance(data, (int, float, list)) and kwargs.get("device") is not None:
                calls.append(("to device", data))
            return _make(data, *args, **kwargs)

        monkeypatch.setattr(torch, name, counting)
    for name in ("item", "tolist"):
        method = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name,
                            lambda t, _m=method, _n=name: calls.append((_n, t.shape)) or _m(t))
    return calls


@pytest.mark.parametrize("model_class", [DCGAN, WGANGP])
def test_train_steps_make_no_host_syncs(model_class, host_syncs):
    gan = model_class(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    images = noise_images(64, (8, 8, 1))
    gan.fit(images[:16], batch_size=8, verbose=0)  # built, and the seeds read once
    counts = []
    for steps in (2, 6):
        del host_syncs[:]
        gan.fit(images[:8 * steps], batch_size=8, shuffle=False, verbose=0)
        counts.append(list(host_syncs))
    # fit()'s own start and end (resetting the metrics, counting steps)
    # are the same for 2 steps or 6: nothing is left per step.
    assert len(counts[1]) == len(counts[0]), counts[1]
    assert int(gan.optimizer["g"].iterations.numpy()) == 2 + 2 + 6


def test_optimizer_counts_in_place():
    from keras_gans.backend import torch_impl

    variable = keras.Variable(np.ones(3, "float32"))
    optimizer = keras.optimizers.RMSprop(0.1)
    optimizer.build([variable])
    counter = optimizer.iterations.value
    for expected in (1, 2):
        torch_impl.apply_gradients(optimizer, [keras.ops.ones(3)], [variable])
        assert int(optimizer.iterations.numpy()) == expected
    assert optimizer.iterations.value is counter  # the same tensor, added to
    assert float(variable.numpy()[0]) < 1.0
    optimizer.iterations.assign_add(np.int64(3))  # other values: Keras's own add
    assert int(optimizer.iterations.numpy()) == 5
    returned = optimizer.iterations.assign_add(1)  # a value, as Keras's add returns
    optimizer.iterations.assign_add(1)
    assert int(returned) == 6 and int(optimizer.iterations.numpy()) == 7
    assert int(pickle.loads(pickle.dumps(optimizer.iterations)).numpy()) == 7


def test_accumulating_optimizer_counts_in_place():
    from keras_gans.backend import torch_impl

    variable = keras.Variable(np.ones(3, "float32"))
    optimizer = keras.optimizers.SGD(0.1, gradient_accumulation_steps=2)
    optimizer.build([variable])
    for _ in range(4):
        torch_impl.apply_gradients(optimizer, [keras.ops.ones(3)], [variable])
    assert "assign_add" in vars(optimizer._iterations)  # the counter, not the quotient
    assert int(optimizer._iterations.numpy()) == 4 and int(optimizer.iterations.numpy()) == 2

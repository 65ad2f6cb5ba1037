"""torch's shortcut for calling graph networks in a train step
(`keras_gans.backend.torch_graph`) gives the numbers `Layer.__call__` gives,
and steps aside where it would skip something that matters."""
import keras
import numpy as np
import pytest

if keras.backend.backend() != "torch":
    pytest.skip("the shortcut is torch's (TF and JAX trace the step once)",
                allow_module_level=True)

import torch  # noqa: E402

from keras_gans.backend import torch_graph  # noqa: E402
from keras_gans.models import CGAN  # noqa: E402
from keras_gans.models import DCGAN  # noqa: E402


@pytest.fixture
def on_keras_device():
    """Tensors the test makes land where Keras keeps the weights (CUDA
    when there is one), as a train step's inputs do. Not for `fit()`:
    Keras's torch loader draws its shuffle on the CPU."""
    from keras.src.backend.torch.core import get_device

    with torch.device(get_device()):
        yield


def numpy(tensor):
    return tensor.detach().cpu().numpy()


@pytest.fixture
def shortcut():
    """Yields a setter for `torch_graph.ENABLED`; restores it after."""
    before = torch_graph.ENABLED

    def set_enabled(value):
        torch_graph.ENABLED = value

    yield set_enabled
    torch_graph.ENABLED = before


def trained(model_class, enabled, shortcut, data, **options):
    shortcut(enabled)
    keras.utils.set_random_seed(0)  # the same initial weights
    gan = model_class(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=3, **options)
    gan.compile()
    history = gan.fit(*data, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return gan, history.history


@pytest.mark.parametrize("model_class", [DCGAN, CGAN])
def test_training_matches_layer_call(model_class, shortcut, rng):
    images = rng.uniform(-1, 1, (24, 8, 8, 1)).astype("float32")
    data = (images,) if model_class is DCGAN else (images, rng.integers(0, 10, 24).astype("int32"))
    fast, fast_logs = trained(model_class, True, shortcut, data)
    slow, slow_logs = trained(model_class, False, shortcut, data)
    # The shortcut ran: both networks have a plan.
    assert torch_graph._PLANS.get(fast.generator) and torch_graph._PLANS.get(fast.discriminator)
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(fast_logs[key], slow_logs[key], rtol=1e-6)
    # Weights, BatchNorm moving statistics and optimizer moments all agree.
    for a, b in zip(fast.variables + fast.optimizer.variables,
                    slow.variables + slow.optimizer.variables):
        np.testing.assert_allclose(numpy(a.value), numpy(b.value),
                                   rtol=1e-5, atol=1e-6, err_msg=a.path)


def nested_network():
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization()(keras.layers.Dense(5)(inner_in)))
    outer_in = keras.Input((6,))
    # The node's own training=False is overridden by the call's, as in Functional.call.
    x = inner(outer_in, training=False)
    x = keras.layers.Concatenate()([x, keras.ops.tanh(x)])
    return keras.Sequential([keras.Input((6,)), keras.Model(outer_in, keras.layers.Dense(2)(x))])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.usefixtures("on_keras_device")
def test_nested_graph_matches_layer_call(training, rng):
    network = nested_network()
    x = torch.as_tensor(rng.normal(size=(4, 6)).astype("float32"))
    expected = network(x, training=training)
    before = [v.numpy().copy() for v in network.non_trainable_variables]
    ours = torch_graph.call_network(network, x, training)
    assert torch_graph._PLANS.get(network)
    np.testing.assert_allclose(numpy(ours), numpy(expected), rtol=1e-6)
    # BatchNorm updated its moving statistics only in training, once per call.
    changed = [not np.array_equal(v.numpy(), b) for v, b in zip(network.non_trainable_variables, before)]
    assert all(changed) == training and any(changed) == training


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3)

    def call(self, x):
        return self.dense(x)


class OverridesCall(keras.Model):
    """A graph model whose own `call` adds one: the graph alone is not it."""

    def __init__(self):
        inputs = keras.Input((5,))
        super().__init__(inputs, keras.layers.Dense(3)(inputs))

    def call(self, x, training=None):
        return super().call(x, training=training) + 1.0


def masked_network():
    tokens = keras.Input((4,), dtype="int32")
    x = keras.layers.Embedding(10, 3, mask_zero=True)(tokens)
    return keras.Model(tokens, keras.layers.GlobalAveragePooling1D()(x))


def mixed_precision_network():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2, dtype="mixed_float16")(inputs))


@pytest.mark.parametrize("make, x", [
    (Subclassed, np.ones((2, 5), "float32")),
    (OverridesCall, np.ones((2, 5), "float32")),
    (masked_network, np.array([[1, 2, 0, 0]], "int32")),
    (mixed_precision_network, np.ones((2, 3), "float32")),
])
@pytest.mark.usefixtures("on_keras_device")
def test_steps_aside_where_call_does_more(make, x):
    network = make()
    network(x)  # built
    x = torch.as_tensor(x)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(torch_graph.call_network(network, x, True)),
        keras.ops.convert_to_numpy(network(x, training=True)), rtol=1e-3)
    assert torch_graph._PLANS.get(network) is False


@pytest.mark.usefixtures("on_keras_device")
def test_wrong_input_gets_keras_error():
    network = nested_network()
    with pytest.raises(ValueError, match="incompatible|expected"):
        torch_graph.call_network(network, torch.ones(2, 7), True)
    # Float64 inputs are not the graph's dtype: __call__ converts them.
    out = torch_graph.call_network(network, torch.ones(2, 6, dtype=torch.float64), False)
    assert out.dtype == torch.float32



from keras_gans.layers import BatchNormalization  # noqa: E402
from keras_gans.layers import Conv2DTranspose  # noqa: E402

L = keras.layers
LOWERED_CASES = [  # (layer, input shape, whether it is lowered)
    (L.Conv2D(5, 4, strides=2, padding="same"), (3, 8, 8, 2), True),
    (L.Conv2D(5, 4, strides=2, padding="same"), (3, 8, 8, 1), True),  # one channel: ambiguous strides
    (L.Conv2D(5, 3, padding="same"), (1, 6, 6, 4), True),  # one image
    (L.Conv2D(5, 4, strides=2, padding="same", activation="relu"), (3, 9, 8, 2), False),  # asymmetric pad
    (L.Conv2D(4, 3, padding="valid", dilation_rate=2, activation="tanh"), (2, 9, 9, 3), True),
    (L.Conv2D(4, 3, padding="same", use_bias=False), (2, 6, 6, 3), True),
    (L.Conv2D(6, 3, groups=3, padding="same"), (2, 6, 6, 3), False),
    (L.Conv2D(4, 3, data_format="channels_first"), (2, 3, 6, 6), False),
    (Conv2DTranspose(4, 4, strides=2, padding="same", activation="relu"), (2, 5, 5, 3), True),
    (L.Dense(3, activation="tanh"), (4, 5), True),
    (L.Dense(3, use_bias=False), (2, 4, 5), True),
    (L.Flatten(), (2, 3, 4, 5), True),
    (L.Reshape((-1, 2)), (2, 12), True),
    (L.LeakyReLU(0.3), (2, 7), True),
    (L.ReLU(), (2, 7), True),
    (L.ReLU(max_value=1.0), (2, 7), False),
    (L.Activation("tanh"), (2, 7), True),
    (L.Activation("sigmoid"), (2, 7), True),
    (BatchNormalization(momentum=0.5), (4, 3, 3, 5), True),
    (BatchNormalization(axis=1), (4, 3, 3, 5), False),  # Keras's own sigmoid, which keeps the logits
]


@pytest.mark.parametrize("layer, shape, lowered", LOWERED_CASES,
                         ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(LOWERED_CASES)])
@pytest.mark.usefixtures("on_keras_device")
def test_lowered_layers_match_call(layer, shape, lowered, rng):
    inputs = keras.Input(shape[1:])
    network = keras.Model(inputs, layer(inputs))
    # Random weights: zero-initialized biases would hide how a bias is added.
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    x = torch.as_tensor(rng.normal(size=shape).astype("float32")).requires_grad_(True)
    expected = network(x, training=True)
    (expected_grad,) = torch.autograd.grad(expected.square().sum(), x)
    ours = torch_graph.call_network(network, x, True)
    (grad,) = torch.autograd.grad(ours.square().sum(), x)
    # Same kernels on the same memory layouts: the same numbers, not just close.
    np.testing.assert_array_equal(numpy(ours), numpy(expected))
    np.testing.assert_array_equal(numpy(grad), numpy(expected_grad))
    (call, *_), = torch_graph._PLANS[network].steps
    assert (getattr(call, "lowers", None) is layer) == lowered


@pytest.mark.usefixtures("on_keras_device")
def test_lowered_layer_casts_other_dtypes():
    network = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    x = torch.ones(2, 3, dtype=torch.float64)
    # Not the graph's dtype: __call__ converts it, as before the lowering.
    assert torch_graph.call_network(network, x, True).dtype == torch.float32


# ------------------------------------------------- kernel copies reused


@pytest.fixture
def reuse_kernels(monkeypatch):
    """Yields a setter for `torch_graph.REUSE_KERNELS` (restored after)."""
    return lambda value: monkeypatch.setattr(torch_graph, "REUSE_KERNELS", value)


def to_torch():
    return torch_graph._KernelCopies(
        lambda kernel: kernel.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last))


@pytest.mark.usefixtures("on_keras_device")
def test_kernel_copy_is_reused_until_the_kernel_changes(reuse_kernels):
    reuse_kernels(True)
    variable = keras.Variable(np.ones((2, 2, 3, 4), "float32"))
    kernel, copies = variable.value, to_torch()
    with torch.no_grad():
        first = copies(kernel)
        assert copies(kernel) is first
    with_grad = copies(kernel)  # its own copy
    assert with_grad is not first and with_grad.requires_grad and not first.requires_grad
    variable.assign(np.full((2, 2, 3, 4), 2.0, "float32"))  # an in-place write
    with torch.no_grad():
        fresh = copies(kernel)
    assert fresh is not first and float(fresh.max()) == 2.0
    other = torch.ones(2, 2, 3, 4)  # another tensor at the same version
    with torch.no_grad():
        assert float(copies(other).max()) == 1.0
    with torch.inference_mode():  # no version counter: copied each time
        made_there = torch.full((2, 2, 3, 4), 3.0)
        assert float(copies(made_there).max()) == 3.0


@pytest.mark.usefixtures("on_keras_device")
def test_unfrozen_kernel_gets_gradients(reuse_kernels):
    # Keras's `trainable` setter flips requires_grad without a version
    # bump: a copy made while frozen has no path back to the kernel and
    # must not serve the unfrozen layer.
    reuse_kernels(True)
    variable = keras.Variable(np.ones((2, 2, 3, 4), "float32"))
    variable.trainable = False
    kernel, copies = variable.value, to_torch()
    x = torch.ones(1, 3, 5, 5)
    frozen = torch.nn.functional.conv2d(x, copies(kernel))
    assert not frozen.requires_grad
    variable.trainable = True
    assert kernel.requires_grad and variable.value is kernel
    y = torch.nn.functional.conv2d(x, copies(kernel))
    (gradient,) = torch.autograd.grad(y.sum(), kernel)
    assert float(gradient.abs().sum()) > 0


def test_kernel_copies_go_with_the_model():
    # A copy made with gradients holds its kernel (through autograd), so
    # the copies must live with the network, not in a global table.
    import gc
    import weakref

    gan = DCGAN(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    gan.compile()
    gan.fit(np.zeros((8, 8, 8, 1), "float32"), batch_size=8, verbose=0)
    kernel = weakref.ref(gan.discriminator.layers[1].kernel.value)
    assert kernel() is not None
    del gan
    gc.collect()  # frees the networks; their plans' weak keys die with them,
    gc.collect()  # which frees the plans, and the layers' cycles on this pass
    assert kernel() is None


@pytest.mark.usefixtures("on_keras_device")
def test_fused_adam_marks_the_weights_changed():
    from keras_gans.backend import torch_impl

    variable = keras.Variable(np.ones((3, 4), "float32"))
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.build([variable])
    version = variable.value._version
    torch_impl.apply_gradients(optimizer, [torch.ones(3, 4)], [variable])
    assert "_parallel_update_step" in vars(optimizer)  # the fused kernel ran
    assert variable.value._version > version


@pytest.mark.usefixtures("on_keras_device")
def test_reused_copy_differentiates_in_later_graphs(reuse_kernels):
    # A copy made with gradients on is reused by a second, separate graph
    # (a step's next network call); its gradient must equal a fresh copy's.
    rng = np.random.default_rng(0)
    kernel = torch.tensor(rng.normal(size=(2, 2, 3, 4)), dtype=torch.float32, requires_grad=True)
    x = torch.tensor(rng.normal(size=(1, 3, 5, 5)), dtype=torch.float32)

    copies = to_torch()

    def gradient():
        y = torch.nn.functional.conv2d(x, copies(kernel))
        return torch.autograd.grad(y.square().sum(), kernel)[0]

    reuse_kernels(False)
    expected = gradient()
    reuse_kernels(True)
    first, second = gradient(), gradient()
    torch.testing.assert_close(first, expected, rtol=0, atol=0)
    torch.testing.assert_close(second, expected, rtol=0, atol=0)


@pytest.mark.parametrize("model", ["wgan_gp", "dcgan"])
def test_training_with_reused_kernels_is_unchanged(model, reuse_kernels, rng):
    # WGAN-GP calls its generator six times and its critic with the
    # penalty's double backward; EMA and Adam write the weights in place.
    from keras_gans.models import WGANGP

    images = rng.uniform(-1, 1, (40, 8, 8, 1)).astype("float32")
    runs = []
    for reuse in (True, False):
        reuse_kernels(reuse)
        keras.utils.set_random_seed(0)
        cls = WGANGP if model == "wgan_gp" else DCGAN
        gan = cls(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=3,
                  ema_decay=0.9, n_critic=2)
        gan.compile()
        initial = gan.get_weights()
        history = gan.fit(images, batch_size=8, epochs=2, shuffle=False, verbose=0)
        runs.append((initial, gan.get_weights(), history.history))
    (initial, reused, reused_logs), (_, copied, copied_logs) = runs
    assert max(np.abs(a - b).max() for a, b in zip(initial, reused)) > 1e-3
    assert reused_logs == copied_logs
    for a, b in zip(reused, copied):
        np.testing.assert_array_equal(a, b)


def test_filled_arguments_are_keras_fill_in():
    # The shortcut's own filler for one tensor plus constant keywords; any
    # other node keeps Keras's.
    from keras.src.ops.symbolic_arguments import SymbolicArguments

    a, b = keras.KerasTensor((None, 3)), keras.KerasTensor((None, 3))
    tensors = {id(a): torch.ones(2, 3), id(b): torch.zeros(2, 3)}
    for arguments in (SymbolicArguments(a, mask=None), SymbolicArguments(a, training=True),
                      SymbolicArguments(a), SymbolicArguments(a, b),
                      SymbolicArguments(a, mask=b), SymbolicArguments([a, b]),
                      SymbolicArguments(a, options=[1, 2])):
        keys = set(arguments.kwargs)
        fill_in = torch_graph._filler(arguments)
        (args, kwargs), (keras_args, keras_kwargs) = fill_in(tensors), arguments.fill_in(tensors)
        assert keras.tree.flatten((args, kwargs)) == keras.tree.flatten((keras_args, keras_kwargs))
        assert keras.tree.map_structure(id, (args, kwargs)) == \
            keras.tree.map_structure(id, (keras_args, keras_kwargs))
        kwargs["extra"] = False  # as a step sets `training`: the next call is unchanged
        assert set(fill_in(tensors)[1]) == set(arguments.kwargs) == keys
        if "options" in kwargs:  # a list: a new one on each call, as Keras's
            assert fill_in(tensors)[1]["options"] is not kwargs["options"]

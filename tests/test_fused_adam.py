"""The fused Adam steps of the torch and TensorFlow backends
(`torch._fused_adam_`, `ResourceApplyAdam`) compute Keras's Adam update,
schedules, weight decay, clipping and step counts included; other
optimizers and configurations keep Keras's own update."""
import keras
import numpy as np
import pytest

from keras_gans.backend import _impl

BACKEND = keras.backend.backend()
if BACKEND not in ("torch", "tensorflow"):
    pytest.skip("JAX's jitted Adam is fused by XLA already", allow_module_level=True)

PATCHED = "_parallel_update_step" if BACKEND == "torch" else "_backend_update_step"


def gradients(rng, variables):
    return [keras.ops.convert_to_tensor(rng.normal(size=v.shape).astype("float32"))
            for v in variables]


def run_adam(fused, steps=6, applies_per_call=1, before_step=None, dtype="float32", **options):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32"), dtype=dtype)
                 for shape in ((4, 3), (3,), (2, 2, 3, 5))]
    optimizer = keras.optimizers.Adam(**options)
    optimizer.build(variables)
    before = _impl.FUSED_ADAM
    _impl.FUSED_ADAM = fused
    try:
        def apply(grads):
            # Several applies in one traced call, as WGAN-GP's critic
            # updates: each must read the step count its apply sees.
            for i in range(applies_per_call):
                _impl.apply_gradients(optimizer, [keras.ops.cast(g * (i + 1), dtype) for g in grads],
                                      variables)

        if BACKEND == "tensorflow":  # as in fit(): inside a tf.function
            import tensorflow as tf

            apply = tf.function(apply)
        for step in range(steps):
            if before_step is not None:
                before_step(step, optimizer)
            apply(gradients(rng, variables))
    finally:
        _impl.FUSED_ADAM = before
    assert (PATCHED in vars(optimizer)) == (steps > 0)
    return [keras.ops.convert_to_numpy(v) for v in variables + optimizer.variables]


@pytest.mark.parametrize("options", [
    dict(learning_rate=1e-2),
    dict(learning_rate=keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.5),
         beta_1=0.0, beta_2=0.99, epsilon=1e-3),
    dict(learning_rate=1e-3, weight_decay=0.1, clipnorm=0.5),
])
def test_fused_adam_equals_keras_adam(options):
    fused, plain = run_adam(True, **options), run_adam(False, **options)
    # Weights, moments and the iteration count agree; the weights moved.
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    start = run_adam(True, steps=0, **options)
    assert not np.allclose(fused[0], start[0])


def test_fused_adam_equals_keras_adam_over_applies_in_one_call():
    fused = run_adam(True, steps=2, applies_per_call=3, learning_rate=1e-2)
    plain = run_adam(False, steps=2, applies_per_call=3, learning_rate=1e-2)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(fused[3]) == 6  # the iteration count, after the 3 weights


def test_a_new_rate_or_count_is_used_at_once():
    # torch keeps the rate and count on the host between steps; an assign
    # in between must reach the next update.
    def change(step, optimizer):
        if step == 2:
            optimizer.learning_rate = 0.1
        if step == 4:
            optimizer.iterations.assign(1000)

    fused = run_adam(True, before_step=change, learning_rate=1e-2)
    plain = run_adam(False, before_step=change, learning_rate=1e-2)
    # Ten times the steps, so ten times the rounding of the other tests; a
    # missed change would be off by ~0.1.
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert int(fused[3]) == 1002


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_16_bit_weights_step_as_keras(dtype):
    # Keras computes the step size in the weights' dtype: in bfloat16,
    # beta_2 = 0.999 rounds to 1 and the weights do not move at all.
    fused, plain = run_adam(True, dtype=dtype, learning_rate=1e-2), run_adam(False, dtype=dtype, learning_rate=1e-2)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(np.asarray(a, "float32"), np.asarray(b, "float32"), rtol=1e-2, atol=1e-2)
    start = run_adam(True, steps=0, dtype=dtype, learning_rate=1e-2)
    assert np.array_equal(fused[0], start[0]) == (dtype == "bfloat16")


def test_other_optimizers_keep_keras_update():
    variables = [keras.Variable(np.ones(3, "float32"))]
    for optimizer in (keras.optimizers.Adam(amsgrad=True), keras.optimizers.AdamW(),
                      keras.optimizers.RMSprop()):
        optimizer.build(variables)
        _impl.apply_gradients(optimizer, [keras.ops.ones(3)], variables)
        assert PATCHED not in vars(optimizer)


@pytest.mark.skipif(BACKEND != "torch", reason="torch's kernel takes one dtype per call")
def test_mixed_dtypes_fall_back_to_keras():
    variables = [keras.Variable(np.ones(3, "float32")), keras.Variable(np.ones(2, "float64"))]
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.build(variables)
    grads = [keras.ops.ones(3), keras.ops.ones(2, dtype="float64")]
    assert not _impl.fused_adam_step(optimizer, grads, variables, optimizer.learning_rate)
    _impl.apply_gradients(optimizer, grads, variables)
    np.testing.assert_allclose(variables[1].numpy(), 0.9, rtol=1e-5)  # one step of Adam(0.1)


@pytest.mark.skipif(BACKEND != "torch", reason="torch.compile is torch's")
def test_fused_step_steps_aside_while_torch_compile_traces(monkeypatch):
    # The kernel has no fake implementation to trace (an optimizer that
    # stepped eagerly before has it installed already).
    import torch

    variables = [keras.Variable(np.ones(3, "float32"))]
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.build(variables)
    grads = [keras.ops.ones(3)]
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert not _impl.fused_adam_step(optimizer, grads, variables, optimizer.learning_rate)
    monkeypatch.undo()
    assert _impl.fused_adam_step(optimizer, grads, variables, optimizer.learning_rate)

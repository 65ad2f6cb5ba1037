"""`backend.random_normal` / `random_uniform` draw Keras's numbers and leave
the seed generator where Keras leaves it (torch takes a faster path for
`SeedGenerator` seeds; the other backends use `keras.random` itself)."""
import pickle

import keras
import numpy as np
import pytest

from keras_gans import backend


def seed_pair(start=(5, 7)):
    ours, theirs = keras.random.SeedGenerator(0), keras.random.SeedGenerator(0)
    for generator in (ours, theirs):
        generator.state.assign(np.array(start, dtype=generator.state.dtype))
    return ours, theirs


def state(generator):
    return keras.ops.convert_to_numpy(generator.state.value)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("kind", ["normal", "uniform"])
def test_draws_and_seed_state_equal_keras(kind, dtype):
    ours, theirs = seed_pair()
    draw = getattr(backend, f"random_{kind}")
    reference = getattr(keras.random, kind)
    extra = {"mean": 0.5, "stddev": 2.0} if kind == "normal" else {"minval": -1.0, "maxval": 3.0}
    for shape in [(64, 100), (8, 1, 1, 1), (3,)]:
        a = draw(shape, dtype=dtype, seed=ours, **extra)
        b = reference(shape, dtype=dtype, seed=theirs, **extra)
        assert tuple(a.shape) == shape and keras.backend.standardize_dtype(a.dtype) == dtype
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
        np.testing.assert_array_equal(state(ours), state(theirs))
    assert state(ours)[1] == 7 + 3
    # A later draw differs from the first one: the state really advanced.
    assert not np.array_equal(keras.ops.convert_to_numpy(draw((3,), seed=ours)),
                              keras.ops.convert_to_numpy(a))


def test_seed_counter_wraps_like_keras():
    top = np.iinfo(keras.random.SeedGenerator(0).state.dtype).max
    ours, theirs = seed_pair((2**31 - 9, top))
    for _ in range(3):  # at the top, wrapped, after the wrap
        a = backend.random_normal((4, 2), seed=ours)
        b = keras.random.normal((4, 2), seed=theirs)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
        np.testing.assert_array_equal(state(ours), state(theirs))


def test_writes_to_the_seed_state_between_draws_are_seen():
    # torch keeps the state's ints on the host between its own draws; an
    # assign (a restore), Keras's own draw or set_weights must not be missed.
    ours, theirs = seed_pair()
    writes = [
        lambda g: g.state.assign(np.array([11, 40], dtype=g.state.dtype)),
        lambda g: keras.random.normal((2,), seed=g),
        lambda g: g.state.assign(g.state.value),  # the same values, written again
    ]
    for write in [None, *writes]:
        if write is not None:
            write(ours), write(theirs)
        a = backend.random_uniform((5,), seed=ours)
        b = keras.random.uniform((5,), seed=theirs)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
        np.testing.assert_array_equal(state(ours), state(theirs))


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch's draw path")
def test_torch_state_tensor_swapped_in_is_read_afresh():
    # A loaded tensor (a restore that swaps one in) restarts its version
    # counter: what torch kept for the original must not serve it.
    ours, theirs = seed_pair()
    for _ in range(2):
        backend.random_normal((3,), seed=ours), keras.random.normal((3,), seed=theirs)
    ours.state._value = pickle.loads(pickle.dumps(ours.state._value))
    # Two writes bring the loaded tensor's counter (from 1) to the
    # original's at the last draw.
    for start in ([7, 9], [11, 13]):
        for generator in (ours, theirs):
            generator.state.assign(np.array(start, dtype=generator.state.dtype))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(backend.random_normal((3,), seed=ours)),
                                  keras.ops.convert_to_numpy(keras.random.normal((3,), seed=theirs)))


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch's draw path")
def test_torch_draws_do_not_read_the_state_back(monkeypatch):
    # On CUDA a read-back waits for all queued kernels: only the first
    # draw of a generator (or one after a write) reads its state.
    import torch

    ours, _ = seed_pair()
    backend.random_normal((3,), seed=ours)
    reads = []
    original = torch.Tensor.tolist
    monkeypatch.setattr(torch.Tensor, "tolist", lambda t: reads.append(t) or original(t))
    for _ in range(3):
        backend.random_normal((3,), seed=ours)
    assert reads == []
    ours.state.assign(np.array([1, 2], dtype=ours.state.dtype))
    backend.random_normal((3,), seed=ours)
    assert len(reads) == 1


def test_int_seed_and_scalar_shape_fall_back_to_keras():
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(backend.random_normal((5,), seed=3)),
        keras.ops.convert_to_numpy(keras.random.normal((5,), seed=3)))
    ours, theirs = seed_pair()
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(backend.random_uniform((), seed=ours)),
        keras.ops.convert_to_numpy(keras.random.uniform((), seed=theirs)))
    np.testing.assert_array_equal(state(ours), state(theirs))


def test_stateless_scope_leaves_the_variable_alone():
    ours, theirs = seed_pair()
    mapping = [(ours.state, keras.ops.convert_to_tensor(np.array([5, 7], "int32"),
                                                        dtype=ours.state.dtype))]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        a = backend.random_normal((4,), seed=ours)
        new_state = scope.get_current_value(ours.state)
    b = keras.random.normal((4,), seed=theirs)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    np.testing.assert_array_equal(state(ours), [5, 7])  # the variable itself is untouched
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(new_state), state(theirs))

"""The one place where keras-gans touches TensorFlow, JAX or PyTorch.

Everything else in the library is written with `keras.ops`. This package
offers a narrow interface, implemented once per backend:

- `value_and_grad(loss_fn, variables)`: run `loss_fn() -> (loss, aux)` and
  return `(loss, aux), grads` for `variables` (zeros for unconnected ones).
- `input_gradient(fn, x)`: `(fn(x), d sum(fn(x)) / dx)`, itself differentiable,
  for gradient penalties (WGAN-GP, R1, DRAGAN).
- `differentiable_grad(fn, values)`: `(fn(values), d fn / d values)` for
  a list of tensors `values` (e.g. a network's weight values for
  `stateless_call`), with the gradients themselves differentiable, so a
  loss can go through gradient steps (UnrolledGAN's unrolled critic).
- `stateful_train_step(model, step_fn, *args)`: adapts a stateful step written
  with Keras variables to the backend's trainer (JAX's is stateless);
  `stateful_test_step(model, step_fn, *args)` does the same for a test
  step (whose JAX state has no optimizer values; torch's runs with
  gradients enabled, for penalties).
- `apply_gradients(optimizer, grads, variables)`: `optimizer.apply` in a
  form the backend's trainer supports (stateless on JAX, where a stateful
  LossScaleOptimizer would leak traced values).
- `sync_model_state(model)`: write values that the trainer holds outside
  the model mid-epoch (JAX) back into its variables, for callbacks.
- `scale_loss_for_distribution(loss)`: a replica's loss scaled so the
  optimizer's sum over tf.distribute replicas is the global-batch mean
  (identity on JAX, whose DataParallel runs one global program, and torch).
- `draw_for_replica(draw, shape)`: `draw(shape)`, except that each
  tf.distribute replica gets its own rows of one global-batch draw.
- `replicas_in_sync()`: replicas that each run the step on a shard (1 on
  JAX and torch); `SYNCHRONIZES_BATCH_NORM`: whether `BatchNormalization`
  takes `synchronized=True` (TF only).
- `fit_guard(model)`: a context manager + epoch callback that keeps the model's
  variables if `fit()` fails (JAX detaches them while training); None on
  the other backends.
- `conv_transpose(...)`: `keras.ops.conv_transpose` with a fast weight
  gradient where the backend's default one is slow (XLA on CPU).
- `conv(...)`: `keras.ops.conv` whose input gradient has a fast weight
  gradient (a gradient penalty differentiates it; XLA on CPU).
- `batch_norm_training(x, gamma, beta, epsilon, moving_mean,
  moving_variance, momentum)`: training-mode BatchNormalization over all
  axes but the last with a fused kernel, updating the two moving-statistics
  variables (unless they are None); the outputs, or None where the backend
  has no such kernel (TF and JAX fuse Keras's element-wise version
  themselves).
- `prepare_fit_input(x, y, batch_size, fit_kwargs)`: the input `fit()`
  iterates, and its `validation_data`, in the backend's fastest form (TF:
  numpy arrays through a tf.data pipeline with Keras's batches, autotuning
  off); unchanged elsewhere.
- `fit_callbacks(model, x, y, batch_size, epochs, fit_kwargs)`: the
  `fit()` arguments with callbacks that skip the per-batch hooks (and so
  the read-back of every batch's logs) when no callback has one; the same
  on every backend, see `epoch_callbacks`. `evaluate_callbacks(model, x,
  y, batch_size, evaluate_kwargs)`: the same for `evaluate()`.
- `train_function(model)`: `fit()`'s train function in the backend's
  cheapest form (TF on one device: the iterator's next batch and the step
  in one flat `tf.function`), or None for Keras's own.
- `float32_mean(x)`: `ops.mean(ops.cast(x, "float32"))`, the mean of all
  of `x` as a float32 scalar; `row_norms(x)`: each row's L2 norm of
  `float32(x)` over all axes but the first, plus 1e-12 under the root
  (which keeps it differentiable at zero). The same numbers everywhere;
  torch calls its kernels directly, without Keras's per-op dispatch and
  dtype promotion (~50 us a mean, ~70 us a row norm, eleven and five of
  them in a WGAN-GP step; TF and JAX trace the step once).
- `increment(variable)`: `variable.assign_add(1)`, without a host-to-device
  copy of the 1 (torch adds in place where it can; TF and JAX trace it).
- `add_to_mean(tracker, value)`: a `keras.metrics.Mean`'s update with one
  scalar and its new result, in place (torch: three ops); or None where
  the backend has no cheaper way than Keras's `update_state` (TF and JAX
  trace it once).
- `call_network(network, inputs, training)`: `network(inputs,
  training=training)` inside a train step; torch skips `Layer.__call__`'s
  per-layer bookkeeping for built graph networks (eager torch pays it on
  every step; TF and JAX trace once).
- `random_normal(shape, ...)` / `random_uniform(shape, ...)`: `keras.random`'s
  `normal` / `uniform`, the same numbers (torch skips Keras's per-draw
  seed bookkeeping for a `SeedGenerator` seed).
- `copy_values(variables)` / `assign_values(variables, values)`: a copy of
  the variables' values, and writing such a list back (torch copies the
  tensors directly, without Keras's per-variable read and assign checks).
- `no_gradient()`: a context for values no gradient will flow through
  (the fakes of a discriminator step): torch does not record them for
  autograd (`torch.no_grad()`); TF and JAX trace the step and prune what
  `ops.stop_gradient` cuts, so it does nothing there.
- `check_rows(rows, minimum, message)`: `rows` (a batch's `ops.shape(x)[0]`),
  or a ValueError with `message` when it is below `minimum`; TF checks a
  count unknown while tracing (a dataset's partial batch) in the graph,
  and whatever is computed from the returned count waits for the check.
- `check_class_ids(images, labels, low, high, message)`: the batch
  `(images, labels)` with the int class ids checked in `[low, high)` as
  the step runs: torch raises a ValueError with `message` on the CPU (an
  asynchronous device assertion elsewhere, so no host sync); TF asserts in
  the graph, and what reads the returned batch waits for it. A compiled
  program cannot raise (JAX; TF under XLA, which drops assertions): there
  a batch with an id out of range comes back with NaN images, so its
  losses are NaN and fit() ends the epoch with NonFiniteLossError.
- `global_rng_states()` / `set_global_rng_states(states)`: the backend's
  process-global RNG state that a train step may draw from, as a dict of
  numpy arrays, for checkpoints (torch: unseeded Dropout; empty elsewhere,
  where every draw comes from a `SeedGenerator` variable).
"""
import contextlib

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "jax":
    from keras_gans.backend import jax_impl as _impl
elif _BACKEND == "tensorflow":
    from keras_gans.backend import tensorflow_impl as _impl
elif _BACKEND == "torch":
    from keras_gans.backend import torch_impl as _impl
else:  # pragma: no cover - numpy/openvino backends cannot train.
    raise ImportError(
        f"keras-gans needs the 'tensorflow', 'jax' or 'torch' Keras backend "
        f"to train; KERAS_BACKEND is {_BACKEND!r}. Set KERAS_BACKEND=jax "
        "(or tensorflow, torch) before importing keras."
    )

from keras_gans.backend.epoch_callbacks import evaluate_callbacks  # noqa: E402,F401
from keras_gans.backend.epoch_callbacks import fit_callbacks  # noqa: E402,F401
from keras_gans.backend.fit_guard import fit_guard  # noqa: E402,F401
from keras_gans.backend import keras_ops  # noqa: E402

value_and_grad = _impl.value_and_grad
input_gradient = _impl.input_gradient
differentiable_grad = _impl.differentiable_grad
stateful_train_step = _impl.stateful_train_step
stateful_test_step = _impl.stateful_test_step
conv_transpose = _impl.conv_transpose
conv = getattr(_impl, "conv", keras.ops.conv)
sync_model_state = _impl.sync_model_state
apply_gradients = _impl.apply_gradients
scale_loss_for_distribution = _impl.scale_loss_for_distribution
draw_for_replica = _impl.draw_for_replica
replicas_in_sync = _impl.replicas_in_sync
SYNCHRONIZES_BATCH_NORM = _impl.SYNCHRONIZES_BATCH_NORM
batch_norm_training = getattr(_impl, "batch_norm_training", lambda *args: None)
prepare_fit_input = getattr(_impl, "prepare_fit_input",
                            lambda x, y, batch_size, kwargs: (x, y, batch_size, kwargs))
train_function = getattr(_impl, "train_function", lambda model: None)
call_network = getattr(_impl, "call_network",
                       lambda network, inputs, training: network(inputs, training=training))
random_normal = getattr(_impl, "random_normal", keras.random.normal)
random_uniform = getattr(_impl, "random_uniform", keras.random.uniform)


add_to_mean = getattr(_impl, "add_to_mean", lambda tracker, value: None)


float32_mean = getattr(_impl, "float32_mean", keras_ops.float32_mean)
row_norms = getattr(_impl, "row_norms", keras_ops.row_norms)
increment = getattr(_impl, "increment", keras_ops.increment)


def _copy_values(variables):
    return [keras.ops.copy(v.value) for v in variables]


def _assign_values(variables, values):
    for variable, value in zip(variables, values):
        variable.assign(value)


check_rows = getattr(_impl, "check_rows", keras_ops.check_rows)
check_class_ids = getattr(_impl, "check_class_ids", keras_ops.check_class_ids)
copy_values = getattr(_impl, "copy_values", _copy_values)
assign_values = getattr(_impl, "assign_values", _assign_values)
no_gradient = getattr(_impl, "no_gradient", contextlib.nullcontext)
global_rng_states = getattr(_impl, "global_rng_states", dict)
set_global_rng_states = getattr(_impl, "set_global_rng_states", lambda states: None)


def name():
    """The active Keras backend's name."""
    return _BACKEND

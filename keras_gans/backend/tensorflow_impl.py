"""TensorFlow implementation of the backend seam (graph mode under tf.function)."""
import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gans.backend import fused_adam
from keras_gans.backend import keras_ops
from keras_gans.backend.tf_data import SMALL_ARRAYS_BYTES
from keras_gans.backend.tf_data import SMALL_ARRAYS_ROWS
from keras_gans.backend.tf_data import no_autotune
from keras_gans.backend.tf_data import small_array_dataset


def value_and_grad(loss_fn, variables):
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    grads = tape.gradient(loss, variables)
    # tape.gradient(unconnected_gradients=ZERO) crashes on Keras variables.
    grads = [
        ops.zeros(v.shape, v.dtype) if g is None else g
        for g, v in zip(grads, variables)
    ]
    return (loss, aux), grads


def input_gradient(fn, x):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        total = tf.reduce_sum(y)
    return y, tape.gradient(total, x)


def stateful_train_step(model, step_fn, data):
    return step_fn(data)


stateful_test_step = stateful_train_step


# Under a tf.distribute strategy each replica runs the step on its shard of
# the batch and the optimizers sum the replicas' gradients. BatchNorm's
# `synchronized=True` (TF only) all-reduces its statistics across them.
SYNCHRONIZES_BATCH_NORM = True


def check_rows(rows, minimum, message):
    if isinstance(rows, int):
        return keras_ops.check_rows(rows, minimum, message)
    # Unknown while tracing: checked when the step runs. tf.function does
    # not order an assertion before variable updates, so the count itself
    # waits for it, and with it everything computed from the batch's chunks.
    check = tf.debugging.assert_greater_equal(rows, tf.cast(minimum, rows.dtype), message=message)
    with tf.control_dependencies([check]):
        return tf.identity(rows)


def check_class_ids(images, labels, low, high, message):
    # A graph assertion, as check_rows': what reads the returned batch waits
    # for it (TF would otherwise report an embedding's index error). XLA
    # (jit_compile=True) drops assertions, so the NaN images of
    # keras_ops.check_class_ids stand in there.
    checks = [tf.debugging.assert_greater_equal(labels, tf.cast(low, labels.dtype), message=message),
              tf.debugging.assert_less(labels, tf.cast(high, labels.dtype), message=message)]
    with tf.control_dependencies(checks):
        return keras_ops.check_class_ids(tf.identity(images), tf.identity(labels), low, high, message)


def replicas_in_sync():
    """Replicas of the active tf.distribute strategy (1 without one)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def scale_loss_for_distribution(loss):
    """A replica's mean over its shard, divided by the replica count: the
    optimizer's sum over replicas is then the mean over the global batch
    (as Keras's own losses do)."""
    replicas = replicas_in_sync()
    if replicas == 1:
        return loss
    return loss * tf.cast(1.0 / replicas, loss.dtype)


def draw_for_replica(draw, shape):
    """This replica's rows of `draw` for the global batch.

    The replicas share a mirrored seed state, so equal draws would repeat on
    every replica; drawing the global batch and keeping this replica's rows
    gives each replica different values, the ones one device draws.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return draw(shape)
    rows, replicas = shape[0], context.num_replicas_in_sync
    index = context.replica_id_in_sync_group
    drawn = draw((rows * replicas,) + tuple(shape[1:]))
    return drawn[index * rows : (index + 1) * rows]


def apply_gradients(optimizer, grads, variables):
    fused_adam.install(optimizer, "_backend_update_step", fused_adam_update, lambda: FUSED_ADAM)
    optimizer.apply(grads, variables)


# Keras's Adam builds ~15 graph ops per variable (two `pow`s, the moment
# updates, three assigns); TF's `ResourceApplyAdam` kernel does Keras's
# exact update (epsilon outside the square root, both bias corrections in
# the step size) in one op and one pass over the weights, and the step's
# scalars are built once per apply (WGAN-GP's five critic updates would
# otherwise add ~200 small graph ops per step). Set False (and retrace) to
# keep Keras's update.
FUSED_ADAM = True


def fused_adam_update(optimizer, grads, variables, learning_rate):
    """Keras's Adam update of one apply as `ResourceApplyAdam`s sharing one
    set of step scalars; False (nothing done) for sparse gradients, other
    dtypes, 16-bit weights (the kernel's `1 - beta_2` in bfloat16 is 0,
    Keras's is not) and tf.distribute (whose mirrored slot variables
    Keras's own update handles)."""
    variables = [v.value if isinstance(v, keras.Variable) else v for v in variables]
    if tf.distribute.has_strategy() or any(
            isinstance(g, tf.IndexedSlices) or g.dtype != v.dtype
            or v.dtype not in (tf.float32, tf.float64)
            for g, v in zip(grads, variables)):
        return False
    scalars = {}
    for gradient, variable in zip(grads, variables):
        dtype = variable.dtype
        if dtype not in scalars:
            scalars[dtype] = _adam_scalars(optimizer, learning_rate, dtype)
        index = optimizer._get_variable_index(variable)
        m, v = optimizer._momentums[index].value, optimizer._velocities[index].value
        tf.raw_ops.ResourceApplyAdam(var=variable.handle, m=m.handle, v=v.handle,
                                     grad=gradient, **scalars[dtype])
    return True


def _adam_scalars(optimizer, learning_rate, dtype):
    local_step = tf.cast(optimizer.iterations + 1, dtype)
    beta_1, beta_2 = tf.cast(optimizer.beta_1, dtype), tf.cast(optimizer.beta_2, dtype)
    return dict(
        beta1_power=tf.pow(beta_1, local_step), beta2_power=tf.pow(beta_2, local_step),
        lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
        epsilon=tf.cast(optimizer.epsilon, dtype))


def train_function(model):
    """`fit()`'s train function as one flat `tf.function` that takes the
    next batch from the iterator and runs `train_step` on it; None (Keras's
    own function) under a tf.distribute strategy, with
    `steps_per_execution > 1`, `jit_compile=True` (the iterator cannot join
    an XLA cluster) or `run_eagerly`.

    Keras's function nests the step's `tf.function` in the iterator's and
    wraps its outputs in a `tf.experimental.Optional`, for strategies and
    multi-step execution; on one device that costs ~1% of a WGAN-GP step
    here (`benchmarks/tf_fit_overhead.py`). At the end of a dataset of
    unknown length, the iterator's `OutOfRangeError` ends the epoch (Keras's
    epoch iterator catches it), and nothing of the step has run: its ops
    wait for the batch. (In Keras's function the step's counter and seed
    updates, which do not read the batch, still run there, one extra per
    epoch.)
    """
    if (model.run_eagerly or model.jit_compile or model.steps_per_execution != 1
            or tf.distribute.has_strategy()
            or model.distribute_strategy is not tf.distribute.get_strategy()):
        return None

    def unwrap_optionals(data):  # Keras's data adapters send None as Optional
        return keras.tree.map_structure(
            lambda x: None if isinstance(x, tf.experimental.Optional) else x, data)

    def step(data):
        data = unwrap_optionals(data)
        batch = [t for t in tf.nest.flatten(data, expand_composites=True) if t is not None]
        with tf.control_dependencies(batch):
            return model.train_step(data)

    step_on_iterator = tf.function(lambda iterator: step(next(iterator)),
                                   reduce_retracing=True, autograph=False)
    step_on_data = tf.function(step, reduce_retracing=True, autograph=False)

    def function(iterator):
        if isinstance(iterator, tf.data.Iterator):
            return step_on_iterator(iterator)
        return step_on_data(next(iter(iterator)))  # a Python iterable of batches

    function.step_on_iterator = step_on_iterator  # for tests: its traces
    return function


def sync_model_state(model):
    """Variables are always current outside JAX."""


conv_transpose = ops.conv_transpose


def differentiable_grad(fn, values):
    """`(fn(values), grads)`. An enclosing tape records this inner tape's
    gradient computation, so the gradients are differentiable (nested tapes)."""
    values = [tf.convert_to_tensor(v) for v in values]
    with tf.GradientTape() as tape:
        for value in values:
            tape.watch(value)
        loss = fn(values)
    grads = tape.gradient(loss, values)
    grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
    return loss, grads


# fit() arguments that Keras's array path handles and a dataset cannot take.
_ARRAY_ONLY = ("validation_split", "sample_weight", "class_weight", "steps_per_epoch")


def prepare_fit_input(x, y, batch_size, kwargs):
    """Numpy arrays (the training data and `validation_data`) -> tf.data
    pipelines with Keras's batches (partial last batch included) and
    shuffling, with autotuning off (see `no_autotune`). Anything else is
    returned as given."""
    kwargs = dict(kwargs)
    validation = _validation_dataset(kwargs, batch_size)
    if validation is not None:
        kwargs["validation_data"] = validation
        kwargs.pop("validation_batch_size", None)
    shuffle = kwargs.get("shuffle", True)
    if any(kwargs.get(key) is not None for key in _ARRAY_ONLY) or shuffle not in (True, False):
        return x, y, batch_size, kwargs
    dataset = array_dataset(x, y, batch_size or 32, shuffle)
    if dataset is None:
        return x, y, batch_size, kwargs
    # The dataset shuffles itself each epoch; Keras warns if asked to.
    return dataset, None, None, dict(kwargs, shuffle=False)


def _floatx(array):
    # Keras's array adapter casts every float array to floatx.
    if np.issubdtype(array.dtype, np.floating) and array.dtype != keras.config.floatx():
        return array.astype(keras.config.floatx())
    return array


def _validation_dataset(kwargs, batch_size):
    """`validation_data` unpacked as Keras does (`x`, `(x,)` or `(x, y)`),
    as a dataset; None if it is no array data, has sample weights, or
    `validation_steps` is to set the batch size (Keras's path)."""
    data = kwargs.get("validation_data")
    if data is None or kwargs.get("validation_steps") is not None:
        return None
    data = tuple(data) if isinstance(data, (tuple, list)) else (data,)
    if len(data) > 2 or (len(data) == 2 and data[1] is None):
        return None
    size = kwargs.get("validation_batch_size") or batch_size or 32
    return array_dataset(data[0], data[1] if len(data) == 2 else None, size, shuffle=False)


def array_dataset(x, y, batch_size, shuffle):
    """Numpy `x` (and `y`) as the dataset Keras's array path would iterate
    (elements packed as `keras.utils.pack_x_y_sample_weight` packs them,
    lists as tuples, floats as floatx); None for anything else."""
    leaves = [leaf for leaf in tf.nest.flatten((x, y)) if leaf is not None]
    if not all(isinstance(leaf, np.ndarray) for leaf in leaves):
        return None
    if (sum(leaf.nbytes for leaf in leaves) <= SMALL_ARRAYS_BYTES
            and len(leaves[0]) <= SMALL_ARRAYS_ROWS):
        data = keras.tree.map_structure(
            _floatx, keras.tree.lists_to_tuples(keras.utils.pack_x_y_sample_weight(x, y)))
        return small_array_dataset(data, batch_size, shuffle)
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # another Keras layout: its own pipeline, unchanged
        return None
    adapter = ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle)
    # Keras's array path knows its step count; the dataset alone does not
    # (unknown cardinality makes Keras run one step past the end).
    dataset = adapter.get_tf_dataset().apply(
        tf.data.experimental.assert_cardinality(adapter.num_batches))
    return no_autotune(dataset)

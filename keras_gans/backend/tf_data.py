"""tf.data input pipelines (the only dataset code that imports TensorFlow).

``keras_gans.datasets.make_dataset`` calls :func:`make_tf_dataset` when
TensorFlow is importable. Keras 3 accepts a ``tf.data.Dataset`` in
``model.fit`` on every backend (JAX and PyTorch get numpy/torch batches), so
this is used whatever ``KERAS_BACKEND`` says.
"""
import tensorflow as tf


# Options for the tf.data pipelines that fit() iterates. With autotuning on,
# deleting the iterator at the end of a fit() (or of an epoch) waits for
# the autotuner's thread: measured 0 to 2.4 s at random per call here, none
# with it off. Our pipelines are in-memory slices and batches, where
# autotuning has nothing to tune.
def no_autotune(dataset):
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


# Arrays up to this size go through `small_array_dataset`: it has no
# traced functions, so a fit() call builds and starts it in ~10 ms against
# ~55 ms for Keras's array pipeline (~4% of a 20-step WGAN-GP fit() here).
# Its shuffle buffer holds a second copy of the rows and shuffles row by
# row; larger arrays use Keras's index-gather pipeline, which is cheaper
# per epoch at 60,000 MNIST rows (~300 ms against ~460 ms).
SMALL_ARRAYS_BYTES = 64 * 2**20
SMALL_ARRAYS_ROWS = 16384


def small_array_dataset(data, batch_size, shuffle):
    """Batches of the rows of `data` (an array, or tuples of equal-length
    arrays), the last one partial, in a new random order each pass if
    `shuffle`: the batches Keras's own array pipeline gives (same count,
    same static shapes), built without tracing a function.

    >>> import numpy as np
    >>> ds = small_array_dataset(np.arange(10), 4, shuffle=True)
    >>> sorted(int(v) for b in ds.as_numpy_iterator() for v in b)
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    >>> [len(b) for b in ds.as_numpy_iterator()]
    [4, 4, 2]
    """
    rows = len(tf.nest.flatten(data)[0])
    ds = tf.data.Dataset.from_tensor_slices(data)
    if shuffle:
        # A buffer of every row: each pass is a uniform permutation.
        ds = ds.shuffle(rows, reshuffle_each_iteration=True)
    # Without a partial batch, the batch size is static, as in Keras's
    # pipeline: the step's graph is traced for it.
    ds = ds.batch(batch_size, drop_remainder=rows % batch_size == 0)
    return no_autotune(ds.prefetch(tf.data.AUTOTUNE))


def make_tf_dataset(images, batch_size, labels=None, shuffle=True, seed=0,
                    repeat=True):
    """Build a batched ``tf.data.Dataset`` over in-memory numpy arrays.

    Order: shuffle (whole set, ``seed``, reshuffled every pass) -> batch
    (``drop_remainder=True``, so every batch has exactly ``batch_size`` rows
    and each epoch sees each sample at most once) -> repeat -> prefetch,
    with tf.data's autotuning off (see ``no_autotune``).
    Elements are ``images`` when ``labels`` is None, else ``(images, labels)``.

    Example:
        >>> import numpy as np
        >>> ds = make_tf_dataset(np.zeros((10, 28, 28, 1), "float32"), 4,
        ...                      repeat=False)
        >>> [b.shape[0] for b in ds.as_numpy_iterator()]
        [4, 4]
    """
    tensors = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(
            buffer_size=len(images), seed=seed, reshuffle_each_iteration=True
        )
    ds = ds.batch(batch_size, drop_remainder=True)
    if repeat:
        ds = ds.repeat()
    return no_autotune(ds.prefetch(tf.data.AUTOTUNE))

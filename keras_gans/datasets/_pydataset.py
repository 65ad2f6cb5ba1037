"""Framework-free input pipeline: a ``keras.utils.PyDataset`` over numpy.

Used by :func:`keras_gans.datasets.make_dataset` when TensorFlow (and so
``tf.data``) is not installed.
"""
import keras
import numpy as np


class NumpyBatches(keras.utils.PyDataset):
    """Shuffled, fixed-size numpy batches over in-memory arrays.

    Batch ``i`` of epoch ``e`` uses the permutation drawn from
    ``(seed, e)``, so the stream is reproducible and needs no state. With
    ``repeat=True`` the dataset is infinite (``num_batches`` is None) and
    index ``i`` belongs to epoch ``i // steps_per_epoch``; with
    ``repeat=False`` it holds one epoch and reshuffles in ``on_epoch_end``.
    The last ``len(images) % batch_size`` samples of each epoch are dropped.

    Example:
        >>> import numpy as np
        >>> ds = NumpyBatches(np.zeros((10, 28, 28, 1), "float32"), 4)
        >>> ds[0].shape, ds.steps_per_epoch
        ((4, 28, 28, 1), 2)
    """

    def __init__(self, images, batch_size, labels=None, shuffle=True, seed=0,
                 repeat=True):
        super().__init__()
        self.images = images
        self.labels = labels
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.repeat = bool(repeat)
        self.steps_per_epoch = len(images) // self.batch_size
        self._epoch = 0
        self._perm_cache = {}

    def __len__(self):
        return self.steps_per_epoch

    @property
    def num_batches(self):
        return None if self.repeat else self.steps_per_epoch

    def _permutation(self, epoch):
        if not self.shuffle:
            return None
        perm = self._perm_cache.get(epoch)
        if perm is None:
            rng = np.random.default_rng([self.seed, epoch])
            perm = rng.permutation(len(self.images))
            self._perm_cache = {epoch: perm}  # keep only the current epoch
        return perm

    def __getitem__(self, index):
        index = int(index)
        if index < 0 or (not self.repeat and index >= self.steps_per_epoch):
            raise IndexError(
                f"batch index {index} out of range "
                f"(steps_per_epoch={self.steps_per_epoch}, repeat={self.repeat})"
            )
        if self.repeat:
            epoch, step = divmod(index, self.steps_per_epoch)
        else:
            epoch, step = self._epoch, index
        rows = np.arange(step * self.batch_size, (step + 1) * self.batch_size)
        perm = self._permutation(epoch)
        if perm is not None:
            rows = np.sort(perm[rows])  # sorted: faster gather, same batch set
        x = self.images[rows]
        if self.labels is None:
            return x
        return x, self.labels[rows]

    def on_epoch_end(self):
        if not self.repeat:
            self._epoch += 1

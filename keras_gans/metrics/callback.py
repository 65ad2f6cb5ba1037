"""A Keras callback that logs FID / KID (and friends) during training."""
import math

import keras

from keras_gans.metrics.distribution import Evaluator

_KEYS = {"fid": ("fid",), "kid": ("kid", "kid_std"),
         "precision_recall": ("precision", "recall"),
         "density_coverage": ("density", "coverage")}


class EvaluationCallback(keras.callbacks.Callback):
    """Logs sample-quality metrics every ``every`` epochs into the History.

    The values (``fid``, ``kid``, ``kid_std``, ...) are added to the epoch's
    ``logs``, so ``history.history["fid"]`` has one entry per epoch: the
    metric on evaluated epochs and NaN on the others (lists stay aligned
    with the epochs). The protocol is printed once (``verbose``) and kept in
    ``self.protocol``; ``self.results`` holds ``(epoch, Result)`` pairs.

    Samples come from the model's ``sampler`` (its EMA generator when it
    keeps one) with fixed numpy latents (``seed``). The reference features
    are computed once, at the first evaluation.

    Args:
        every: evaluate after every this many epochs (and after the last).
        n: generated samples per evaluation (reference: ``n_reference``).
        metrics, reference, split, n_reference, seed, ...: as
            :class:`keras_gans.metrics.Evaluator`.

    Example:
        >>> cb = EvaluationCallback(every=5, n=2000, metrics=("fid", "kid"))
        >>> history = gan.fit(data, epochs=20, callbacks=[cb])  # doctest: +SKIP
        >>> history.history["fid"]                              # doctest: +SKIP
        [nan, nan, nan, nan, 41.2, nan, ...]
    """

    def __init__(self, every=1, n=2000, metrics=("fid", "kid"), reference="mnist",
                 split="test", n_reference=None, seed=0, verbose=1, **kwargs):
        super().__init__()
        self.every = max(1, int(every))
        self.evaluator = Evaluator(metrics=metrics, reference=reference, split=split,
                                   n=n, n_reference=n_reference, seed=seed,
                                   verbose=0, **kwargs)
        self.verbose = verbose
        self.results = []
        self.protocol = None
        self._keys = [key for name in self.evaluator.metrics for key in _KEYS[name]]
        self._epochs = None

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs") if self.params else None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        last = self._epochs is not None and epoch + 1 == self._epochs
        if (epoch + 1) % self.every and not last:
            logs.update({k: math.nan for k in self._keys})
            return
        from keras_gans import backend

        backend.sync_model_state(self.model)
        result = self.evaluator(self.model)
        self.results.append((epoch, result))
        if self.protocol is None:
            self.protocol = result.protocol
            if self.verbose:
                print(f"\n[EvaluationCallback] {result.protocol}")
        logs.update({k: float(v) for k, v in result.items()})
        if self.verbose:
            values = ", ".join(f"{k}={v:.4g}" for k, v in result.items())
            print(f"\n[EvaluationCallback] epoch {epoch + 1}: {values}")

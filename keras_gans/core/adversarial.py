"""The adversarial training core: network sets, their optimizers, one step.

A model declares its *network sets*: each set is one or more networks updated
by one optimizer (a GAN has `"d"` and `"g"`; CycleGAN four sets; InfoGAN puts
its Q head in a set beside the generator). A variant's `adversarial_step`
calls `self.update(set_keys, loss_fn)` once per phase; everything about
gradients, optimizers, loss scaling and backend differences lives here and in
`keras_gans.backend`.
"""
import contextlib
import math
import numbers

import keras
import numpy as np
from keras import ops
from keras.src.saving.serialization_lib import SerializableDict

from keras_gans import backend
from keras_gans.core.optimizer import GANOptimizer
from keras_gans.layers.batch_norm import BatchNormalization
from keras_gans.layers.batch_norm import keeping_statistics
from keras_gans.utils.images import check_image_array
from keras_gans.utils.images import is_array
from keras_gans.utils.marks import ThreadMarks


def default_optimizer():
    """Adam(2e-4, beta_1=0.5), the DCGAN paper's optimizer."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


class AdversarialModel(keras.Model):
    """Base class of every keras-gans model: subclass it, don't use it alone.

    Subclasses set:

    - `network_sets`: dict mapping an optimizer key to the attribute names
      of the networks it updates, e.g. `{"d": ("discriminator",),
      "g": ("generator",)}`. `compile()` then takes `d_optimizer=` and
      `g_optimizer=`.
    - `tracked_metrics`: names of the scalars logged each step (means over
      the epoch in the History).
    - `adversarial_step(data)`: one training step, built from
      `self.update(...)` calls; returns a dict of the tracked scalars.

    Guarantees of `update(keys, loss_fn)`: only the variables of the sets in
    `keys` change; the non-trainable state (BatchNorm statistics) of the
    other sets' networks is left as it was (keras-gans BatchNormalization
    skips its moving-statistics update; anything else, renorm layers and
    Keras's own BatchNormalization included, is restored after the forward
    passes), so a discriminator update leaves every generator weight
    bit-unchanged and vice versa.

    Example (a two-network model trained by matching means):

    >>> import keras, numpy as np
    >>> from keras import ops
    >>> class MeanMatch(AdversarialModel):
    ...     network_sets = {"g": ("generator",)}
    ...     tracked_metrics = ("g_loss",)
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.generator = keras.Sequential(
    ...             [keras.Input((2,)), keras.layers.Dense(2)])
    ...     def adversarial_step(self, data):
    ...         def loss():
    ...             out = self.generator(data)
    ...             value = ops.mean(ops.square(ops.mean(out, 0) - 3.0))
    ...             return value, {"g_loss": value}
    ...         return self.update("g", loss)
    >>> model = MeanMatch()
    >>> model.compile(g_optimizer=keras.optimizers.SGD(0.1))
    >>> history = model.fit(np.ones((8, 2), "float32"), batch_size=8,
    ...                     epochs=30, verbose=0)
    >>> history.history["g_loss"][-1] < history.history["g_loss"][0]
    True
    """

    network_sets = {}
    tracked_metrics = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._trackers = []
        self.track(*self.tracked_metrics)

    def track(self, *names):
        """Logs more scalars (e.g. a penalty chosen at construction time)."""
        known = {t.name for t in self._trackers}
        self._trackers += [keras.metrics.Mean(name=n) for n in names if n not in known]

    def default_optimizer(self, key):
        """The optimizer of set `key` when compile() is not given one."""
        return default_optimizer()

    # ----------------------------------------------------------------- sets
    def networks_of(self, key):
        return [getattr(self, name) for name in self.network_sets[key]]

    def set_variables(self, key):
        """Trainable variables updated by the optimizer of set `key`."""
        return [v for net in self.networks_of(key) for v in net.trainable_variables]

    # -------------------------------------------------------------- compile
    def compile(
        self,
        *,
        run_eagerly=False,
        jit_compile="auto",
        steps_per_execution=1,
        auto_scale_loss=True,
        **optimizers,
    ):
        """Configures one optimizer per network set.

        Args:
            **optimizers: `<set>_optimizer=` for each network set (for a GAN:
                `d_optimizer`, `g_optimizer`): a Keras optimizer instance or
                identifier. Missing ones default to `default_optimizer(key)`
                (Adam(2e-4, beta_1=0.5) unless the variant says otherwise).
            run_eagerly, jit_compile, steps_per_execution: as in
                `keras.Model.compile`. `jit_compile="auto"` jits on JAX and
                runs TF graphs without XLA and torch eagerly.
            auto_scale_loss: under the `mixed_float16` policy, wrap each
                optimizer in a `LossScaleOptimizer`.
        """
        expected = [f"{key}_optimizer" for key in self.network_sets]
        unknown = sorted(set(optimizers) - set(expected))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.compile() got unexpected arguments "
                f"{unknown}; its optimizers are {expected}."
            )
        chosen = {}
        for key in self.network_sets:
            opt = optimizers.get(f"{key}_optimizer") or self.default_optimizer(key)
            chosen[key] = keras.optimizers.get(opt)
        if len({id(opt) for opt in chosen.values()}) < len(chosen):
            raise ValueError(
                "Each network set needs its own optimizer instance; the same "
                "optimizer object was passed for two sets."
            )
        self._require_built_networks()
        applied = dict(chosen)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16":
            applied = {
                key: keras.optimizers.LossScaleOptimizer(opt)
                for key, opt in chosen.items()
            }
        super().compile(
            optimizer=GANOptimizer(applied),
            run_eagerly=run_eagerly,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
            auto_scale_loss=False,
        )
        self.optimizer.build_sets(
            {key: self.set_variables(key) for key in self.network_sets}
        )
        self._compile_config = SerializableDict(
            run_eagerly=run_eagerly,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
            auto_scale_loss=auto_scale_loss,
            **{f"{key}_optimizer": opt for key, opt in chosen.items()},
        )

    def _require_built_networks(self):
        # The optimizers are built on the networks' variables right away,
        # and fit() must not build the model by calling it on a batch.
        for key in self.network_sets:
            for name, net in zip(self.network_sets[key], self.networks_of(key)):
                if not net.built:
                    raise ValueError(
                        f"Network {name!r} is not built; build it (e.g. "
                        f"`{name}.build(input_shape)`) before compile()."
                    )
        self.built = True

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)

    # --------------------------------------------------------------- metrics
    @property
    def metrics(self):
        return list(self._trackers)

    def _record(self, values):
        return {t.name: t.result() if t.name not in values else _update_mean(t, values[t.name])
                for t in self._trackers}

    # ------------------------------------------------------------- training
    def train_step(self, *args):
        # JAX passes (state, data), the others (data); the backend seam
        # turns either into one call of the stateful step below.
        return backend.stateful_train_step(self, self._stateful_train_step, *args)

    def make_train_function(self, force=False):
        # The backend's cheaper train function where it has one (TF on one
        # device, see `backend.train_function`), else Keras's.
        if self.train_function is not None and not force:
            return self.train_function
        function = backend.train_function(self)
        if function is None:
            return super().make_train_function(force)
        self.train_function = function
        return function

    def _stateful_train_step(self, data):
        values = self.adversarial_step(data)
        backend.increment(self.optimizer.iterations)
        return self._record(values)

    def test_step(self, *args):
        # evaluate() and fit(validation_data=...) report the training
        # step's losses; Keras's default would call the generator on images.
        return backend.stateful_test_step(self, self._stateful_test_step, *args)

    def _stateful_test_step(self, data):
        # One training step's losses at the current weights, nothing
        # applied: `update` only evaluates, and whatever else the step
        # writes (BatchNorm statistics, EMA copies, weight clipping, BEGAN's
        # k) is put back. Networks run as in training (batch statistics).
        with _EVALUATING.on([self]), _KeepValues(self.weights):
            values = self.adversarial_step(data)
        return self._record(values)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate`: the training step's losses on `x` at the
        current weights (see `test_step`); `fit(validation_data=...)` reports
        the same. Nothing changes: no update is applied, every weight the
        step writes is put back, and the seed generators are rewound, so
        validating does not change the training run's random draws.

        >>> import numpy as np
        >>> from keras_gans.models import DCGAN
        >>> gan = DCGAN(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=0)
        >>> gan.compile()
        >>> images = np.zeros((16, 8, 8, 1), "float32")
        >>> losses = gan.evaluate(images, batch_size=8, verbose=0, return_dict=True)
        >>> sorted(losses)
        ['d_loss', 'g_loss']
        """
        self._assert_compile_called("evaluate()")
        _refuse_weights("evaluate", kwargs)
        if not kwargs.get("_use_cached_eval_dataset"):  # fit() checked its data
            _check_array_input(x)
        weights = {id(v) for v in self.weights}
        seeds = [v for v in self.variables if id(v) not in weights]
        saved = [keras.ops.convert_to_numpy(v.value) for v in seeds]
        kwargs = backend.evaluate_callbacks(self, x, y, batch_size, kwargs)
        guard = backend.fit_guard(self)
        with guard or contextlib.nullcontext():
            result = super().evaluate(x, y, batch_size=batch_size, **kwargs)
        for variable, value in zip(seeds, saved):
            variable.assign(value)
        return result

    def adversarial_step(self, data):
        raise NotImplementedError(
            f"{type(self).__name__} must implement adversarial_step(data)."
        )

    def run_network(self, network, inputs, training=True):
        """`network(inputs, training=training)`, as a train step should call
        its networks: on torch this skips `Layer.__call__`'s per-layer
        bookkeeping for graph networks (`backend.call_network`).

        >>> import numpy as np
        >>> from keras_gans.models import DCGAN
        >>> gan = DCGAN(image_shape=(8, 8, 1), latent_dim=4, base_filters=4)
        >>> latents = keras.ops.convert_to_tensor(np.zeros((2, 4), "float32"))
        >>> tuple(gan.run_network(gan.generator, latents, training=False).shape)
        (2, 8, 8, 1)
        """
        return backend.call_network(network, inputs, training)

    def update(self, keys, loss_fn):
        """One optimizer step on the network sets `keys`.

        Args:
            keys: a set key or a tuple of keys updated together.
            loss_fn: `() -> (loss, logs)`; the scalar `loss` is minimised
                over the sets' trainable variables, `logs` (a dict of
                scalars) is returned.
        """
        if self in _EVALUATING:
            return loss_fn()[1]
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        variables = {key: self.set_variables(key) for key in keys}
        flat = [v for key in keys for v in variables[key]]
        lead = keys[0]

        def scaled_loss():
            loss, logs = loss_fn()
            # float32: a float16 loss would overflow once loss-scaled. The
            # replicas' summed gradients become the global-batch mean's.
            loss = backend.scale_loss_for_distribution(ops.cast(loss, "float32"))
            return self.optimizer.scale_loss(loss, lead), logs

        with _KeepStatistics(self._other_networks(keys)):
            (_, logs), grads = backend.value_and_grad(scaled_loss, flat)
        start = 0
        for key in keys:
            count = len(variables[key])
            set_grads = grads[start : start + count]
            start += count
            if key != lead and self._is_loss_scaled(key, lead):
                ratio = self._loss_scale(key) / self._loss_scale(lead)
                set_grads = [g * ops.cast(ratio, g.dtype) for g in set_grads]
            self.optimizer.apply_to(key, set_grads, variables[key])
        return logs

    def _is_loss_scaled(self, *keys):
        return any(
            isinstance(self.optimizer[k], keras.optimizers.LossScaleOptimizer)
            for k in keys
        )

    def _loss_scale(self, key):
        opt = self.optimizer[key]
        if isinstance(opt, keras.optimizers.LossScaleOptimizer):
            return opt.dynamic_scale
        return 1.0

    def _other_networks(self, keys):
        return [
            net
            for key in self.network_sets
            if key not in keys
            for net in self.networks_of(key)
        ]

    def fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
        """`keras.Model.fit`, with the input checked first (see `Model.fit`).

        Array inputs that are empty or hold NaN/inf are refused before any
        step runs, so they cannot poison the weights. If a step fails (bad
        data, an interrupt) the model keeps its last weights on every
        backend (see `keras_gans.backend.fit_guard`).
        """
        self._assert_compile_called("fit()")
        _refuse_weights("fit", kwargs)
        if kwargs.get("validation_data") is not None:
            _check_array_input(kwargs["validation_data"])
        if not _check_array_input(x):
            # Datasets shuffle themselves; Keras warns if asked to.
            kwargs.setdefault("shuffle", False)
        x, y, batch_size, kwargs = backend.prepare_fit_input(x, y, batch_size, kwargs)
        guard = backend.fit_guard(self)
        ours = [_StopOnNonFiniteLoss()] + ([guard] if guard else [])
        given = kwargs.get("callbacks")
        user_list = isinstance(given, keras.callbacks.CallbackList)
        if not user_list:
            # Flat, as Keras's list reads them (its async check does not).
            kwargs["callbacks"] = keras.tree.flatten(given or []) + ours
        kwargs = backend.fit_callbacks(self, x, y, batch_size, epochs, kwargs)
        try:
            if user_list:
                for callback in ours:  # removed below: the list is the user's
                    callback.set_model(self)
                    given.callbacks.append(callback)
            with guard or contextlib.nullcontext():
                return super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)
        except UnboundLocalError as err:
            # Keras's loop fails this way when the input yields no batch.
            if "logs" not in str(err):
                raise
            raise ValueError(
                "fit() received no batch of data: the dataset is empty or "
                "yields fewer batches than one step needs."
            ) from None
        finally:
            if user_list:
                given.callbacks[:] = [c for c in given.callbacks if not any(c is o for o in ours)]

    def _assert_compile_called(self, method_name=None):
        if not getattr(self, "compiled", False):
            names = ", ".join(f"{k}_optimizer=..." for k in self.network_sets)
            raise RuntimeError(
                f"You must call compile() before {method_name or 'training'}: "
                f"model.compile({names}) (each defaults to "
                "Adam(2e-4, beta_1=0.5))."
            )


class NonFiniteLossError(RuntimeError):
    """An epoch of `fit()` ended with NaN or infinite losses.

    >>> import numpy as np
    >>> from keras_gans import datasets
    >>> from keras_gans.models import DCGAN
    >>> gan = DCGAN(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, seed=0)
    >>> gan.compile()
    >>> images = np.zeros((8, 8, 8, 1), "float32")
    >>> images[3, 0, 0, 0] = np.nan  # a dataset is not scanned up front
    >>> data, _ = datasets.make_dataset(images, 4, pipeline="numpy")
    >>> try:
    ...     gan.fit(data, steps_per_epoch=2, verbose=0)
    ... except NonFiniteLossError as err:
    ...     print(str(err)[:44])
    Epoch 1 ended with non-finite losses (d_loss
    """


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Ends `fit()` with a `NonFiniteLossError` after an epoch whose losses
    are NaN or infinite: the weights they moved are lost, and every later
    step would only spread the NaN. Epoch-level, so no step waits for it."""

    def on_epoch_end(self, epoch, logs=None):
        bad = sorted(key for key, value in (logs or {}).items()
                     if key.endswith("loss") and isinstance(value, numbers.Real)
                     and not math.isfinite(value))
        if bad:
            self.model.stop_training = True
            raise NonFiniteLossError(
                f"Epoch {epoch + 1} ended with non-finite losses ({', '.join(bad)}): the "
                "weights are no longer usable. Common causes: NaN or inf in a dataset's "
                "images, class labels outside [0, num_classes) in a dataset (arrays are "
                "checked by fit()), a learning rate too high, or float16 without loss "
                "scaling. Fix that, then restart from your last checkpoint or weights.")


def _refuse_weights(method, kwargs):
    # An adversarial step has no per-example loss to weight: Keras would
    # accept the weights and the step would ignore them.
    given = [k for k in ("sample_weight", "class_weight") if kwargs.get(k) is not None]
    if given:
        raise ValueError(
            f"{method}() got {' and '.join(given)}, which GAN training does not "
            "use: every image counts once. Resample or repeat the images instead."
        )


def _check_array_input(x):
    """Checks array input; returns False for datasets (checked per batch)."""
    first = x[0] if isinstance(x, (tuple, list)) and x else x
    if not is_array(first):
        return False
    check_image_array(np.asarray(first), "fit()")
    return True


# Models whose test step is being traced or run, per thread.
_EVALUATING = ThreadMarks()


class _KeepStatistics:
    """Leaves the non-trainable state of `networks` (BatchNorm statistics)
    as it is while they run forward in another set's update: keras-gans
    BatchNormalization layers skip their moving-statistics update
    (`keeping_statistics`); any other non-trainable weight (Keras's own
    BatchNormalization, subclasses with their own `call`, renorm) is
    restored afterwards (`_KeepValues`)."""

    def __init__(self, networks):
        layers = [
            layer for net in networks for layer in net._flatten_layers()
            if type(layer).call is BatchNormalization.call and not layer.renorm
        ]
        skipped = {id(v) for layer in layers for v in (layer.moving_mean, layer.moving_variance)}
        self.restore = _KeepValues([v for net in networks for v in net.non_trainable_weights
                                    if id(v) not in skipped])
        self.keeping = keeping_statistics(layers)

    def __enter__(self):
        self.restore.__enter__()  # copies first: a failed copy sets no flag
        self.keeping.__enter__()
        return self

    def __exit__(self, *exc):
        self.keeping.__exit__(*exc)
        return self.restore.__exit__(*exc)


class _KeepValues:
    """Restores `variables` on exit: e.g. the BatchNorm statistics
    (non-trainable weights) of networks that run forward in another set's
    update. Pass weights, not seed-generator states, so that random layers
    do not repeat their draws."""

    def __init__(self, variables):
        self.variables = variables

    def __enter__(self):
        self.saved = backend.copy_values(self.variables)
        return self

    def __exit__(self, *exc):
        backend.assign_values(self.variables, self.saved)
        return False


# A Python number in a variable update becomes a device tensor on torch: a
# host-to-device copy, which on a GPU waits for every queued kernel and so
# stalls the step's launches. Our own counter goes through
# `backend.increment`, Keras's `Mean` through `backend.add_to_mean` (and
# Keras's optimizer counter through the torch backend's `apply_gradients`).
def _update_mean(tracker, value):
    """`tracker.update_state(value)`, then its result. Keras's `Mean`
    converts the sample count 1 of a scalar from Python."""
    value = ops.convert_to_tensor(value)
    if type(tracker) is keras.metrics.Mean and value.shape == ():
        mean = backend.add_to_mean(tracker, value)
        if mean is not None:
            return mean
    tracker.update_state(value)
    return tracker.result()

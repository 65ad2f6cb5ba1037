"""One optimizer per network set, carried as a single Keras optimizer."""
import keras
from keras import ops
from keras.src.utils import tracking

from keras_gans import backend


@keras.saving.register_keras_serializable(package="keras_gans")
class GANOptimizer(keras.optimizers.Optimizer):
    """Holds one optimizer per network set and presents them to Keras as one.

    Keras trainers carry exactly one optimizer's state (`model.optimizer`);
    on JAX a second optimizer kept beside it is silently never updated. This
    container exposes all sub-optimizers' variables, so every backend's
    trainer carries them, and applies each set's gradients only to that
    set's optimizer (no zero gradients reach the other set's Adam moments).

    - `iterations` is the global train-step counter (TensorBoard's step);
      each sub-optimizer keeps its own `iterations` too.
    - `optimizers` lists the sub-optimizers: Keras's `LearningRateScheduler`,
      `ReduceLROnPlateau` and `TensorBoard` apply to each of them.
    - `learning_rate` reads the first set's learning rate; assigning it
      scales every set's learning rate by the same factor, which keeps their
      ratio (TTUR), for code that only knows one learning rate.

    Args:
        optimizers: dict mapping a set name (e.g. `"d"`, `"g"`) to a Keras
            optimizer.

    Example:

    >>> import keras
    >>> opt = GANOptimizer({"d": keras.optimizers.Adam(4e-4),
    ...                     "g": keras.optimizers.Adam(1e-4)})
    >>> opt.learning_rate = 2e-4  # halves both
    >>> round(float(opt["g"].learning_rate), 8)
    5e-05
    """

    def __init__(self, optimizers, name="gan_optimizer", **kwargs):
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        if not optimizers:
            raise ValueError("GANOptimizer needs at least one optimizer.")
        for key, opt in optimizers.items():
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise TypeError(
                    f"The optimizer for {key!r} must be a keras optimizer "
                    f"instance, got {opt!r}."
                )
        self._optimizers = dict(optimizers)
        self._set_variables = {}

    def __getitem__(self, key):
        return self._optimizers[key]

    def keys(self):
        return list(self._optimizers)

    @property
    def optimizers(self):
        """The sub-optimizers in set order. Keras's LearningRateScheduler,
        ReduceLROnPlateau and TensorBoard act on each of them through this
        list (the `MultiOptimizer` convention)."""
        return list(self._optimizers.values())

    def build_sets(self, variables_by_set):
        """Builds each sub-optimizer on its own set's trainable variables."""
        set_variables = {key: list(variables_by_set[key]) for key in self._optimizers}
        # Untracked: Keras's tracker would count the model's weights listed
        # here among this optimizer's own variables, and JAX's trainer would
        # then carry (and copy) every weight twice through each step.
        with tracking.DotNotTrackScope():
            self._set_variables = set_variables
        for key, opt in self._optimizers.items():
            if not opt.built:
                opt.build(set_variables[key])
        super().build([v for variables in set_variables.values() for v in variables])

    def build(self, var_list):
        if not self.built:
            raise RuntimeError(
                "GANOptimizer is built by its model's compile(); compile the "
                "model instead of building the optimizer directly."
            )

    @property
    def variables(self):
        variables = list(self._variables)
        for opt in self._optimizers.values():
            variables.extend(opt.variables)
        return variables

    # The sub-optimizers are saved as children of this object; only the own
    # variables (global step) are saved here, so nothing is stored twice.
    def save_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            variable.assign(store[str(i)])

    def scale_loss(self, loss, key=None):
        if key is None:
            return loss
        return self._optimizers[key].scale_loss(loss)

    def apply_to(self, key, grads, variables):
        """Applies `grads` to `variables` with the optimizer of set `key`."""
        backend.apply_gradients(self._optimizers[key], grads, variables)

    def apply(self, grads, trainable_variables=None):
        # Routes a full gradient list to the owning sets (used when a
        # wrapper such as LossScaleOptimizer calls apply with every grad).
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        owner = {
            id(v): key
            for key, variables in self._set_variables.items()
            for v in variables
        }
        for key in self._optimizers:
            pairs = [
                (g, v)
                for g, v in zip(grads, trainable_variables)
                if owner.get(id(v)) == key
            ]
            if pairs:
                self.apply_to(key, *map(list, zip(*pairs)))

    def finalize_variable_values(self, var_list):
        for key, opt in self._optimizers.items():
            opt.finalize_variable_values(self._set_variables.get(key, []))

    @property
    def learning_rate(self):
        first = next(iter(self._optimizers.values()))
        return first.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if not hasattr(self, "_optimizers"):
            # Called by the base constructor before the sets exist.
            self._learning_rate = self._build_learning_rate(value)
            return
        reference = float(ops.convert_to_numpy(self.learning_rate))
        for opt in self._optimizers.values():
            if reference == 0.0:
                opt.learning_rate = float(value)
            else:
                current = float(ops.convert_to_numpy(opt.learning_rate))
                opt.learning_rate = current * float(value) / reference

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": {
                key: keras.saving.serialize_keras_object(opt)
                for key, opt in self._optimizers.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        optimizers = {
            key: keras.saving.deserialize_keras_object(
                opt, custom_objects=custom_objects
            )
            for key, opt in config["optimizers"].items()
        }
        return cls(optimizers, name=config.get("name", "gan_optimizer"))

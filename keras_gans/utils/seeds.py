"""Saving a `keras.random.SeedGenerator`'s state with the weights."""
from keras import ops


class SavesSeedState:
    """Mixin for a Layer or Model owning `self.seed_generator`: its state is
    saved with the weights (Keras does not save SeedGenerator states), so a
    restored object continues the same random draws. List it before the
    Keras base class.

    >>> import keras
    >>> class Noise(SavesSeedState, keras.layers.Layer):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.seed_generator = keras.random.SeedGenerator(0)
    >>> store = {}
    >>> Noise().save_own_variables(store)
    >>> sorted(store)
    ['seed_generator_state']
    """

    _SEED_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[self._SEED_KEY] = ops.convert_to_numpy(self.seed_generator.state.value)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if self._SEED_KEY in keys:
            self.seed_generator.state.assign(store[self._SEED_KEY])
        super().load_own_variables({k: store[k] for k in keys if k != self._SEED_KEY})

"""Small helpers shared by callbacks, the CLI and examples."""
from keras_gans.utils.images import check_image_array
from keras_gans.utils.images import image_grid
from keras_gans.utils.images import save_grid
from keras_gans.utils.images import to_uint8
from keras_gans.utils.plots import plot_history

__all__ = ["check_image_array", "image_grid", "plot_history", "save_grid", "to_uint8"]

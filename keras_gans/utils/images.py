"""Turning generated tensors into PNG grids a person can look at."""
import math
import os

import numpy as np


def to_uint8(images, value_range=(-1.0, 1.0)):
    """Float images in `value_range` -> uint8 in [0, 255] (clipped).

    >>> to_uint8(np.array([-1.0, 0.0, 1.0])).tolist()
    [0, 128, 255]
    """
    low, high = value_range
    images = np.asarray(images, dtype="float32")
    scaled = (images - low) / (high - low) * 255.0
    return np.clip(np.round(scaled), 0, 255).astype("uint8")


def is_array(value):
    """Whether `value` is an array or tensor (has a shape and a dtype), as
    opposed to a dataset, a generator or a list.

    >>> is_array(np.zeros(3)), is_array([0.0, 1.0])
    (True, False)
    """
    return hasattr(value, "shape") and hasattr(value, "dtype")


def check_image_array(images, context):
    """Checks a numpy batch of images; returns it. Raises ValueError, naming
    `context`, for an empty batch, a non-float dtype or NaN/inf values.

    >>> check_image_array(np.zeros((2, 4, 4, 1), "float32"), "fit()").shape
    (2, 4, 4, 1)
    """
    if images.ndim == 0 or images.shape[0] == 0:
        raise ValueError(
            f"{context} got no images (an empty array, shape "
            f"{tuple(images.shape)}); check the data path or the filter that "
            "produced it."
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"{context} expects float images scaled to [-1, 1]; got dtype "
            f"{images.dtype}. Convert uint8 images with `images / 127.5 - 1`."
        )
    finite = np.isfinite(images).reshape(len(images), -1).all(axis=1)
    if not finite.all():
        raise ValueError(
            f"{context}: the images contain NaN or inf values (first at index "
            f"{int(np.argmin(finite))}); clean or drop those images."
        )
    return images


def image_grid(images, columns=None, padding=2, value_range=(-1.0, 1.0)):
    """Tiles `(n, h, w, c)` images into one `(H, W, c)` uint8 array.

    >>> image_grid(np.zeros((6, 4, 4, 1)), columns=3, padding=2).shape
    (14, 20, 1)
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            f"Expected a non-empty batch (n, height, width, channels), got "
            f"shape {images.shape}."
        )
    if images.dtype != np.uint8:
        images = to_uint8(images, value_range)
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.full(
        (rows * (h + padding) + padding, columns * (w + padding) + padding, c),
        255,
        dtype="uint8",
    )
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = image
    return grid


def save_grid(images, path, columns=None, value_range=(-1.0, 1.0), scale=1):
    """Writes `images` as one PNG grid; returns the path.

    `scale` enlarges each pixel (nearest neighbour) so small digits stay
    visible.
    """
    from PIL import Image

    grid = image_grid(images, columns=columns, value_range=value_range)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    mode = "L" if grid.shape[-1] == 1 else ("RGBA" if grid.shape[-1] == 4 else "RGB")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid[..., 0] if mode == "L" else grid, mode=mode).save(path)
    return path

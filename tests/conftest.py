"""Shared test setup.

Every test module runs on the backend named by ``KERAS_BACKEND``; the README's
test command runs the whole suite once per backend.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_data(name):
    """Skip (outside CI) or fail (under ``CI=true``) when a dataset is missing."""
    from keras_gans import datasets

    try:
        datasets.check_available(name)
    except datasets.DataUnavailableError as err:
        if IN_CI:
            pytest.fail(f"CI needs dataset {name!r}: {err}")
        pytest.skip(str(err))


@pytest.fixture
def rng():
    return np.random.default_rng(0)

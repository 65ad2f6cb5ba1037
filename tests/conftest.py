"""Shared test setup.

Every test module runs on the backend named by ``KERAS_BACKEND``; the README's
test command runs the whole suite once per backend.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
# XLA (JAX, and TensorFlow's jit_compile=True) compiles every program with
# LLVM's full optimization; on the tests' tiny shapes that costs far more
# than it saves (a random initializer of a new shape: 0.9-2.7 s to compile
# instead of 0.14 s). Set before any backend starts; child processes inherit
# it. Library code and benchmarks keep XLA's defaults.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
# On an NVIDIA GPU the suite's exactness checks (two runs train the same,
# a lowering equals Keras's layer) need deterministic kernels and plain
# float32 products: cuDNN and XLA use TF32 and atomic reductions by
# default. CI's CPU runs are unchanged.
ON_GPU = os.path.exists("/dev/nvidiactl")
if ON_GPU:
    os.environ["XLA_FLAGS"] += " --xla_gpu_deterministic_ops=true"
    os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if os.environ["KERAS_BACKEND"] == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
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

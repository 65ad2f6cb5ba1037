"""Bootstrap intervals: how far a statistic of a few measurements could
move with other draws of the same size."""
import numpy as np


def bootstrap_interval(values, statistic=np.mean, resamples=2000, seed=0):
    """Percentile bootstrap 95% interval of `statistic(values)`.

    Resamples `values` with replacement `resamples` times (seeded, so the
    interval is reproducible) and returns the 2.5th and 97.5th percentiles
    of the statistic over the resamples, as floats.

    Example:
        >>> low, high = bootstrap_interval([1.0, 2.0, 3.0, 4.0])
        >>> bool(1.0 <= low <= 2.5 <= high <= 4.0)
        True
        >>> bootstrap_interval([2.0, 2.0, 2.0], statistic=np.median)
        (2.0, 2.0)
    """
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or not len(values):
        raise ValueError(f"bootstrap_interval needs a non-empty 1-D array; got shape {values.shape}.")
    rng = np.random.default_rng(seed)
    draws = values[rng.integers(0, len(values), (resamples, len(values)))]
    low, high = np.percentile(statistic(draws, axis=1), [2.5, 97.5])
    return float(low), float(high)

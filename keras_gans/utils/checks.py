"""Argument checks that name the argument and the rule it broke."""
import math
import numbers
import operator


def at_least(value, minimum, name):
    """`value` as an int; a ValueError naming `name` unless it is a whole
    number >= `minimum` (a float such as 1e4 is taken when it is whole).

    >>> at_least(3, 1, "batch_size"), at_least(1e4, 2, "n")
    (3, 10000)
    >>> at_least(0, 1, "batch_size")
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a whole number >= 1; got 0.
    """
    try:
        number = operator.index(value)
    except TypeError:  # floats, numpy's included
        whole = isinstance(value, numbers.Real) and float(value).is_integer()
        number = int(value) if whole else None
    if number is None or isinstance(value, bool) or number < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    return number


def non_negative(value, name):
    """`value` as a float; a ValueError naming `name` unless it is a finite
    real number >= 0 (a loss weight, a rate).

    >>> non_negative(10, "gp_weight")
    10.0
    >>> non_negative(-1.0, "l1_weight")
    Traceback (most recent call last):
    ...
    ValueError: l1_weight must be a finite number >= 0; got -1.0.
    """
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else None
    if number is None or not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return number

"""Argument checks that name the argument and the rule it broke."""
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

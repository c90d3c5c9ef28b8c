"""
The one set of argument checks of the package.

Every check raises the package's `~sunpy_jets.exceptions.InputError` (a bad value) or
`~sunpy_jets.exceptions.InputTypeError` (a wrong type), with one message style: what the argument
must be, then ", not" and what it was.
"""

import numbers

import numpy as np

import astropy.units as u
from astropy.time import Time

from .exceptions import InputError, InputTypeError

__all__ = ["YEAR_RANGE", "as_quantity", "as_time", "as_shape", "as_count", "as_rng", "as_probability", "as_seed", "as_labels_scores"]


#: Observation years accepted as real (inclusive): a date outside them is a garbled header or row.
YEAR_RANGE = (1900, 2200)


def as_quantity(value, unit, name, *, positive=True, allow_zero=False):
    """Return ``value`` as a finite scalar `float` in ``unit``, or raise a package error."""
    if not isinstance(value, u.Quantity):
        raise InputTypeError(f"{name} must be an astropy Quantity in units convertible to {unit}, not {value!r}")
    if not value.isscalar:
        raise InputError(f"{name} must be a scalar Quantity, not shape {value.shape}")
    try:
        number = float(value.to_value(unit))
    except u.UnitConversionError:
        raise InputTypeError(f"{name} must have units convertible to {unit}, not {value.unit}") from None
    if not np.isfinite(number):
        raise InputError(f"{name} must be finite, not {value}")
    if positive and (number < 0 or (number == 0 and not allow_zero)):
        raise InputError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, not {value}")
    return number


def as_time(value, name):
    """Return ``value`` as a scalar `~astropy.time.Time` (a `Time` or an ISO string), or raise."""
    if isinstance(value, str):
        try:
            value = Time(value)
        except ValueError:
            raise InputError(f"{name} could not be parsed as a time: {value!r}; give an ISO string") from None
    if not isinstance(value, Time):
        raise InputTypeError(f"{name} must be an astropy Time or an ISO time string, not {type(value).__name__}")
    if not value.isscalar:
        raise InputError(f"{name} must be a single time, not shape {value.shape}")
    return value


def as_shape(shape, name="shape", *, minimum=8):
    """Return ``shape`` as a ``(ny, nx)`` tuple of ints of at least ``minimum`` pixels each."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape, shape)
    try:
        items = tuple(shape)
    except TypeError:
        raise InputTypeError(f"{name} must be a (ny, nx) pair of integers, not {shape!r}") from None
    if len(items) != 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in items):
        raise InputTypeError(f"{name} must be a (ny, nx) pair of integers, not {shape!r}")
    if min(items) < minimum:
        raise InputError(f"{name} must be at least {minimum} pixels on each side, not {items}")
    return int(items[0]), int(items[1])


def as_count(value, name, *, minimum=1):
    """Return ``value`` as an `int` of at least ``minimum``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise InputTypeError(f"{name} must be an integer, not {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be at least {minimum}, not {value}")
    return int(value)


def as_probability(value, name):
    """
    Return ``value`` as a `float` in [0, 1].

    Examples
    --------
    >>> from sunpy_jets._validation import as_probability
    >>> as_probability(0.25, "threshold")
    0.25
    >>> as_probability(2, "threshold")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: threshold must be in [0, 1], not 2
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InputTypeError(f"{name} must be a number in [0, 1], not {value!r}")
    if not 0 <= value <= 1:  # also refuses NaN
        raise InputError(f"{name} must be in [0, 1], not {value}")
    return float(value)


def as_seed(seed, name="seed"):
    """Return ``seed`` as `None` or a non-negative `int`."""
    if seed is None:
        return None
    return as_count(seed, name, minimum=0)


def as_rng(seed):
    """
    Return a `numpy.random.Generator` for ``seed``.

    ``seed`` may be `None` (fresh entropy), an integer, a `numpy.random.SeedSequence` or a
    `numpy.random.Generator` (used as is, so callers can thread one generator through everything).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise InputError(f"seed must be a non-negative integer, not {seed}")
        return np.random.default_rng(int(seed))
    raise InputTypeError(f"seed must be None, a non-negative int or a numpy Generator, not {type(seed).__name__}")


def as_labels_scores(y_true, proba):
    """Return 0/1 labels as `int` and their probabilities as `float` arrays of one shape, or raise."""
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(proba, dtype=float).ravel()
    if y.shape != p.shape:
        raise InputError(f"y_true has {y.size} values but proba has {p.size}: give one probability per label")
    if y.size == 0:
        raise InputError("no samples to score")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("labels must be 0 (no jet) or 1 (jet)")
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise InputError("probabilities must be finite and in [0, 1]")
    return y.astype(int), p

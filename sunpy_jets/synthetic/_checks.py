"""
Input validation shared by the synthetic generator.

Every check raises the package's `~sunpy_jets.exceptions.InputError` or
`~sunpy_jets.exceptions.InputTypeError` with a message that names the argument and the fix,
instead of the astropy or numpy error a user would otherwise see.
"""

import numbers

import numpy as np

import astropy.units as u
from astropy.time import Time

from ..exceptions import InputError, InputTypeError

__all__ = ["as_quantity", "as_time", "as_shape", "as_count", "as_rng", "as_probability"]


def as_quantity(value, unit, name, *, positive=True, allow_zero=False):
    """Return ``value`` as a finite scalar `float` in ``unit``, or raise a package error."""
    if not isinstance(value, u.Quantity):
        raise InputTypeError(f"{name} must be an astropy Quantity in units convertible to {unit}, got {value!r}")
    if not value.isscalar:
        raise InputError(f"{name} must be a scalar Quantity, got shape {value.shape}")
    try:
        number = float(value.to_value(unit))
    except u.UnitConversionError:
        raise InputTypeError(f"{name} must have units convertible to {unit}, got {value.unit}") from None
    if not np.isfinite(number):
        raise InputError(f"{name} must be finite, got {value}")
    if positive and (number < 0 or (number == 0 and not allow_zero)):
        raise InputError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")
    return number


def as_time(value, name):
    """Return ``value`` as a scalar `~astropy.time.Time` (a `Time` or an ISO string), or raise."""
    if isinstance(value, str):
        try:
            value = Time(value)
        except ValueError:
            raise InputError(f"{name} could not be parsed as a time: {value!r}; give an ISO string") from None
    if not isinstance(value, Time):
        raise InputTypeError(f"{name} must be an astropy Time or an ISO time string, got {type(value).__name__}")
    if not value.isscalar:
        raise InputError(f"{name} must be a single time, got shape {value.shape}")
    return value


def as_shape(shape, name="shape", *, minimum=8):
    """Return ``shape`` as a ``(ny, nx)`` tuple of ints of at least ``minimum`` pixels each."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape, shape)
    try:
        items = tuple(shape)
    except TypeError:
        raise InputTypeError(f"{name} must be a (ny, nx) pair of integers, got {shape!r}") from None
    if len(items) != 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in items):
        raise InputTypeError(f"{name} must be a (ny, nx) pair of integers, got {shape!r}")
    if min(items) < minimum:
        raise InputError(f"{name} must be at least {minimum} pixels on each side, got {items}")
    return int(items[0]), int(items[1])


def as_count(value, name, *, minimum=1):
    """Return ``value`` as an `int` of at least ``minimum``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise InputTypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def as_probability(value, name):
    """Return ``value`` as a `float` in [0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InputTypeError(f"{name} must be a number between 0 and 1, got {value!r}")
    if not 0 <= value <= 1:
        raise InputError(f"{name} must be between 0 and 1, got {value}")
    return float(value)


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
            raise InputError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise InputTypeError(f"seed must be None, a non-negative int or a numpy Generator, got {type(seed).__name__}")

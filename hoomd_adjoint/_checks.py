"""Argument checks shared by every public entry point.

TypeError for a value of the wrong kind (a string, a bool, an array where a number belongs, a
float where an integer belongs), ValueError for a bad value (NaN, inf, out of range). Every
message names the argument and the offending value.
"""

import math
import numbers
import operator

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1


def show(value, limit=60):
    """repr(value), shortened for messages."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def kind(value):
    """What a value is, for messages: its type, or an array's shape."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return type(value).__name__


def describe(value):
    return f"{show(value)} ({kind(value)})"


def unwrap_0d(value):
    """A 0-d numeric array as its scalar (NumPy reductions return them)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    return value


def integer(name, value, lo=None, hi=None, hi_text=None):
    """``value`` as an int in [lo, hi]: a Python or NumPy integer (or a 0-d integer array).

    Bools, floats (even whole ones like 1e6: never silently truncated like 2.5) and strings are
    TypeErrors; values out of range are ValueErrors. ``hi_text`` shows ``hi`` (e.g. '2^64 - 1').
    """
    value = unwrap_0d(value)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    try:
        v = operator.index(value)
    except TypeError:
        hint = ""
        if isinstance(value, numbers.Real) and math.isfinite(value) and value == int(value):
            hint = f"; write {int(value)}"
        raise TypeError(f"{name} must be an integer, got {describe(value)}{hint}") from None
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi_text or hi}, got {v}")
    return v


def real(name, value, lo=None, hi=None, lo_open=False):
    """``value`` as a finite float in [lo, hi] (or (lo, hi] with ``lo_open``): Python and NumPy
    numbers; bools, strings, None and arrays (but 0-d ones) are TypeErrors."""
    value = unwrap_0d(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {describe(value)}")
    try:
        v = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {show(value)} (too large for a double)") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo:g}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi:g}, got {v}")
    return v


def boolean(name, value):
    """``value`` as a bool: True/False (NumPy's too) or the integers 0 and 1; not strings or None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {describe(value)}")


def name_list(name, value, what):
    """``value`` as a list of ``what`` (e.g. 'type names'): any iterable but a bare string, which
    would otherwise be read letter by letter."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of {what}, got the string {value!r} (did you mean [{value!r}]?)")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be a list of {what}, got {describe(value)}") from None

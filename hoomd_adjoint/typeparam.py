"""Per-type and per-type-pair parameter dictionaries with HOOMD-blue's key conventions.

``d[("A", ["A", "B"])] = value`` sets (A, A) and (A, B); pair keys are unordered, so
``d[("B", "A")]`` is the same entry as ``d[("A", "B")]``.

Also the argument checks shared by the public classes of ``hoomd_adjoint.md``, ``variant``,
``trigger``, ``filter`` and ``device``: TypeError for a value of the wrong kind (a string, a bool,
an array where a number belongs), ValueError for a bad value (NaN, inf, out of range), and
:class:`UnknownTypeError` (a KeyError) for a particle type name that the state does not have.
Every message names the argument and the offending value.
"""
import math
import numbers
from itertools import product

import numpy as np

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
INT32_MAX = 2**31 - 1


class TypeKeyError(KeyError):
    """A malformed type-parameter key (e.g. one type where a pair is needed); printed without the
    quotes that KeyError adds."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnknownTypeError(KeyError, ValueError):
    """A particle type name that the state does not have. A KeyError (HOOMD-blue's convention for
    type parameters) that is also a ValueError (what earlier versions raised)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def show(value, limit=60):
    """repr(value), shortened for messages."""
    r = repr(value)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return type(value).__name__


def _unwrap_0d(value):
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    return value


def as_real(name, value, lo=None, lo_open=False, hi=None):
    """``value`` as a finite float in [lo, hi] (``lo_open``: (lo, hi]).

    Python and NumPy numbers are accepted; bools, strings, None, sequences and arrays of any size
    but 0-d are TypeErrors; NaN, inf and values out of range are ValueErrors.
    """
    value = _unwrap_0d(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {show(value)} ({_kind(value)})")
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {show(value)} (too large for a double)") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    if lo is not None and (x <= lo if lo_open else x < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo:g}, got {x}")
    if hi is not None and x > hi:
        raise ValueError(f"{name} must be <= {hi:g}, got {x}")
    return x


def as_int(name, value, lo=None, hi=None, hi_text=None):
    """``value`` as an int in [lo, hi]: a Python or NumPy integer (not a bool, float or string).
    ``hi_text`` shows ``hi`` in messages (e.g. ``'2^64 - 1'``)."""
    value = _unwrap_0d(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {show(value)} ({_kind(value)})")
    value = int(value)
    if lo is not None and value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ValueError(f"{name} must be <= {hi_text or hi}, got {value}")
    return value


def as_bool(name, value):
    """``value`` as a bool: True/False (NumPy's too) or the integers 0 and 1; not strings or None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {show(value)} ({_kind(value)})")


def _names(x, what):
    if isinstance(x, str):
        return [x]
    if isinstance(x, (list, tuple)):
        names = list(x)
        if not names:
            raise TypeKeyError(f"{what}: empty list of types in key")
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"{what}: type names must be strings, got {show(n)} ({_kind(n)})")
        return names
    raise TypeError(f"{what}: a type name must be a string (or a list of them), got {show(x)} ({_kind(x)})")


class TypeParameterDict:
    """Maps a type (len_keys=1) or an unordered type pair (len_keys=2) to a value.

    ``spec`` describes the value: a dict of {parameter name: default or REQUIRED} for
    dict-valued parameters, or None for plain floats. ``default`` applies to any key not set.
    ``validate(what, value)`` checks a converted value; ``what`` names the entry, e.g.
    ``"LJ.params[('A', 'B')]"`` (raise ValueError starting with it).
    ``owner`` prefixes messages (e.g. ``'LJ'``), and ``types()``, when given, returns the particle
    types of the simulation the owner is attached to (or None): keys naming other types are then
    rejected on assignment.

    An assignment is checked completely before anything is stored: a rejected one changes nothing.
    """

    REQUIRED = object()

    def __init__(self, name, len_keys, spec=None, default=None, validate=None, owner=None, types=None):
        self.name, self.len_keys, self.spec, self.default = name, len_keys, spec, default
        self._validate = validate
        self._owner = owner
        self._types = types
        self._data = {}

    @property
    def _what(self):
        return f"{self._owner}.{self.name}" if self._owner else self.name

    def _keys(self, key):
        if self.len_keys == 1:
            return [(k,) for k in _names(key, self._what)]
        if isinstance(key, str) or not isinstance(key, (tuple, list)) or len(key) != 2:
            raise TypeKeyError(f"{self._what}: keys are type pairs such as ('A', 'B'), got {show(key)}")
        return [tuple(sorted((a, b))) for a, b in product(_names(key[0], self._what), _names(key[1], self._what))]

    def _label(self, key):
        return key[0] if self.len_keys == 1 else key

    def _check_known(self, keys):
        types = self._types() if self._types is not None else None
        if types is None:
            return
        for k in keys:
            for t in k:
                if t not in types:
                    raise UnknownTypeError(f"{self._what}[{self._label(k)!r}]: unknown type {t!r}; "
                                           f"the state's types are {list(types)}")

    def _check_value(self, key, value):
        label = self._label(key)
        what = f"{self._what}[{label!r}]"
        if self.spec is None:
            value = as_real(what, value)
        else:
            if not isinstance(value, dict):
                raise TypeError(f"{what} must be a dict with keys {list(self.spec)}, got {show(value)} "
                                f"({_kind(value)})")
            unknown = [p for p in value if p not in self.spec]
            if unknown:
                raise ValueError(f"{what}: unknown parameter(s) {sorted(map(str, unknown))}; "
                                 f"expected {list(self.spec)}")
            old = self._data.get(key, {})
            merged = {}
            for p, dflt in self.spec.items():
                v = value.get(p, old.get(p, dflt))
                if v is self.REQUIRED:
                    raise ValueError(f"{what}: missing parameter {p!r} "
                                     f"(required: {[q for q, d in self.spec.items() if d is self.REQUIRED]})")
                merged[p] = as_real(f"{what}[{p!r}]", v)
            value = merged
        if self._validate is not None:
            self._validate(what, value)
        return value

    def __setitem__(self, key, value):
        keys = self._keys(key)
        self._check_known(keys)
        checked = [(k, self._check_value(k, value)) for k in keys]
        for k, v in checked:
            self._data[k] = v

    def __getitem__(self, key):
        ks = self._keys(key)
        if len(ks) != 1:
            return {k if self.len_keys == 2 else k[0]: self[k] for k in ks}
        k = ks[0]
        if k in self._data:
            v = self._data[k]
            return dict(v) if isinstance(v, dict) else v
        if self.default is not None:
            return self.default
        raise KeyError(f"{self._what}[{self._label(k)!r}] has not been set")

    def get(self, key, fallback=None):
        try:
            return self[key]
        except KeyError:
            return fallback

    def keys(self):
        return [self._label(k) for k in self._data]

    def check_types(self, types):
        """Raise :class:`UnknownTypeError` naming any key whose types are not in ``types``."""
        for k in self._data:
            for t in k:
                if t not in types:
                    raise UnknownTypeError(f"{self._what}: unknown type {t!r} in key {self._label(k)!r}; "
                                           f"the state's types are {list(types)}")

    def to_dict(self):
        return {self._label(k): (dict(v) if isinstance(v, dict) else v) for k, v in self._data.items()}

    def __repr__(self):
        return f"TypeParameterDict({self._what}, {self.to_dict()})"

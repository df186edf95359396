"""Per-type and per-type-pair parameter dictionaries with HOOMD-blue's key conventions.

``d[("A", ["A", "B"])] = value`` sets (A, A) and (A, B); pair keys are unordered, so
``d[("B", "A")]`` is the same entry as ``d[("A", "B")]``.

Bad keys and values are refused with the argument checks of ``_checks`` (re-exported here for
``md``, ``variant``, ``trigger``, ``filter`` and ``device``), and :class:`UnknownTypeError` (a
KeyError) for a particle type name that the state does not have.
"""

from itertools import product


from ._checks import INT32_MAX, UINT32_MAX, UINT64_MAX, boolean as as_bool, integer as as_int, kind as _kind  # noqa: F401
from ._checks import real as as_real, show, unwrap_0d as _unwrap_0d  # noqa: F401


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
                    raise UnknownTypeError(
                        f"{self._what}[{self._label(k)!r}]: unknown type {t!r}; the state's types are {list(types)}"
                    )

    def _check_value(self, key, value):
        label = self._label(key)
        what = f"{self._what}[{label!r}]"
        if self.spec is None:
            value = as_real(what, value)
        else:
            if not isinstance(value, dict):
                raise TypeError(
                    f"{what} must be a dict with keys {list(self.spec)}, got {show(value)} ({_kind(value)})"
                )
            unknown = [p for p in value if p not in self.spec]
            if unknown:
                raise ValueError(
                    f"{what}: unknown parameter(s) {sorted(map(str, unknown))}; expected {list(self.spec)}"
                )
            old = self._data.get(key, {})
            merged = {}
            for p, dflt in self.spec.items():
                v = value.get(p, old.get(p, dflt))
                if v is self.REQUIRED:
                    raise ValueError(
                        f"{what}: missing parameter {p!r} "
                        f"(required: {[q for q, d in self.spec.items() if d is self.REQUIRED]})"
                    )
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
                    raise UnknownTypeError(
                        f"{self._what}: unknown type {t!r} in key {self._label(k)!r}; "
                        f"the state's types are {list(types)}"
                    )

    def to_dict(self):
        return {self._label(k): (dict(v) if isinstance(v, dict) else v) for k, v in self._data.items()}

    def __repr__(self):
        return f"TypeParameterDict({self._what}, {self.to_dict()})"

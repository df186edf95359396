"""Per-type and per-type-pair parameter dictionaries with HOOMD-blue's key conventions.

``d[("A", ["A", "B"])] = value`` sets (A, A) and (A, B); pair keys are unordered, so
``d[("B", "A")]`` is the same entry as ``d[("A", "B")]``.
"""
import math
from itertools import product


def _names(x):
    return [x] if isinstance(x, str) else list(x)


class TypeParameterDict:
    """Maps a type (len_keys=1) or an unordered type pair (len_keys=2) to a value.

    ``spec`` describes the value: a dict of {parameter name: default or REQUIRED} for
    dict-valued parameters, or None for plain floats. ``default`` applies to any key not set.
    """

    REQUIRED = object()

    def __init__(self, name, len_keys, spec=None, default=None, validate=None):
        self.name, self.len_keys, self.spec, self.default = name, len_keys, spec, default
        self._validate = validate
        self._data = {}

    def _keys(self, key):
        if self.len_keys == 1:
            return [(k,) for k in _names(key)]
        if isinstance(key, str) or len(key) != 2:
            raise KeyError(f"{self.name}: keys are type pairs such as ('A', 'B'), got {key!r}")
        return [tuple(sorted((a, b))) for a, b in product(_names(key[0]), _names(key[1]))]

    def _check_value(self, key, value):
        label = key[0] if self.len_keys == 1 else key
        if self.spec is None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.name}[{label!r}] must be a number, got {value!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{self.name}[{label!r}] must be finite, got {value}")
        else:
            if not isinstance(value, dict):
                raise ValueError(f"{self.name}[{label!r}] must be a dict with keys {list(self.spec)}, got {value!r}")
            unknown = set(value) - set(self.spec)
            if unknown:
                raise ValueError(f"{self.name}[{label!r}]: unknown parameter(s) {sorted(unknown)}; "
                                 f"expected {list(self.spec)}")
            old = self._data.get(key, {})
            merged = {}
            for p, dflt in self.spec.items():
                v = value.get(p, old.get(p, dflt))
                if v is self.REQUIRED:
                    raise ValueError(f"{self.name}[{label!r}]: missing parameter {p!r} "
                                     f"(required: {[q for q, d in self.spec.items() if d is self.REQUIRED]})")
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    raise ValueError(f"{self.name}[{label!r}][{p!r}] must be a number, got {v!r}") from None
                if not math.isfinite(v):
                    raise ValueError(f"{self.name}[{label!r}][{p!r}] must be finite, got {v}")
                merged[p] = v
            value = merged
        if self._validate is not None:
            self._validate(label, value)
        return value

    def __setitem__(self, key, value):
        for k in self._keys(key):
            self._data[k] = self._check_value(k, value)

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
        raise KeyError(f"{self.name}[{k if self.len_keys == 2 else k[0]!r}] has not been set")

    def get(self, key, fallback=None):
        try:
            return self[key]
        except KeyError:
            return fallback

    def keys(self):
        return [k if self.len_keys == 2 else k[0] for k in self._data]

    def check_types(self, types):
        """Raise naming any key whose types are not in ``types``."""
        for k in self._data:
            for t in k:
                if t not in types:
                    raise ValueError(f"{self.name}: unknown type {t!r} in key {k if self.len_keys == 2 else t!r}; "
                                     f"the state's types are {list(types)}")

    def to_dict(self):
        return {k if self.len_keys == 2 else k[0]: (dict(v) if isinstance(v, dict) else v)
                for k, v in self._data.items()}

    def __repr__(self):
        return f"TypeParameterDict({self.name}, {self.to_dict()})"

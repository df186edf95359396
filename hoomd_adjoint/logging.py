"""Logging (hoomd.logging): a Logger collects named quantities from objects for write.Table and
write.GSD, with HOOMD-blue's namespaces (``('md', 'compute', 'ThermodynamicQuantities',
'kinetic_temperature')``), categories and ``log()`` layout.

An object is loggable when its class declares ``_loggables = {name: category}`` (inherited and
extended along the class hierarchy); :func:`loggables` lists them.
"""

import enum
import functools

from .typeparam import show

__all__ = ["Loggables", "Logger", "LoggerCategories", "log", "loggables"]


class LoggerCategories(enum.Flag):
    """The kinds of loggable quantities (HOOMD-blue's names)."""

    NONE = 0
    scalar = 1
    sequence = 2
    string = 4
    strings = 8
    object = 16
    angle = 32
    bond = 64
    constraint = 128
    dihedral = 256
    improper = 512
    pair = 1024
    particle = 2048
    ALL = 4095

    @classmethod
    def any(cls, categories=None):
        """The union of ``categories`` (names or members; None: all)."""
        if categories is None:
            return cls.ALL
        out = cls.NONE
        for c in categories:
            out |= cls._parse(c)
        return out

    @classmethod
    def _parse(cls, category):
        if isinstance(category, cls):
            return category
        if isinstance(category, str) and category in cls.__members__:
            return cls[category]
        names = [n for n in cls.__members__ if n not in ("NONE", "ALL")]
        raise ValueError(f"unknown logger category {show(category)}; use one of {names}")


# parts of module paths that HOOMD-blue leaves out of namespaces (hoomd.simulation.Simulation is
# ('Simulation',)); and modules whose classes HOOMD-blue exports one level up
_DROPPED = {"hoomd_adjoint", "hoomd", "simulation", "state", "operations", "snapshot", "__main__"}
_BASES = {"update", "tune", "write"}


def log(func=None, *, is_property=True, category="scalar", default=True, requires_run=False):
    """Mark a method as a loggable quantity (``hoomd.logging.log``), by default turning it into
    a property: ``@log`` or ``@log(category='string')``. (``requires_run`` is accepted.)"""

    def mark(f):
        LoggerCategories._parse(category)
        f._log_category = category
        f._log_default = bool(default)
        return property(f) if is_property else f

    return mark(func) if func is not None else mark


def loggables(obj_or_cls):
    """{quantity name: category name} of an object or class: its classes' ``_loggables`` and
    their members decorated with :func:`log`."""
    if hasattr(obj_or_cls, "_action"):  # a custom writer or updater: its action's
        obj_or_cls = obj_or_cls._action
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    out = {}
    for c in reversed(cls.__mro__):
        out.update(c.__dict__.get("_loggables", {}))
        for name, member in c.__dict__.items():
            f = getattr(member, "fget", member)
            if hasattr(f, "_log_category"):
                out[name] = f._log_category
    return out


class Loggables:
    """``obj.loggables``: {quantity: category name} (HOOMD-blue's attribute of loggable objects)."""

    def __get__(self, obj, cls=None):
        return loggables(cls if obj is None else obj)


def _not_default(obj):
    """Quantities a Logger(only_default=True) leaves out unless named."""
    out = set()
    for c in type(obj).__mro__:
        out.update(c.__dict__.get("_loggables_not_default", ()))
    return out


def _namespace(cls):
    parts = []
    for p in cls.__module__.split("."):
        if p in _DROPPED:
            continue
        parts.append(p)
        if p in _BASES:
            break
    return tuple(parts) + (cls.__name__,)


class _Entry:
    """One logged quantity: a callable (or an object's attribute) and its category."""

    def __init__(self, get, category, obj=None):
        self.get, self.category, self.obj = get, category, obj

    def __call__(self):
        value = self.get()
        return value() if callable(value) and self.obj is not None else value


class Logger:
    """Named quantities to log (``hoomd.logging.Logger``).

    Args:
        categories: the categories this logger accepts (names or :class:`LoggerCategories`;
            None: all).
        only_default: leave out the quantities that are not logged by default (the neighbour
            list's ``num_builds``) unless ``add`` names them.

    ``logger += obj`` (or ``add(obj, quantities, user_name)``) adds an object's quantities of the
    accepted categories under ``(module..., class, quantity)`` (``class_1``, ``class_2``... for
    further objects of one class); ``logger[('my', 'name')] = (callable, 'scalar')`` or
    ``(obj, 'attribute', 'scalar')`` adds one of your own. ``log()`` returns the nested dictionary
    of ``(value, category name)`` pairs that writers store.
    """

    def __init__(self, categories=None, only_default=True):
        if categories is None:
            self._categories = LoggerCategories.ALL
        elif isinstance(categories, LoggerCategories):
            self._categories = categories
        elif isinstance(categories, str):
            raise TypeError(f"Logger categories must be a list of category names, got {show(categories)}")
        else:
            self._categories = LoggerCategories.any(categories)
        self._only_default = bool(only_default)
        self._entries = {}

    @property
    def categories(self):
        return self._categories

    @property
    def string_categories(self):
        return [
            n for n, m in LoggerCategories.__members__.items() if n not in ("NONE", "ALL") and m in self._categories
        ]

    @property
    def only_default(self):
        return self._only_default

    def add(self, obj, quantities=None, user_name=None):
        """Add ``obj``'s quantities (all, or the names in ``quantities``) of accepted categories;
        returns the namespaces added."""
        available = loggables(obj)
        if not available:
            raise TypeError(f"Logger.add: {type(obj).__name__} has no loggable quantities")
        if quantities is None:
            skip = _not_default(obj) if self._only_default else set()
            names = [n for n in available if n not in skip]
        else:
            names = [quantities] if isinstance(quantities, str) else list(quantities)
            bad = [n for n in names if n not in available]
            if bad:
                raise ValueError(f"{type(obj).__name__} has no loggable quantities {bad}; it has {list(available)}")
        base = _namespace(type(getattr(obj, "_action", obj)))
        if user_name is not None:
            base = base[:-1] + (str(user_name),)
        stem = self._free_stem(base, obj)
        added = []
        for n in names:
            category = LoggerCategories[available[n]]
            if category not in self._categories:
                continue
            key = stem + (n,)
            self._entries[key] = _Entry(functools.partial(getattr, obj, n), category, obj)
            added.append(key)
        return added

    def _free_stem(self, base, obj):
        """``base``, or ``base[:-1] + (name_k,)`` with the first k whose namespace is free (or
        already ``obj``'s)."""
        k = 0
        while True:
            stem = base if k == 0 else base[:-1] + (f"{base[-1]}_{k}",)
            users = {id(e.obj) for key, e in self._entries.items() if key[:-1] == stem}
            if not users or users == {id(obj)}:
                return stem
            k += 1

    def remove(self, obj=None, quantities=None, user_name=None):
        """Remove an object's quantities (all, or those named), or namespaces (``quantities``
        without ``obj``)."""
        if obj is None and quantities is None:
            raise ValueError("Logger.remove: give obj, quantities or both")
        if obj is None:
            keys = [quantities] if isinstance(quantities, (str, tuple)) else list(quantities)
            for key in keys:
                self._entries.pop(_key(key), None)
            return
        names = None if quantities is None else ({quantities} if isinstance(quantities, str) else set(quantities))
        for key in [k for k, e in self._entries.items() if e.obj is obj]:
            if names is None or key[-1] in names:
                if user_name is None or key[-2] == user_name:
                    del self._entries[key]

    def __setitem__(self, namespace, value):
        key = _key(namespace)
        if not isinstance(value, tuple) or len(value) not in (2, 3):
            raise ValueError(
                f"Logger[{key!r}] = {show(value)}: use (callable, category) or (object, attribute, category)"
            )
        if len(value) == 2:
            get, category = value
            if not callable(get):
                raise TypeError(f"Logger[{key!r}]: {show(get)} is not callable")
            obj = None
        else:
            obj, attr, category = value
            if not isinstance(attr, str) or not hasattr(obj, attr):
                raise ValueError(f"Logger[{key!r}]: {type(obj).__name__} has no attribute {show(attr)}")
            get = functools.partial(getattr, obj, attr)
        category = LoggerCategories._parse(category)
        if category not in self._categories:
            raise ValueError(f"Logger[{key!r}]: category {category.name!r} is not one this logger accepts")
        self._entries[key] = _Entry(get, category, obj)

    def __getitem__(self, namespace):
        return self._entries[_key(namespace)]

    def __delitem__(self, namespace):
        del self._entries[_key(namespace)]

    def __contains__(self, namespace):
        return _key(namespace) in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def keys(self):
        return self._entries.keys()

    def __iadd__(self, obj):
        for o in obj if isinstance(obj, (list, tuple)) else [obj]:
            self.add(o)
        return self

    def __isub__(self, value):
        if isinstance(value, (str, tuple)):
            self.remove(quantities=value)
        elif isinstance(value, list):
            for v in value:
                self -= v
        else:
            self.remove(obj=value)
        return self

    def log(self):
        """{namespace level: ... {quantity: (value, category name)}} of the current values."""
        out = {}
        for key, entry in self._entries.items():
            d = out
            for part in key[:-1]:
                d = d.setdefault(part, {})
            d[key[-1]] = (entry(), entry.category.name)
        return out


def _key(namespace):
    return (namespace,) if isinstance(namespace, str) else tuple(namespace)


def flatten(log):
    """{namespace tuple: (value, category name)} of a ``Logger.log()`` dictionary."""
    out = {}

    def walk(d, prefix):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, prefix + (k,))
            else:
                out[prefix + (k,)] = v

    walk(log, ())
    return out

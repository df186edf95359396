"""Time-dependent scalars (hoomd.variant), used for kT.

Values are finite floats; timesteps are integers in 0..2^64 - 1 (HOOMD-blue's uint64). Every
attribute is checked on assignment too, so a variant cannot be put into a bad state.
"""

from .typeparam import UINT64_MAX, as_int, as_real, show


class Variant:
    def __call__(self, timestep):
        raise NotImplementedError


class Constant(Variant):
    """The same value at every timestep."""

    def __init__(self, value):
        self.value = value

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self._value = as_real("Constant value", v)

    @property
    def min(self):
        return self._value

    @property
    def max(self):
        return self._value

    def __call__(self, timestep):
        return self._value

    def _cpp_args(self):
        return 0, self._value, self._value, 0, 0

    def __repr__(self):
        return f"Constant({self._value})"


class Ramp(Variant):
    """Linear from A at t_start to B at t_start + t_ramp, constant outside.

    Args:
        A, B: finite values.
        t_start: first step of the ramp, an integer >= 0.
        t_ramp: length of the ramp in steps, an integer >= 1, with t_start + t_ramp <= 2^64 - 1.
    """

    def __init__(self, A, B, t_start, t_ramp):
        A = as_real("Ramp A", A)
        B = as_real("Ramp B", B)
        t_start = as_int("Ramp t_start", t_start, lo=0, hi=UINT64_MAX - 1, hi_text="2^64 - 2")
        t_ramp = as_int("Ramp t_ramp", t_ramp, lo=1, hi=UINT64_MAX, hi_text="2^64 - 1")
        _check_end(t_start, t_ramp)
        self._A, self._B, self._t_start, self._t_ramp = A, B, t_start, t_ramp

    @property
    def A(self):
        return self._A

    @A.setter
    def A(self, v):
        self._A = as_real("Ramp A", v)

    @property
    def B(self):
        return self._B

    @B.setter
    def B(self, v):
        self._B = as_real("Ramp B", v)

    @property
    def t_start(self):
        return self._t_start

    @t_start.setter
    def t_start(self, v):
        v = as_int("Ramp t_start", v, lo=0, hi=UINT64_MAX - 1, hi_text="2^64 - 2")
        _check_end(v, self._t_ramp)
        self._t_start = v

    @property
    def t_ramp(self):
        return self._t_ramp

    @t_ramp.setter
    def t_ramp(self, v):
        v = as_int("Ramp t_ramp", v, lo=1, hi=UINT64_MAX, hi_text="2^64 - 1")
        _check_end(self._t_start, v)
        self._t_ramp = v

    @property
    def min(self):
        return min(self._A, self._B)

    @property
    def max(self):
        return max(self._A, self._B)

    def __call__(self, timestep):
        if timestep < self._t_start:
            return self._A
        if timestep >= self._t_start + self._t_ramp:
            return self._B
        s = (timestep - self._t_start) / self._t_ramp
        return self._A * (1 - s) + self._B * s

    def _cpp_args(self):
        return 1, self._A, self._B, self._t_start, self._t_ramp

    def __repr__(self):
        return f"Ramp({self._A}, {self._B}, {self._t_start}, {self._t_ramp})"


def _check_end(t_start, t_ramp):
    if t_start + t_ramp > UINT64_MAX:
        raise ValueError(f"Ramp t_start + t_ramp = {t_start} + {t_ramp} is past the last timestep, 2^64 - 1")


def as_variant(v, name="kT"):
    """Accept a Variant or a number; reject negative or non-finite values, naming them."""
    if not isinstance(v, Variant):
        v = Constant(as_real(name, v))
    if not isinstance(v, (Constant, Ramp)):
        raise TypeError(f"{name}: only Constant and Ramp variants are supported, got {show(v)}")
    vals = [v.A, v.B] if isinstance(v, Ramp) else [v.value]
    for x in vals:
        if x < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {x}" + (f" in {v!r}" if isinstance(v, Ramp) else ""))
    return v


from . import variant_box as box  # noqa: E402,F401  (hoomd.variant.box)

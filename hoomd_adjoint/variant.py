"""Time-dependent scalars (hoomd.variant), used for kT."""
import math


class Variant:
    def __call__(self, timestep):
        raise NotImplementedError


class Constant(Variant):
    def __init__(self, value):
        self.value = float(value)

    def __call__(self, timestep):
        return self.value

    def _cpp_args(self):
        return 0, self.value, self.value, 0, 0

    def __repr__(self):
        return f"Constant({self.value})"


class Ramp(Variant):
    """Linear from A at t_start to B at t_start + t_ramp, constant outside."""

    def __init__(self, A, B, t_start, t_ramp):
        self.A, self.B, self.t_start, self.t_ramp = float(A), float(B), int(t_start), int(t_ramp)
        if self.t_ramp < 1:
            raise ValueError(f"Ramp t_ramp must be >= 1, got {t_ramp}")

    def __call__(self, timestep):
        if timestep < self.t_start:
            return self.A
        if timestep >= self.t_start + self.t_ramp:
            return self.B
        s = (timestep - self.t_start) / self.t_ramp
        return self.A * (1 - s) + self.B * s

    def _cpp_args(self):
        return 1, self.A, self.B, self.t_start, self.t_ramp

    def __repr__(self):
        return f"Ramp({self.A}, {self.B}, {self.t_start}, {self.t_ramp})"


def as_variant(v, name="kT"):
    """Accept a Variant or a number; reject negative or non-finite values, naming them."""
    if not isinstance(v, Variant):
        v = Constant(v)
    vals = [v.A, v.B] if isinstance(v, Ramp) else [v.value] if isinstance(v, Constant) else []
    if not isinstance(v, (Constant, Ramp)):
        raise TypeError(f"{name}: only Constant and Ramp variants are supported, got {v!r}")
    for x in vals:
        if not math.isfinite(x) or x < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {x}")
    return v

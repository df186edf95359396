"""Box variants (hoomd.variant.box): the box as a function of the timestep, for update.BoxResize."""

from .box import Box
from .typeparam import show

__all__ = ["BoxVariant", "Constant", "Interpolate"]


def _as_box(value, what):
    try:
        return Box.from_box(value)
    except Exception:
        raise TypeError(f"{what} must be a box (a hoomd_adjoint.Box or [Lx, Ly, Lz, xy, xz, yz]), got {show(value)}")


class BoxVariant:
    """Base class: ``variant(timestep)`` is the box as [Lx, Ly, Lz, xy, xz, yz]."""

    def __call__(self, timestep):
        raise NotImplementedError


class Constant(BoxVariant):
    """The same box at every step."""

    def __init__(self, box):
        self.box = _as_box(box, "variant.box.Constant box")

    def __call__(self, timestep):
        return self.box.to_list()


class Interpolate(BoxVariant):
    """Lengths and tilts linear in a scalar variant: ``initial_box`` at its minimum, ``final_box``
    at its maximum (HOOMD-blue 4.8.2's VectorVariantBoxInterpolate, same arithmetic)."""

    def __init__(self, initial_box, final_box, variant):
        from .variant import Variant, as_variant

        self.initial_box = _as_box(initial_box, "variant.box.Interpolate initial_box")
        self.final_box = _as_box(final_box, "variant.box.Interpolate final_box")
        self.variant = variant if isinstance(variant, Variant) else as_variant(variant, "variant")

    def __call__(self, timestep):
        v = self.variant
        lo, hi, cur = v.min, v.max, v(timestep)
        scale = 0.0
        if cur == hi:
            scale = 1.0
        elif cur > lo:
            scale = (cur - lo) / (hi - lo)
        a, b = self.initial_box.to_list(), self.final_box.to_list()
        L = [b[k] * scale + a[k] * (1.0 - scale) for k in range(3)]
        return L + [b[k] * scale + (1.0 - scale) * a[k] for k in range(3, 6)]

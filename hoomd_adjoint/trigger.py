"""Triggers (hoomd.trigger): decide on which timesteps an operation runs.

Periods, phases and timesteps are integers (HOOMD-blue's uint64): floats, bools and strings are
TypeErrors, values out of range ValueErrors.
"""

from .typeparam import UINT64_MAX, as_int, show


class Trigger:
    def __call__(self, timestep):
        raise NotImplementedError

    def next_after(self, timestep):
        """The first step > ``timestep`` on which this fires, or None if it is not known."""
        return None


class Periodic(Trigger):
    """Fires when ``(timestep - phase) % period == 0`` and ``timestep >= phase``.

    Args:
        period: an integer in 1..2^64 - 1.
        phase: an integer in 0..2^64 - 1.
    """

    def __init__(self, period, phase=0):
        self.period = as_int("Periodic trigger period", period, lo=1, hi=UINT64_MAX, hi_text="2^64 - 1")
        self.phase = as_int("Periodic trigger phase", phase, lo=0, hi=UINT64_MAX, hi_text="2^64 - 1")

    def __call__(self, timestep):
        return timestep >= self.phase and (timestep - self.phase) % self.period == 0

    def next_after(self, timestep):
        if timestep < self.phase:
            return self.phase
        return timestep + self.period - (timestep - self.phase) % self.period

    def __repr__(self):
        return f"Periodic(period={self.period}, phase={self.phase})"


class On(Trigger):
    """Fires on one timestep (an integer in 0..2^64 - 1)."""

    def __init__(self, timestep):
        self.timestep = as_int("On trigger timestep", timestep, lo=0, hi=UINT64_MAX, hi_text="2^64 - 1")

    def __call__(self, timestep):
        return timestep == self.timestep

    def next_after(self, timestep):
        return self.timestep if self.timestep > timestep else float("inf")

    def __repr__(self):
        return f"On(timestep={self.timestep})"


def as_trigger(t):
    """Accept a Trigger or an integer period."""
    if isinstance(t, Trigger):
        return t
    try:
        return Periodic(t)
    except TypeError:
        raise TypeError(
            f"trigger must be a hoomd_adjoint.trigger Trigger or an integer period, got {show(t)} ({type(t).__name__})"
        ) from None

"""Triggers (hoomd.trigger): decide on which timesteps an operation runs."""


class Trigger:
    def __call__(self, timestep):
        raise NotImplementedError

    def next_after(self, timestep):
        """The first step > ``timestep`` on which this fires, or None if it is not known."""
        return None


class Periodic(Trigger):
    """Fires when ``(timestep - phase) % period == 0`` and ``timestep >= phase``."""

    def __init__(self, period, phase=0):
        if int(period) < 1:
            raise ValueError(f"Periodic trigger period must be >= 1, got {period}")
        self.period, self.phase = int(period), int(phase)

    def __call__(self, timestep):
        return timestep >= self.phase and (timestep - self.phase) % self.period == 0

    def next_after(self, timestep):
        if timestep < self.phase:
            return self.phase
        return timestep + self.period - (timestep - self.phase) % self.period

    def __repr__(self):
        return f"Periodic(period={self.period}, phase={self.phase})"


class On(Trigger):
    """Fires on one timestep."""

    def __init__(self, timestep):
        self.timestep = int(timestep)

    def __call__(self, timestep):
        return timestep == self.timestep

    def next_after(self, timestep):
        return self.timestep if self.timestep > timestep else float("inf")


def as_trigger(t):
    """Accept a Trigger or an int period."""
    if isinstance(t, Trigger):
        return t
    return Periodic(int(t))

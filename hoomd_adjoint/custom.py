"""Custom actions (hoomd.custom): Python code run by the simulation at trigger steps, through
``write.CustomWriter`` (reads the state) or ``update.CustomUpdater`` (may change it)."""

import enum

from .logging import Loggables

__all__ = ["Action"]


class Action:
    """Base class of a custom action: override ``act(timestep)``.

    ``attach(simulation)`` is called before the first run (it sets ``self._state``, the
    simulation's state); ``flags`` are accepted for HOOMD-blue scripts (the engine computes what
    they ask for, such as pressure, whenever it is read). Properties decorated with
    ``hoomd_adjoint.logging.log`` are loggable, through the action or its writer/updater.
    """

    class Flags(enum.IntEnum):
        ROTATIONAL_KINETIC_ENERGY = 0
        PRESSURE_TENSOR = 1
        EXTERNAL_FIELD_VIRIAL = 2

    flags = []
    loggables = Loggables()  # {quantity: category}: its members decorated with logging.log

    def attach(self, simulation):
        self._state = simulation.state

    def detach(self):
        if hasattr(self, "_state"):
            del self._state

    def act(self, timestep):
        raise NotImplementedError(f"{type(self).__name__}.act(timestep) is not implemented")


class _CustomOperation:
    """What CustomWriter and CustomUpdater share: an action, its attributes and loggables."""

    def _check_action(self, action):
        if not isinstance(action, Action):
            raise TypeError(f"{type(self).__name__} action must be a hoomd_adjoint.custom.Action, got {action!r}")
        self._action = action

    @property
    def action(self):
        return self._action

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._action, name)

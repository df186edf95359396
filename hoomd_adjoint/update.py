"""Updaters (hoomd.update): operations that change the state between steps.

An updater runs at the steps its trigger fires, before that step is integrated, as in HOOMD-blue.
The forward run only: :func:`hoomd_adjoint.adjoint.gradient` refuses a simulation with updaters
by name, before anything runs (a box that changes is not part of the differentiated map).
"""

import warnings

import numpy as np

from .box import Box
from .custom import _CustomOperation
from .filter import All, ParticleFilter
from .trigger import Trigger, as_trigger
from .typeparam import show
from .variant import box as box_variants

__all__ = ["BoxResize", "CustomUpdater", "Updater"]


class Updater:
    """Base class: an operation with a trigger, in ``sim.operations.updaters``."""

    _simulation = None

    def __init__(self, trigger):
        self.trigger = trigger

    @property
    def trigger(self):
        return self._trigger

    @trigger.setter
    def trigger(self, value):
        t = as_trigger(value)
        if not isinstance(t, Trigger):
            raise TypeError(f"{type(self).__name__} trigger must be a Trigger or a period, got {show(value)}")
        self._trigger = t

    def _attach(self, simulation):
        self._simulation = simulation

    def _check(self, state):
        """Raise before a run, naming the problem, what acting would refuse during it."""

    def _act(self, timestep):
        raise NotImplementedError


class BoxResize(Updater):
    """Resize the box as a function of the timestep (``hoomd.update.BoxResize``), with HOOMD-blue
    4.8.2's arithmetic.

    Args:
        trigger: when to resize (a Trigger or a period).
        box1, box2, variant: (deprecated in HOOMD-blue 4.6, still accepted) the boxes at the
            variant's minimum and maximum: the same as
            ``box=variant.box.Interpolate(box1, box2, variant)``.
        filter: the particles whose positions are scaled with the box (default: all); every
            particle is then wrapped into the new box.
        box: a :class:`hoomd_adjoint.variant.box.Interpolate`, the box as a function of time.

    At each triggered step whose box differs from the current one, the selected particles keep
    their fractional coordinates in the box and the neighbour lists are rebuilt. The forces are
    next computed after the step's first half (as HOOMD-blue does; Brownian steps move with the
    forces of the box before).
    """

    def __init__(self, trigger, box1=None, box2=None, variant=None, filter=None, box=None):
        super().__init__(trigger)
        if box is not None and (box1 is not None or box2 is not None or variant is not None):
            raise ValueError("BoxResize: box1, box2 and variant must be None when box is set")
        if box is None:
            if box1 is None or box2 is None or variant is None:
                raise ValueError("BoxResize: give box, or (deprecated) box1, box2 and variant")
            warnings.warn("box1, box2, and variant are deprecated, use `box`", FutureWarning, stacklevel=2)
            box = box_variants.Interpolate(initial_box=box1, final_box=box2, variant=variant)
        if not isinstance(box, box_variants.BoxVariant):
            raise TypeError(f"BoxResize box must be a hoomd_adjoint.variant.box variant, got {show(box)}")
        self.box = box
        filter = All() if filter is None else filter
        if not isinstance(filter, ParticleFilter):
            raise TypeError(f"BoxResize filter must be a hoomd_adjoint.filter, got {show(filter)}")
        self.filter = filter

    def get_box(self, timestep):
        """The box at ``timestep`` (a :class:`hoomd_adjoint.Box`)."""
        return Box(*self.box(timestep))

    def _check(self, state):
        boxes = [self.box.initial_box, self.box.final_box] if hasattr(self.box, "initial_box") else []
        for b in boxes:
            if b.is2D != (state.dimensions == 2):
                raise ValueError(
                    f"BoxResize: the box {b.to_list()} is {b.dimensions}D, the simulation {state.dimensions}D"
                )

    def _act(self, timestep):
        sim = self._simulation
        state = sim.state
        L = list(self.box(timestep))
        if not state._cpp.resize_box(L, np.asarray(self.filter(state), dtype=np.uint32).tolist()):
            return
        state._box = Box(*L)
        integ = sim.operations.integrator
        for f in getattr(integ, "forces", ()):
            nl = getattr(f, "nlist", None)
            if nl is not None:  # the cells and pairs of the old box are gone: rebuild
                nl._cpp.buffer = nl._cpp.buffer


class CustomUpdater(_CustomOperation, Updater):
    """Run a :class:`hoomd_adjoint.custom.Action` before the steps ``trigger`` fires at
    (``hoomd.update.CustomUpdater``); the action may change the state (``self._state``).
    Attributes not found here are the action's."""

    def __init__(self, trigger, action):
        self._check_action(action)
        super().__init__(trigger)

    def _attach(self, simulation):
        first = self._simulation is not simulation
        super()._attach(simulation)
        if first:
            self._action.attach(simulation)

    def _act(self, timestep):
        self._action.act(timestep)

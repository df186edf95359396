"""The recorder: states out of HOOMD-blue's particle data, in tag order, without a Python loop."""

import numpy as np

from hoomd.adjoint import _adjoint
from hoomd.operation import Updater

FIELDS = ("position", "velocity", "acceleration", "orientation", "angmom", "net_torque", "image")


class Recorder(Updater):
    """Records particle fields at chosen timesteps (before the step, as an updater does).

    ``add(timestep, field, out, column=0)``: at ``timestep``, write ``field`` (a local-snapshot
    name: position, velocity, acceleration, orientation, angmom, net_torque, image) of every
    particle into row ``tag`` of the float64 array ``out`` (N, W), columns ``column`` onward. The
    trigger must fire at those timesteps; ``record_now(timestep)`` records the targets of a step
    that the trigger cannot reach (the state after the last step of a run).
    """

    def __init__(self, trigger):
        super().__init__(trigger)
        self._pending = []

    def _attach_hook(self):
        self._cpp_obj = _adjoint.Recorder(self._simulation.state._cpp_sys_def, self.trigger)
        for args in self._pending:
            self._cpp_obj.addTarget(*args)
        self._pending = []

    def add(self, timestep, field, out, column=0):
        if field not in FIELDS:
            raise ValueError(f"Recorder: unknown field {field!r}; use one of {FIELDS}")
        if not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.c_contiguous):
            raise TypeError("Recorder: out must be a C-contiguous float64 numpy array")
        args = (int(timestep), FIELDS.index(field), out, int(column))
        if self._attached:
            self._cpp_obj.addTarget(*args)
        else:
            self._pending.append(args)

    def record_now(self, timestep):
        self._cpp_obj.recordNow(int(timestep))

    @property
    def num_recorded(self):
        return self._cpp_obj.num_recorded if self._attached else 0

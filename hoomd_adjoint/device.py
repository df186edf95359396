"""Execution devices (hoomd.device)."""

import os

from . import _core
from .typeparam import as_bool, as_int

# More threads than this is a mistake (each OpenMP thread has a stack; 10**9 of them would take the
# machine down), not a tuning choice: reject it rather than start them.
MAX_THREADS = max(1024, 8 * (os.cpu_count() or 1))


def _check_threads(value):
    n = as_int("num_cpu_threads", value, lo=1)
    if n > MAX_THREADS:
        raise ValueError(
            f"num_cpu_threads must be <= {MAX_THREADS} (the larger of 1024 and 8 x the "
            f"{os.cpu_count()} CPUs of this machine), got {n}"
        )
    return n


def _default_threads():
    """OMP_NUM_THREADS's first level when it is a valid count, else all cores."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and 1 <= int(env) <= MAX_THREADS:
        return int(env)
    return max(1, min(int(_core.max_threads()), MAX_THREADS))


class Device:
    """Base class of devices. ``communicator`` is the MPI communicator the device runs in (a
    :class:`hoomd_adjoint.communicator.Communicator`; one rank per partition)."""

    _communicator = None

    @property
    def communicator(self):
        if self._communicator is None:
            from .communicator import Communicator

            self._communicator = Communicator()
        return self._communicator

    notice_level = 2

    def notice(self, message, level=1):
        """Print ``message`` when ``level`` <= ``notice_level`` (HOOMD-blue's ``Device.notice``)."""
        if level <= self.notice_level:
            print(message, flush=True)

    def _set_communicator(self, communicator):
        from .communicator import Communicator

        if communicator is not None and not isinstance(communicator, Communicator):
            raise TypeError(
                f"device communicator must be a hoomd_adjoint.communicator.Communicator, got {communicator!r}"
            )
        self._communicator = communicator


class CPU(Device):
    """Run on the CPU with up to ``num_cpu_threads`` OpenMP threads (default: all cores).

    Results are bitwise identical for any number of threads: every sum has a fixed order.

    With ``adaptive_threads`` (the default) the engine times blocks of steps and uses either all
    ``num_cpu_threads`` or one thread, whichever is faster at the moment: threads do not pay for
    small systems, nor while other processes keep the cores busy (a shared node, replicas side by
    side), and then a multi-threaded step can be many times slower than a serial one. About 3% of
    the time goes to re-timing the slower choice. ``adaptive_threads=False`` always uses
    ``num_cpu_threads`` (for benchmarks that compare thread counts).
    """

    def __init__(self, num_cpu_threads=None, adaptive_threads=True, communicator=None):
        self._set_communicator(communicator)
        if num_cpu_threads is None:
            num_cpu_threads = _default_threads()
        self.num_cpu_threads = num_cpu_threads
        self.adaptive_threads = as_bool("CPU adaptive_threads", adaptive_threads)

    @property
    def num_cpu_threads(self):
        """Threads per simulation: an integer in 1..MAX_THREADS. A simulation reads it when its
        state is created; setting it later does not change that simulation."""
        return self._num_cpu_threads

    @num_cpu_threads.setter
    def num_cpu_threads(self, value):
        self._num_cpu_threads = _check_threads(value)

    def __repr__(self):
        return (
            f"hoomd_adjoint.device.CPU(num_cpu_threads={self.num_cpu_threads}, "
            f"adaptive_threads={self.adaptive_threads})"
        )


class GPU(Device):
    """Run on the first CUDA GPU. The particle data stay on the device for the whole of each
    ``run()``; the kernels call the same per-particle functions as the CPU path. Neighbour lists
    are built on the device too (cells, with rows sorted by tag as on the CPU), and no step waits
    for the host: the host looks at the run every 128 steps, and replays the steps since its last
    look, bit for bit, in the rare case that a list outgrew its arrays.

    CPU and GPU results agree to rounding: Philox uniforms are bit-identical, and device code is
    compiled without FMA contraction, but CUDA's exp/log/sin may differ from libm by an ulp.
    """

    _host_backend = False

    def __init__(self, num_cpu_threads=None):
        if not self._host_backend:
            if not _core.cuda_enabled:
                raise RuntimeError(
                    "hoomd-adjoint was built without CUDA: reinstall with a CUDA toolkit "
                    "(CMAKE_ARGS=-DHA_ENABLE_CUDA=ON pip install .) to use device.GPU"
                )
            if not _core.gpu_available():
                raise RuntimeError("device.GPU: no CUDA device is available")
        self.num_cpu_threads = CPU(num_cpu_threads).num_cpu_threads

    @property
    def name(self):
        return _core.gpu_name()

    def __repr__(self):
        return f"hoomd_adjoint.device.GPU({self.name!r})"


class _HostBackendGPU(GPU):
    """The GPU path with its device code run on the CPU, one device thread after another, in host
    memory: every kernel, the device neighbour lists and the deferred checks and replays run as
    they would on a GPU, but slowly. For tests of the GPU path on machines without one."""

    _host_backend = True

    @property
    def name(self):
        return "host backend (no GPU)"

    def __repr__(self):
        return "hoomd_adjoint.device._HostBackendGPU()"

"""Execution devices (hoomd.device)."""
import os

from . import _core


class Device:
    pass


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

    def __init__(self, num_cpu_threads=None, adaptive_threads=True):
        if num_cpu_threads is None:
            num_cpu_threads = int(os.environ.get("OMP_NUM_THREADS", _core.max_threads()))
        num_cpu_threads = int(num_cpu_threads)
        if num_cpu_threads < 1:
            raise ValueError(f"num_cpu_threads must be >= 1, got {num_cpu_threads}")
        self.num_cpu_threads = num_cpu_threads
        self.adaptive_threads = bool(adaptive_threads)

    def __repr__(self):
        return (f"hoomd_adjoint.device.CPU(num_cpu_threads={self.num_cpu_threads}, "
                f"adaptive_threads={self.adaptive_threads})")


class GPU(Device):
    """Run on the first CUDA GPU. The particle data stay on the device for the whole of each
    ``run()``; the kernels call the same per-particle functions as the CPU path. Neighbour lists
    are built on the host (``num_cpu_threads`` threads) when the device reports that a particle
    has moved half the buffer.

    CPU and GPU results agree to rounding: Philox uniforms are bit-identical, and device code is
    compiled without FMA contraction, but CUDA's exp/log/sin may differ from libm by an ulp.
    """

    def __init__(self, num_cpu_threads=None):
        if not _core.cuda_enabled:
            raise RuntimeError("hoomd-adjoint was built without CUDA: reinstall with a CUDA toolkit "
                               "(CMAKE_ARGS=-DHA_ENABLE_CUDA=ON pip install .) to use device.GPU")
        if not _core.gpu_available():
            raise RuntimeError("device.GPU: no CUDA device is available")
        self.num_cpu_threads = CPU(num_cpu_threads).num_cpu_threads

    @property
    def name(self):
        return _core.gpu_name()

    def __repr__(self):
        return f"hoomd_adjoint.device.GPU({self.name!r})"

"""Execution devices (hoomd.device)."""
import os

from . import _core


class Device:
    pass


class CPU(Device):
    """Run on the CPU with ``num_cpu_threads`` OpenMP threads (default: all cores).

    Results are bitwise identical for any number of threads: every sum has a fixed order.
    """

    def __init__(self, num_cpu_threads=None):
        if num_cpu_threads is None:
            num_cpu_threads = int(os.environ.get("OMP_NUM_THREADS", _core.max_threads()))
        num_cpu_threads = int(num_cpu_threads)
        if num_cpu_threads < 1:
            raise ValueError(f"num_cpu_threads must be >= 1, got {num_cpu_threads}")
        self.num_cpu_threads = num_cpu_threads

    def __repr__(self):
        return f"hoomd_adjoint.device.CPU(num_cpu_threads={self.num_cpu_threads})"

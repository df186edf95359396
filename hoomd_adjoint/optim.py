"""Stochastic optimisers for design loops, with state that saves and resumes bit-identically.

The optimisers are small value objects: ``step(params, grad) -> new params`` updates their own
state, and ``state()`` / ``from_state()`` turn it into JSON-safe lists of floats (Python's float
repr round-trips every double exactly, so a resumed loop continues bit-identically)::

    opt = RMSProp(lr=0.01)
    for it in range(n):
        params = opt.step(params, grad(params))
        save({"params": list(params), "optimizer": opt.state()})
"""
import numpy as np

from . import _checks

__all__ = ["RMSProp"]


class RMSProp:
    """RMSProp (Tieleman & Hinton, 2012): each parameter steps by ``lr`` times its gradient
    divided by the running root-mean-square of its past gradients.

        v <- decay v + (1 - decay) g^2
        p <- p - lr g / (sqrt(v) + eps)

    Steps are about ``lr`` per parameter whatever the gradient's scale, which suits noisy
    replica-averaged gradients whose size varies by orders of magnitude between parameters.
    The first step, from v = 0, is lr / sqrt(1 - decay) (3.2 lr at the default decay).

    Args:
        lr: step size, in the parameters' units: one number, or one per parameter.
        decay: weight of the past in the running mean of g^2 (0 <= decay < 1).
        eps: added to the root-mean-square, against division by zero.
    """

    def __init__(self, lr=0.01, decay=0.9, eps=1e-8):
        if np.ndim(lr) == 0:
            self.lr = _checks.real("RMSProp lr", lr, lo=0.0, lo_open=True)
        else:
            self.lr = [_checks.real(f"RMSProp lr[{i}]", x, lo=0.0, lo_open=True) for i, x in enumerate(lr)]
        self.decay = _checks.real("RMSProp decay", decay, lo=0.0)
        if self.decay >= 1:
            raise ValueError(f"RMSProp decay must be below 1, got {decay!r}")
        self.eps = _checks.real("RMSProp eps", eps, lo=0.0)
        self.v = None
        self.steps = 0

    def step(self, params, grad, scale=1.0):
        """One update, with step sizes ``scale * lr`` (a schedule): returns the new parameters
        (a new float64 array)."""
        params = np.asarray(params, dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != params.shape:
            raise ValueError(f"RMSProp: gradient shape {grad.shape} != parameter shape {params.shape}")
        if not np.all(np.isfinite(grad)):
            raise FloatingPointError(f"RMSProp: the gradient is not finite at step {self.steps}: {grad.tolist()}")
        v = np.zeros_like(params) if self.v is None else self.v
        v = self.decay * v + (1.0 - self.decay) * grad * grad
        lr = np.asarray(self.lr, dtype=np.float64)
        if lr.ndim and lr.shape != params.shape:
            raise ValueError(f"RMSProp: {lr.size} step sizes for {params.size} parameters")
        new = params - float(scale) * lr * grad / (np.sqrt(v) + self.eps)
        self.v, self.steps = v, self.steps + 1
        return new

    def state(self):
        """JSON-safe state (settings included)."""
        return {"name": "RMSProp", "lr": self.lr, "decay": self.decay, "eps": self.eps, "steps": self.steps,
                "v": None if self.v is None else [float(x) for x in self.v]}

    @classmethod
    def from_state(cls, state):
        if state.get("name") != "RMSProp":
            raise ValueError(f"not an RMSProp state: {state.get('name')!r}")
        opt = cls(state["lr"], state["decay"], state["eps"])
        opt.steps = int(state["steps"])
        opt.v = None if state["v"] is None else np.array(state["v"], dtype=np.float64)
        return opt

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

__all__ = ["Adam", "RMSProp", "fire"]


def _step_inputs(name, params, grad, step):
    """Parameters and gradient as float64 arrays of one shape, the gradient finite."""
    params = np.asarray(params, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != params.shape:
        raise ValueError(f"{name}: gradient shape {grad.shape} != parameter shape {params.shape}")
    if not np.all(np.isfinite(grad)):
        raise FloatingPointError(f"{name}: the gradient is not finite at step {step}: {grad.tolist()}")
    return params, grad


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
        params, grad = _step_inputs("RMSProp", params, grad, self.steps)
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
        return {
            "name": "RMSProp",
            "lr": self.lr,
            "decay": self.decay,
            "eps": self.eps,
            "steps": self.steps,
            "v": None if self.v is None else [float(x) for x in self.v],
        }

    @classmethod
    def from_state(cls, state):
        if state.get("name") != "RMSProp":
            raise ValueError(f"not an RMSProp state: {state.get('name')!r}")
        opt = cls(state["lr"], state["decay"], state["eps"])
        opt.steps = int(state["steps"])
        opt.v = None if state["v"] is None else np.array(state["v"], dtype=np.float64)
        return opt


class Adam:
    """Adam (Kingma & Ba, 2015), as optax.adam: m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
    p <- p - lr m_hat / (sqrt(v_hat) + eps) with bias-corrected m_hat, v_hat.

    Args:
        lr: step size (parameters' units): one number or one per parameter.
        b1, b2: decay of the first and second moment estimates (0 <= b < 1).
        eps: added to sqrt(v_hat).
    """

    def __init__(self, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
        if np.ndim(lr) == 0:
            self.lr = _checks.real("Adam lr", lr, lo=0.0, lo_open=True)
        else:
            self.lr = [_checks.real(f"Adam lr[{i}]", x, lo=0.0, lo_open=True) for i, x in enumerate(lr)]
        for name, b in (("b1", b1), ("b2", b2)):
            if _checks.real(f"Adam {name}", b, lo=0.0) >= 1:
                raise ValueError(f"Adam {name} must be below 1, got {b!r}")
        self.b1, self.b2 = float(b1), float(b2)
        self.eps = _checks.real("Adam eps", eps, lo=0.0)
        self.m = self.v = None
        self.steps = 0

    def step(self, params, grad, scale=1.0):
        """One update (step sizes ``scale * lr``): returns the new parameters."""
        params, grad = _step_inputs("Adam", params, grad, self.steps)
        m = np.zeros_like(params) if self.m is None else self.m
        v = np.zeros_like(params) if self.v is None else self.v
        m = self.b1 * m + (1.0 - self.b1) * grad
        v = self.b2 * v + (1.0 - self.b2) * grad * grad
        t = self.steps + 1
        m_hat = m / (1.0 - self.b1**t)
        v_hat = v / (1.0 - self.b2**t)
        new = params - float(scale) * np.asarray(self.lr, dtype=np.float64) * m_hat / (np.sqrt(v_hat) + self.eps)
        self.m, self.v, self.steps = m, v, t
        return new

    def state(self):
        """JSON-safe state (settings included)."""
        f = lambda a: None if a is None else [float(x) for x in a]  # noqa: E731
        return {
            "name": "Adam",
            "lr": self.lr,
            "b1": self.b1,
            "b2": self.b2,
            "eps": self.eps,
            "steps": self.steps,
            "m": f(self.m),
            "v": f(self.v),
        }

    @classmethod
    def from_state(cls, state):
        if state.get("name") != "Adam":
            raise ValueError(f"not an Adam state: {state.get('name')!r}")
        opt = cls(state["lr"], state["b1"], state["b2"], state["eps"])
        opt.steps = int(state["steps"])
        opt.m = None if state["m"] is None else np.array(state["m"], dtype=np.float64)
        opt.v = None if state["v"] is None else np.array(state["v"], dtype=np.float64)
        return opt


def fire(
    fun,
    x0,
    ftol=1e-6,
    dt=0.01,
    dt_max=0.05,
    max_step=0.1,
    max_iter=100000,
    n_min=5,
    f_inc=1.1,
    f_dec=0.5,
    alpha_start=0.1,
    f_alpha=0.99,
):
    """FIRE energy minimisation (Bitzek, Koskinen, Gaehler, Moseler and Gumbsch, PRL 97, 170201 (2006)).

    Damped dynamics of unit masses that mixes the velocity towards the force while the power
    F.v stays positive and stops it when it turns negative. Robust from rough starts, where a
    quasi-Newton line search can jump particles onto each other.

    Args:
        fun: ``fun(x) -> (energy, gradient)``, x a flat float64 array.
        x0: the start.
        ftol: stop when the largest force component is below this.
        dt, dt_max: starting and largest time step (unit masses; about 0.1 / sqrt(stiffest
            curvature) is safe).
        max_step: cap on any coordinate's move in one step (length units).
        max_iter: give up after this many steps (raises RuntimeError naming the force left).
        n_min, f_inc, f_dec, alpha_start, f_alpha: the FIRE constants of the paper.

    Returns:
        (x, energy, steps).
    """
    x = np.array(x0, dtype=np.float64).ravel()
    v = np.zeros_like(x)
    alpha, n_pos = alpha_start, 0
    E, g = fun(x)
    for step in range(max_iter):
        F = -np.asarray(g)
        fmax = np.abs(F).max()
        if fmax < ftol:
            return x, E, step
        P = F @ v
        if P > 0:
            v = (1 - alpha) * v + alpha * np.linalg.norm(v) * F / np.linalg.norm(F)
            if n_pos > n_min:
                dt = min(dt * f_inc, dt_max)
                alpha *= f_alpha
            n_pos += 1
        else:
            v[:] = 0.0
            dt *= f_dec
            alpha, n_pos = alpha_start, 0
        v += dt * F
        move = dt * v
        big = np.abs(move).max()
        if big > max_step:
            move *= max_step / big
        x = x + move
        E, g = fun(x)
    raise RuntimeError(f"FIRE did not converge in {max_iter} steps: largest force {np.abs(g).max():.3g} > ftol {ftol}")

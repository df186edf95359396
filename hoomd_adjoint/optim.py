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

__all__ = ["Adam", "GaussNewton", "RMSProp", "fire"]


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


class GaussNewton:
    """Trust-region Gauss-Newton (Levenberg-Marquardt) on residuals r(p) with Jacobian J = dr/dp,
    for a deterministic objective 0.5 |r|^2 (a sample average over fixed replicas: common seeds).

    ``update(p, r, J)`` takes one evaluated point and returns the next to evaluate. A point whose
    |r| is below the best so far is accepted (it becomes the best); otherwise it is rejected and the
    next proposal starts again from the best with half the radius. Steps are measured in scaled
    coordinates u_i = p_i / scale_i (the parameters differ in scale); the proposal minimises
    |r + J d|^2 within |d/scale| <= radius, as the minimum-norm step where there are more
    parameters than residuals. The radius doubles after a step that did at least 3/4 of the
    reduction the linear model predicted and halves after one that did less than 1/4.

    Args:
        scale: one positive number per parameter (e.g. |start|).
        radius: the first trust radius (relative: 0.05 lets the parameters move by about 5%).
        max_radius: the radius never grows beyond this.
        tol: converged when every |r_i| <= tol (``converged``); then the proposal is the best point.
    """

    def __init__(self, scale, radius=0.05, max_radius=0.2, tol=0.0):
        self.scale = [_checks.real(f"GaussNewton scale[{i}]", x, lo=0.0, lo_open=True) for i, x in enumerate(scale)]
        self.radius = _checks.real("GaussNewton radius", radius, lo=0.0, lo_open=True)
        self.max_radius = _checks.real("GaussNewton max_radius", max_radius, lo=0.0, lo_open=True)
        self.tol = _checks.real("GaussNewton tol", tol, lo=0.0)
        self.best = None  # {"params", "r", "J"} of the best point evaluated
        self.predicted = None  # |r|^2 the linear model predicted for the pending proposal
        self.steps = 0

    @property
    def converged(self):
        return self.best is not None and max(abs(x) for x in self.best["r"]) <= self.tol

    def update(self, params, r, J):
        """Take the point ``params`` with residuals ``r`` (m,) and Jacobian ``J`` (m, n); returns
        ``(next params, accepted)``. A non-finite residual (no value at this point) rejects it."""
        params = np.asarray(params, dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        J = np.asarray(J, dtype=np.float64).reshape(r.size, params.size)
        ok = bool(np.all(np.isfinite(r)) and np.all(np.isfinite(J)))
        if self.best is None and not ok:
            raise FloatingPointError(
                f"GaussNewton: the first point has no finite residuals: {r.tolist()}, J {J.tolist()}"
            )
        cost = float(r @ r) if ok else np.inf
        accepted = self.best is None or cost < float(np.dot(self.best["r"], self.best["r"]))
        if self.best is not None:
            old = float(np.dot(self.best["r"], self.best["r"]))
            gain = (old - cost) / (old - self.predicted) if self.predicted is not None and old > self.predicted else 0.0
            if gain >= 0.75:
                self.radius = min(2.0 * self.radius, self.max_radius)
            elif gain < 0.25:
                self.radius *= 0.5
        if accepted:
            self.best = dict(params=[float(x) for x in params], r=[float(x) for x in r], J=J.tolist())
        self.steps += 1
        return self.proposal(), accepted

    def proposal(self):
        """The next point: the best point plus the trust-region step from it."""
        p = np.array(self.best["params"])
        if self.converged:
            self.predicted = None
            return p
        s = np.array(self.scale)
        r, A = np.array(self.best["r"]), np.array(self.best["J"]) * s  # J in scaled coordinates
        d = -np.linalg.pinv(A) @ r  # the minimum-norm Gauss-Newton step
        if np.linalg.norm(d) > self.radius:  # Levenberg-Marquardt: the damping that fits the radius
            U, sv, Vt = np.linalg.svd(A, full_matrices=False)
            c = U.T @ r
            step = lambda lam: -(Vt.T @ (sv * c / (sv * sv + lam)))  # noqa: E731
            lo, hi = 0.0, float(sv.max() ** 2) * 1e6 + 1.0
            for _ in range(200):  # |step| falls as lam grows: bisect for |step| = radius
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if np.linalg.norm(step(mid)) > self.radius else (lo, mid)
            d = step(hi)
        self.predicted = float(np.sum((r + A @ d) ** 2))
        return p + d * s

    def state(self):
        """JSON-safe state (settings included)."""
        return {
            "name": "GaussNewton",
            "scale": self.scale,
            "radius": self.radius,
            "max_radius": self.max_radius,
            "tol": self.tol,
            "best": self.best,
            "predicted": self.predicted,
            "steps": self.steps,
        }

    @classmethod
    def from_state(cls, state):
        if state.get("name") != "GaussNewton":
            raise ValueError(f"not a GaussNewton state: {state.get('name')!r}")
        opt = cls(state["scale"], state["radius"], state["max_radius"], state["tol"])
        opt.best, opt.predicted, opt.steps = state["best"], state["predicted"], int(state["steps"])
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

"""Optimising the spider: Adam over the eight parameters, each iteration's gradient the mean over
a batch of replicas (independent thermal starts and noise), state saved atomically after every
iteration so that an interrupted run resumes to the bit-identical result.
"""

import os
import time
import warnings

import numpy as np

from ... import _checks
from ...ensemble import ReplicaWarning
from ...optim import Adam
from ...sweep import _read_resumable, _write_json_atomic
from .design import STABLE_SHELL, End, evaluate, evaluate_end, remain_coefficient
from .model import PARAM_NAMES, Complex, Params

__all__ = ["Optimization", "replica_seed"]


def replica_seed(seed, iteration, replica, replicas):
    """The simulation seed (16 bits, as HOOMD's) of one replica of one iteration."""
    return (int(seed) * 7919 + iteration * replicas + replica) % 65536


class Optimization:
    """Adam on the spider's eight parameters.

    Args:
        out: directory for ``state.json`` (atomic, after every iteration) and ``history.csv``.
        shell: ``"octahedron"`` or ``"icosahedron"``.
        start: ``"weak"`` or ``"strong"`` (the paper's starts), or a :class:`Params`.
        seed: the run's seed (replica seeds follow from it).
        perturb: if given, log eps_H of the start gets N(0, perturb) drawn with ``seed`` (Fig. 4).
        replicas: simulations per iteration (the paper: 10).
        steps: steps per simulation (the paper: 1000).
        lr: Adam's step size (the paper's code: 0.01).
        coeff: L_remain's coefficient (default: :func:`remain_coefficient`).
        leg_sigma: the legs' repulsion range.
        stable_shell: add the authors' optional stable-shell term (final state; their k and band
            for the shell). On by default here: without it the optimiser finds spiders that
            extract the target by blowing the shell apart (docs/spider.md).
        memory: the adjoint's byte budget per simulation (None: store every state).
        loss: ``"paper"`` (L_extract at the last of ``steps`` steps + L_remain, the paper's) or
            ``"end"``: the paper's loss over its ``steps``, then the run goes on to ``end.horizon``
            steps and the end-of-run terms of its last ``end.window`` steps are added
            (:class:`~hoomd_adjoint.apps.spider.design.End`; docs/spider.md says why).
        end: an :class:`~hoomd_adjoint.apps.spider.design.End` (loss "end"; default ``End()``,
            its ``paper_steps`` set to ``steps``).
        cargo: optimise with the cargo inside the shell (its release enters the end-of-run terms).
        communicator: a :class:`~hoomd_adjoint.communicator.Communicator`; its partitions share the
            replicas (replica r runs on partition r mod P) and every rank gets every result, so the
            run is bitwise the same for any number of ranks. Only partition 0 writes files.
        resume: continue from ``out/state.json`` (same settings required); without it an existing
            state is an error, so a finished run is never overwritten.
    """

    def __init__(
        self,
        out,
        shell="octahedron",
        start="weak",
        seed=0,
        perturb=None,
        replicas=10,
        steps=1000,
        lr=0.01,
        coeff=None,
        leg_sigma=1.0,
        stable_shell=True,
        memory=None,
        communicator=None,
        resume=False,
        loss="paper",
        end=None,
        cargo=False,
    ):
        from ...communicator import Communicator

        if isinstance(start, str):
            p = Params.start(shell, start)
        elif isinstance(start, Params):
            p = start
        else:
            raise TypeError(f"start must be 'weak', 'strong' or a spider Params, got {start!r}")
        if perturb is not None:
            perturb = _checks.real("perturb", perturb, lo=0.0)
            p = Params.from_array(p.array())
            p.log_eps_head += float(np.random.default_rng([int(seed), 4]).normal(0.0, perturb))
        p.check()
        self.config = dict(
            shell=shell,
            start=start if isinstance(start, str) else "custom",
            params0=[float(x) for x in p.array()],
            seed=_checks.integer("seed", seed, lo=0),
            perturb=perturb,
            replicas=_checks.integer("replicas", replicas, lo=1),
            steps=_checks.integer("steps", steps, lo=1),
            lr=_checks.real("lr", lr, lo=0.0, lo_open=True),
            coeff=remain_coefficient(shell) if coeff is None else _checks.real("coeff", coeff, lo=0.0),
            leg_sigma=_checks.real("leg_sigma", leg_sigma, lo=0.0, lo_open=True),
            stable_shell=list(STABLE_SHELL[shell]) if stable_shell else None,
        )
        if loss not in ("paper", "end"):
            raise ValueError(f"loss must be 'paper' or 'end', got {loss!r}")
        if end is not None and loss != "end":
            raise ValueError("end applies to loss 'end'")
        if loss == "end":  # (the paper's settings keep their old config, so its runs resume)
            end = End(paper_steps=self.config["steps"]) if end is None else end
            if end.paper_steps != self.config["steps"]:
                raise ValueError(f"end.paper_steps {end.paper_steps} must equal steps {self.config['steps']}")
            self.config.update(loss="end", end=end.settings())
        if cargo:
            self.config["cargo"] = True
        self.memory = memory
        self.communicator = communicator if communicator is not None else Communicator()
        self.out = str(out)
        self.state_path = os.path.join(self.out, "state.json")
        state = _read_resumable(self.state_path, self.config, resume)
        if state is not None:
            self.params = np.array(state["params"], dtype=np.float64)
            self.optimizer = Adam.from_state(state["optimizer"])
            self.history = state["history"]
        else:
            self.params = np.array(self.config["params0"])
            self.optimizer = Adam(lr=self.config["lr"])
            self.history = []

    @property
    def iteration(self):
        return len(self.history)

    def evaluate(self, x, iteration):
        """Mean loss, terms and gradient over iteration ``iteration``'s replicas at parameters x."""
        c = self.config
        R = c["replicas"]
        params = Params.from_array(x)
        comm = self.communicator
        mine = []
        for r in range(comm.partition, R, comm.num_partitions):
            seed = replica_seed(c["seed"], iteration, r, R)
            cx = None
            try:
                cx = Complex(c["shell"], params, seed=seed, leg_sigma=c["leg_sigma"], cargo=c.get("cargo", False))
                kw = dict(coeff=c["coeff"], memory=self.memory, stable=c["stable_shell"])
                if c.get("loss") == "end":
                    ev = evaluate_end(cx, End(**c["end"]), **kw)
                else:
                    ev = evaluate(cx, steps=c["steps"], **kw)
                mine.append((r, ev.loss, ev.extract, ev.remain, ev.stable, ev.grad, None, ev.end))
            except (RuntimeError, FloatingPointError) as e:  # a replica that blew up
                step = "while building" if cx is None else f"at timestep {cx.sim.timestep}"
                mine.append((r, None, None, None, None, None, f"replica {r} (seed {seed}) {step}: {e}", None))
        done = sorted((x for part in comm.allgather(mine) for x in part), key=lambda x: x[0])
        ok = [x for x in done if x[6] is None]
        failures = [x[6] for x in done if x[6] is not None]
        losses, extract, remain, stable, end = ([x[k] for x in ok] for k in (1, 2, 3, 4, 7))
        grads = [x[5] for x in ok]
        if not grads:
            raise RuntimeError(
                f"every replica failed at iteration {iteration} with parameters "
                f"{dict(zip(PARAM_NAMES, x))}: {failures[0]}"
            )
        return dict(
            loss=float(np.mean(losses)),
            extract=float(np.mean(extract)),
            remain=float(np.mean(remain)),
            stable=float(np.mean(stable)),
            end=float(np.mean(end)),
            loss_min=float(np.min(losses)),
            loss_max=float(np.max(losses)),
            grad=np.mean(grads, axis=0),
            used=len(ok),
            failures=failures,
        )

    def run(self, iterations, progress=True):
        """Run until ``iterations`` iterations are done in all; saves the state after each."""
        from tqdm.auto import tqdm

        iterations = _checks.integer("iterations", iterations, lo=0)
        main = self.communicator.partition == 0
        if main:
            os.makedirs(self.out, exist_ok=True)
        with tqdm(
            total=iterations,
            initial=min(self.iteration, iterations),
            unit="it",
            desc=f"spider {self.config['shell']} {self.config['start']}",
            disable=not (progress and main),
        ) as bar:
            while self.iteration < iterations:
                t0 = time.perf_counter()
                e = self.evaluate(self.params, self.iteration)
                if e["failures"] and main:  # the mean is over fewer replicas: say which failed
                    warnings.warn(
                        f"spider iteration {self.iteration}: {e['used']} of {self.config['replicas']} replicas "
                        f"used; failed: {'; '.join(e['failures'])}",
                        ReplicaWarning,
                        stacklevel=2,
                    )
                new = self.optimizer.step(self.params, e["grad"])
                # projected gradient: a step that leaves the buildable set (e.g. r_on past r_cut)
                # is moved back onto its edge, and the history says so
                projected, moved = Params.from_array(new).project()
                new = projected.array()
                self.history.append(
                    dict(
                        iteration=self.iteration,
                        loss=e["loss"],
                        extract=e["extract"],
                        remain=e["remain"],
                        stable=e["stable"],
                        end=e["end"],
                        loss_min=e["loss_min"],
                        loss_max=e["loss_max"],
                        params=[float(v) for v in self.params],
                        grad=[float(v) for v in e["grad"]],
                        failures=len(e["failures"]),
                        failed=e["failures"],  # replica, seed, timestep and cause of each
                        projected=moved,
                        wall=time.perf_counter() - t0,
                    )
                )
                self.params = new
                if main:
                    _write_json_atomic(
                        self.state_path,
                        dict(
                            config=self.config,
                            params=[float(v) for v in new],
                            optimizer=self.optimizer.state(),
                            history=self.history,
                        ),
                    )
                    self.write_csv()
                bar.set_postfix(loss=f"{e['loss']:.3f}")
                bar.update(1)
        return Params.from_array(self.params)

    def write_csv(self):
        path = os.path.join(self.out, "history.csv")
        with open(path + ".tmp", "w") as f:
            f.write(
                "iteration,loss,extract,remain,stable,end,loss_min,loss_max,failures,wall_s,"
                + ",".join(PARAM_NAMES)
                + ","
                + ",".join("d_" + n for n in PARAM_NAMES)
                + "\n"
            )
            for h in self.history:
                f.write(
                    ",".join(
                        repr(v)
                        for v in [
                            h["iteration"],
                            h["loss"],
                            h["extract"],
                            h["remain"],
                            h["stable"],
                            h.get("end", 0.0),
                            h["loss_min"],
                            h["loss_max"],
                            h["failures"],
                            h["wall"],
                        ]
                        + h["params"]
                        + h["grad"]
                    )
                    + "\n"
                )
        os.replace(path + ".tmp", path)

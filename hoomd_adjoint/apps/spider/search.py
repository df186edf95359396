"""A forward random search for spider designs, scored by the strict test itself.

The strict test (:mod:`~hoomd_adjoint.apps.spider.validate`) is a step function of the eight
parameters: a smooth loss sees it only through surrogates, and from the paper's starts the
gradient designs stall where a criterion needs a large move (docs/spider.md: the icosahedron's
target must rise ~1.6 along the axis; the head's long-range pull holds the complex on the shell).
This search samples the parameters uniformly in a box (:data:`BOX`), scores each candidate by
the fraction of ``seeds`` training runs that pass the strict test, and re-scores the best ``top``
on ``rescore`` further training runs. Its best set can start an end-of-run optimisation
(``spider optimize --loss end --start-from best.json``), and is judged by ``spider validate`` on
seeds it never saw.

Seeds: training runs use ``first_seed`` (55,000) onwards, clear of the optimisations' replica
seeds (below 52,100) and of the validation seeds (60,000 onwards).

A local search (``around``: a design's parameters, ``spread``) draws each parameter uniformly
within ``spread`` x max(|x|, 1) of the design's instead, candidate 0 being the design itself, and
projects onto the buildable set (``Params.project``): a forward refinement of a gradient design,
scored by the strict test it is judged by.

Resumable: candidate k is drawn from ``default_rng([seed, k])``, and ``candidates.jsonl`` gets one
line per scored candidate, so a rerun skips what is there and any number of ranks (candidate k
on partition k mod P) gives the same file.
"""

import json
import os

import numpy as np

from ...sweep import _write_json_atomic
from .model import PARAM_NAMES, Params
from .validate import classify, criteria

__all__ = ["BOX", "pooled", "sample", "search", "score"]

# Uniform ranges (lengths in sigma, vertex radius 2). r_B <= 0.15: the legs (sigma 2.25 from their
# segment) then hold every base site beyond its contact 2 + r_B + 0.1, the mechanism of the
# designs that pass; r_B >= -0.2 keeps the cargo's contact with a base site (r_B + 0.25) positive.
BOX = {
    "base_radius": (4.0, 7.0),
    "head_height": (4.0, 7.5),
    "base_particle_radius": (-0.2, 0.15),
    "head_particle_radius": (0.0, 1.5),
    "log_eps_head": (5.5, 10.0),
    "alpha_head": (1.4, 3.5),
}
R_CUT_MAX = 11.0  # r_cut ~ U(h + 0.5, 11): the head reaches the target (at h) at the start
SWITCH = (0.5, 2.5)  # r_on = r_cut - U(0.5, 2.5)


def sample(k, seed=0, around=None, spread=0.1):
    """Candidate ``k`` of the search with ``seed``: :class:`Params` drawn from :data:`BOX`, or
    (``around``: eight parameters) within ``spread`` x max(|x|, 1) of them (candidate 0: them)."""
    rng = np.random.default_rng([int(seed), int(k)])
    if around is not None:
        x0 = np.asarray(around, dtype=float)
        if k == 0:
            return Params.from_array(x0)
        x = x0 + rng.uniform(-1.0, 1.0, x0.size) * spread * np.maximum(np.abs(x0), 1.0)
        return Params.from_array(x).project()[0]
    x = {n: rng.uniform(*BOX[n]) for n in BOX}
    x["r_cut"] = rng.uniform(x["head_height"] + 0.5, R_CUT_MAX)
    x["r_on"] = x["r_cut"] - rng.uniform(*SWITCH)
    return Params(**x)


def score(params, shell, seeds, first_seed, steps=10000, cargo=False, leg_sigma=2.25):
    """Fractions of ``seeds`` runs (seeds ``first_seed`` onwards) passing each strict criterion."""
    runs = [
        classify(params, shell, seed=first_seed + j, steps=steps, cargo=cargo, leg_sigma=leg_sigma)
        for j in range(seeds)
    ]
    out = {k: sum(r[k] for r in runs) / seeds for k in criteria(cargo)}
    out["blew_up"] = [dict(seed=r["seed"], timestep=r["timestep"], cause=r["error"]) for r in runs if "error" in r]
    return out


def pooled(first, n_first, second, n_second):
    """Each criterion's fraction over both sets of runs: ``first`` over ``n_first`` runs and
    ``second`` over ``n_second``."""
    keys = [k for k in second if k != "blew_up"]
    return {k: (first[k] * n_first + second[k] * n_second) / (n_first + n_second) for k in keys}


def _rank(c):
    """Order of merit: success, then cargo release, then the earlier candidate."""
    return (-c["success"], -c.get("released", 0.0), c["k"])


def search(
    out,
    shell="octahedron",
    candidates=200,
    seeds=6,
    top=5,
    rescore=20,
    first_seed=55000,
    steps=10000,
    cargo=False,
    leg_sigma=2.25,
    seed=0,
    communicator=None,
    progress=True,
    around=None,
    spread=0.1,
):
    """Score ``candidates`` sampled parameter sets on ``seeds`` runs each, then the best ``top`` on
    ``rescore`` more; writes ``candidates.jsonl`` and ``best.json`` (the best set's ``params``,
    loadable by ``--start-from`` and ``validate``, with its fractions over ``seeds + rescore``
    runs) into ``out`` and returns the contents of ``best.json``. Cost: (candidates x seeds +
    top x rescore) runs of ``steps`` steps (a 10,000-step run: ~0.4 s octahedron, ~0.9 s
    icosahedron with the cargo, one core). A folder that holds a search with other settings is
    refused (``config.json``) before anything runs. ``around`` (eight parameters) and ``spread``:
    a local search about them (the module's docstring)."""
    from tqdm.auto import tqdm

    from ... import _checks

    candidates = _checks.integer("candidates", candidates, lo=1)
    seeds = _checks.integer("seeds", seeds, lo=1)
    top = _checks.integer("top", top, lo=1, hi=candidates)
    rescore = _checks.integer("rescore", rescore, lo=0)
    first_seed = _checks.integer("first_seed", first_seed, lo=0, hi=65536 - seeds - rescore)
    steps = _checks.integer("steps", steps, lo=1)
    if around is not None:
        around = [float(v) for v in Params.from_array(around).array()]  # (checked: eight finite numbers)
        spread = _checks.real("spread", spread, lo=0.0, lo_open=True)
    mine, P = (0, 1) if communicator is None else (communicator.partition, communicator.num_partitions)
    main = mine == 0
    config = dict(shell=shell, seeds=seeds, first_seed=first_seed, steps=steps, cargo=bool(cargo))
    config.update(leg_sigma=float(leg_sigma), seed=int(seed))
    if around is not None:  # (a box search's config stays as it was, so its folders resume)
        config.update(around=around, spread=float(spread))
    path, done = os.path.join(out, "candidates.jsonl"), _read(out, config, trim=main)
    if main and not done:
        os.makedirs(out, exist_ok=True)
        _write_json_atomic(os.path.join(out, "config.json"), config)
    todo = [k for k in range(candidates) if k not in done]
    kw = dict(steps=steps, cargo=cargo, leg_sigma=leg_sigma)
    bar = tqdm(total=len(todo), desc=f"search {shell}", disable=not (progress and main))
    for block in range(0, len(todo), P):  # one candidate per rank, then every rank has them all
        ks = todo[block : block + P]
        mine_k = ks[mine] if mine < len(ks) else None
        got = [] if mine_k is None else [_candidate(mine_k, seed, shell, seeds, first_seed, kw, around, spread)]
        if P > 1:
            got = [c for part in communicator.allgather(got) for c in part]
        if main:
            with open(path, "a") as f:
                for c in sorted(got, key=lambda c: c["k"]):
                    f.write(json.dumps(c) + "\n")
        done.update({c["k"]: c for c in got})
        bar.update(len(ks))
    bar.close()
    best = sorted((done[k] for k in range(candidates)), key=_rank)[:top]
    for j, c in enumerate(best):  # more training runs for the leaders, on fresh seeds
        if "rescored" not in c and rescore and j % P == mine:
            extra = score(c["params"], shell, rescore, first_seed + seeds, **kw)
            c["rescored"] = pooled(c, seeds, extra, rescore)
    if P > 1:
        got = communicator.allgather([c for j, c in enumerate(best) if j % P == mine])
        best = sorted((c for part in got for c in part), key=lambda c: c["k"])
    best.sort(key=lambda c: _rank(c.get("rescored", c) | {"k": c["k"]}))
    result = dict(
        shell=shell,
        cargo=bool(cargo),
        leg_sigma=float(leg_sigma),
        steps=steps,
        params=best[0]["params"],
        names=list(PARAM_NAMES),
        runs=seeds + rescore,
        fractions=best[0].get("rescored", {k: v for k, v in best[0].items() if k in ("success", "released")}),
        leaders=best,
        searched=candidates,
        seeds=dict(first=first_seed, per_candidate=seeds, rescore=rescore),
    )
    if main:
        _write_json_atomic(os.path.join(out, "best.json"), result)
    return result


def _read(out, config, trim=False):
    """The candidates scored so far in ``out`` ({k: record}), after checking that its search had
    the same settings. A last line cut short by an interruption is dropped (it is scored again;
    with ``trim``, cut from the file)."""
    path, saved = os.path.join(out, "candidates.jsonl"), os.path.join(out, "config.json")
    if not os.path.exists(saved):
        return {}
    with open(saved) as f:
        other = json.load(f)
    if other != config:
        diff = ", ".join(f"{k} {other.get(k)!r} (now {v!r})" for k, v in config.items() if other.get(k) != v)
        raise ValueError(f"{out} holds a search with other settings: {diff}; give another output folder")
    done, whole = {}, 0
    if os.path.exists(path):
        with open(path, "rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    c = json.loads(line)
                    done[c["k"]], whole = c, whole + len(line)
        if trim and whole < os.path.getsize(path):
            os.truncate(path, whole)
    return done


def _candidate(k, seed, shell, seeds, first_seed, kw, around=None, spread=0.1):
    p = sample(k, seed, around, spread)
    try:
        s = score(p, shell, seeds, first_seed, **kw)
    except ValueError as e:  # a set the model refuses (none in BOX); recorded, never the best
        s = dict(dict.fromkeys(criteria(kw["cargo"]), 0.0), error=str(e))
    return dict(k=k, params=p.array().tolist(), **s)

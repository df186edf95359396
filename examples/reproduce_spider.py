"""Reproduce the spider results of the colloidal-reactions seed (Krueger, King & Brenner 2023,
Figs. 2-4) with hoomd-adjoint, and design spiders that pass the strict test.

- fig2: the octahedron, optimised from the weak (log eps_H = 3.5, alpha_H = 1.5) and strong
  (8.5, 1.0) starts for the paper's 500 and 1250 iterations; loss curves beside the authors' traces.
- fig3: the icosahedron from (5.5, 1.5) and (9.2, 1.5), 2500 iterations each (the paper's).
- fig4: spread of the converged octahedron parameters: 5 seeds and 5 perturbed starts (log eps_H +
  N(0, 0.1)) from each start, 500 iterations (weak) and 1250 (strong).
- designs: for each shell and start, the paper's loss and then the end-of-run loss from its result,
  and where that falls short a second end-of-run stage from the paper stage with the reach term
  (the head's range kept short of the remaining shell; docs/spider.md: why, and what changed), with
  the revision's legs (sigma 2.25).
- search: a forward random search per shell, scored by the strict test on training seeds
  (spider/search.py), with the cargo for the icosahedron.
- validate: the strict test (validate.py) over 40 seeds x 10,000 steps for the authors' parameter
  sets, the paper reproductions and the designs, the icosahedron with and without the cargo; the
  bare hole (target and spider taken away at step 0), the reference for the cargo's release; the
  cargo's release at 3x the length; the table as JSON and a figure with error bars.

Every optimisation is resumable (run the same command again after an interruption), and the list
of optimisations can be sliced over processes or machines with ``--part K/N`` (each runs the
K-th of N slices; the last call without --part draws the figures). A paper-length run that a
session left unfinished is committed, gzipped, in docs/figures/spider-runs/<name>: a new --out
carries it on from there, bit-identically. Outputs go to --out;
--figures copies the PNG/JSON summaries (e.g. to docs/figures); --reference names the authors'
figures/preprint/data directory to draw their traces::

    python examples/reproduce_spider.py --out runs/spider --figures docs/figures   # about 30 core-hours
    python examples/reproduce_spider.py --out runs/spider --only fig4 --part 1/4   # a quarter of fig4
    python examples/reproduce_spider.py --smoke                                    # seconds
"""

import argparse
import gzip
import json
import os
import re
import shutil
import sys
import tempfile

from hoomd_adjoint.apps.spider import Optimization, figures, search, validate
from hoomd_adjoint.communicator import shared
from hoomd_adjoint.apps.spider.design import End

RUNS = {  # name: (shell, start, iterations): the paper's lengths
    "oct-weak": ("octahedron", "weak", 500),
    "oct-strong": ("octahedron", "strong", 1250),
    "ico-weak": ("icosahedron", "weak", 2500),
    "ico-strong": ("icosahedron", "strong", 2500),
}
SPREAD = {"weak": 500, "strong": 1250}  # Fig. 4's iterations per start
DESIGN_LEGS = 2.25  # the authors' revision: leg sigma = vertex radius + leg radius 0.25 (docs/spider.md)
DESIGNS = {  # name: (shell, start, iterations of the paper's loss, of the end-of-run loss, of the
    # end-of-run loss with the reach term (0: none; the weak octahedron passes without), of a last
    # stage from the reach stage with the intact term too (0: none; tried for the strong
    # octahedron and left out: docs/spider.md, "The intact term"), cargo)
    "oct-weak": ("octahedron", "weak", 500, 150, 0, 0, False),
    "oct-strong": ("octahedron", "strong", 1250, 150, 600, 0, False),
    "ico-weak": ("icosahedron", "weak", 250, 150, 300, 0, True),
    "ico-strong": ("icosahedron", "strong", 250, 150, 300, 0, True),
}
# Reach stages continued (resumed) past their DESIGNS length in a folder of their own,
# design/<name>-reach-<iterations>: the weak icosahedron's passes by gradients alone at 600; the
# local rounds start from the shorter stage. docs/spider.md, "Local searches from the gradient designs".
CONTINUED = {"ico-weak": 600}
REACH = dict(reach=1.0, lr=0.02)  # the reach stage: its weight (design.End) and Adam step, from the paper stage
INTACT = dict(REACH, intact=10.0)  # the intact stage, from the reach stage: its weights and Adam step
SEARCHES = {"octahedron": 150, "icosahedron": 150}  # candidates per shell (the icosahedron's with the cargo)
# Local searches about the gradient designs that fall short (spider search --around, each round
# about the previous round's best; the first about the reach stage's result): per round (spread,
# candidates, top, rescore, seed). docs/spider.md, "Local searches from the gradient designs".
LOCAL = {
    "oct-strong": [(0.1, 100, 10, 40, 0), (0.05, 100, 10, 40, 1), (0.05, 100, 10, 80, 2)],
    "ico-weak": [(0.1, 100, 5, 20, 0), (0.05, 100, 10, 40, 1)],
}
# The authors' converged octahedron geometry (their preprint's Fig. 2 renders; eps, alpha and the
# cutoffs not recorded): drawn beside Fig. 4's groups. ../shared/reference/seed-reproduction.md
CONVERGED = {
    "weak": dict(base_radius=3.731, head_height=3.901, base_particle_radius=1.806, head_particle_radius=1.586),
    "strong": dict(base_radius=3.849, head_height=5.303, base_particle_radius=1.903, head_particle_radius=0.190),
}
LONG = 3  # the cargo-release rows also run at this many times the table's length
AUTHORS = {  # (R, h, r_B, r_H, log eps_H, alpha_H, r_on, r_cut) in the authors' code and README
    "octahedron": [4.103, 4.295, 1.299, 1.197, 5.459, 1.904, 8.710, 9.799],
    "icosahedron, weak start (their 250 it.)": [4.840, 4.626, 0.601, 0.778, 6.564, 1.872, 8.949, 10.589],
    "icosahedron, strong start (their 250 it.)": [4.788, 5.331, 0.639, 0.171, 8.933, 1.791, 9.804, 11.742],
}


def jobs(runs, designs, only, searches=SEARCHES, local=LOCAL):
    """Every optimisation and search the chosen parts need, in order: (name, keyword arguments of
    Optimization, iterations), or for a search (name, keyword arguments of search.search, None).
    A design's second stage starts from its first's result."""
    out = []
    if "search" in only:
        for shell, n in searches.items():
            out.append((f"design/{shell}-search", dict(shell=shell, candidates=n, cargo=shell == "icosahedron"), None))
    for fig, names in (("fig2", ["oct-weak", "oct-strong"]), ("fig3", ["ico-weak", "ico-strong"])):
        if fig in only:
            out += [(n, dict(shell=runs[n][0], start=runs[n][1]), runs[n][2]) for n in names]
    if "fig4" in only:
        for start, it in SPREAD.items():
            for k in range(1, 6):
                out.append((f"fig4-{start}-seed{k}", dict(shell="octahedron", start=start, seed=k), it))
                kw = dict(shell="octahedron", start=start, seed=k, perturb=0.1)
                out.append((f"fig4-{start}-perturbed{k}", kw, it))
    if "designs" in only:
        for n, (shell, start, it1, it2, it3, it4, cargo) in designs.items():
            out.append((f"design/{n}-paper", dict(shell=shell, start=start, leg_sigma=DESIGN_LEGS), it1))
            kw = dict(
                shell=shell, start=start, leg_sigma=DESIGN_LEGS, loss="end", cargo=cargo, first=f"design/{n}-paper"
            )
            out.append((f"design/{n}-end", kw, it2))
            if it3:  # a second end-of-run stage from the paper stage, with the reach term
                out.append((f"design/{n}-reach", dict(kw, **REACH), it3))
                if n in CONTINUED:  # a copy of it, resumed for longer
                    it = CONTINUED[n]
                    out.append((f"design/{n}-reach-{it}", dict(kw, **REACH, copy_of=f"design/{n}-reach"), it))
            if it4:  # then, from the reach stage, the intact term too (a second vertex kept bonded)
                out.append((f"design/{n}-intact", dict(kw, first=f"design/{n}-reach", **INTACT), it4))
            about = f"design/{n}-reach/state.json"
            for j, (spread, candidates, top, rescore, seed) in enumerate(local.get(n, []), start=1):
                kw = dict(shell=shell, cargo=cargo, candidates=candidates, top=top, rescore=rescore, seed=seed)
                out.append((f"design/{n}-local{j}", dict(kw, spread=spread, around_from=about), None))
                about = f"design/{n}-local{j}/best.json"
    return out


def optimise(out, name, kw, iterations, common, world, carry_on=True):
    if iterations is None:  # a search (a local one about an earlier stage's result)
        if carry_on:
            _carry_on(out, name, world)
        kw = {**kw, **common.get("search", {})}
        if "around_from" in kw:
            kw["around"] = validate.load_params(os.path.join(out, kw.pop("around_from"))).array()
        search.search(os.path.join(out, name), **kw, communicator=world)
        return
    if carry_on:
        _carry_on(out, name, world)
    kw = dict(kw)
    copy_of = kw.pop("copy_of", None)
    if copy_of is not None:  # a stage continued: resumed from a copy (made once, by partition 0)
        if world.partition == 0 and not os.path.exists(os.path.join(out, name, "state.json")):
            os.makedirs(os.path.join(out, name), exist_ok=True)
            for f in ("state.json", "history.csv"):
                shutil.copyfile(os.path.join(out, copy_of, f), os.path.join(out, name, f))
        world.barrier_all()
    first = kw.pop("first", None)
    if first is not None:  # the curriculum: start from the first stage's parameters
        kw["start"] = validate.load_params(os.path.join(out, first, "state.json"))
        reach, intact = kw.pop("reach", 0.0), kw.pop("intact", 0.0)
        if "end" in common or reach or intact:
            settings = {**common.get("end", {}), "paper_steps": common.get("steps", 1000)}
            kw["end"] = End(**settings, reach=reach, intact=intact)
    extra = {k: v for k, v in common.items() if k not in ("end", "search")}
    opt = Optimization(os.path.join(out, name), resume=True, communicator=world, **kw, **extra)
    opt.run(iterations)


COMMITTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "figures")


def _carry_on(out, name, world):
    """A paper-length run that a session left unfinished is committed in
    docs/figures/spider-runs/<name> (its state.json and history.csv, gzipped; a search's
    config.json, candidates.jsonl and best.json); a new output folder starts from it, and the run
    resumes bit-identically where it stopped."""
    saved, here = os.path.join(COMMITTED, "spider-runs", name), os.path.join(out, name)
    marks = ("state.json", "config.json")  # (an optimisation's, a search's)
    if any(os.path.exists(os.path.join(here, m)) for m in marks) or not any(
        os.path.exists(os.path.join(saved, m + ".gz")) for m in marks
    ):
        return
    if world.partition == 0:
        os.makedirs(here, exist_ok=True)
        for f in os.listdir(saved):  # new files, so the umask's modes
            with gzip.open(os.path.join(saved, f)) as src, open(os.path.join(here, f.removesuffix(".gz")), "wb") as dst:
                shutil.copyfileobj(src, dst)
        print(f"{name}: resuming the committed partial run {os.path.relpath(saved)}", flush=True)
    world.barrier_all()


def _final(out, name, fig):
    """A run's last parameters and its iteration count: from its state.json, or else from the
    committed JSON that recorded it (docs/figures/spider-figN-losses.json for a figure's run,
    spider-validation.json for a design's stage, whose row name gives the iterations)."""
    state = os.path.join(out, name, "state.json")
    if os.path.exists(state):
        with open(state) as f:
            s = json.load(f)
        return s["params"], len(s["history"])
    committed = os.path.join(COMMITTED, f"spider-{fig}-losses.json" if fig else "spider-validation.json")
    if not os.path.exists(committed):
        return None, 0
    with open(committed) as f:
        table = json.load(f)
    if fig is not None:
        s = table.get(name)
        return ([s["last_params"][k] for k in validate.PARAM_NAMES], s["iterations"]) if s else (None, 0)
    n, stage = name.removeprefix("design/").rsplit(
        "-", 1
    )  # design/oct-weak-end: its row "design oct-weak, end loss, 150 it. ..."
    for row, s in table.items():
        m = re.fullmatch(rf"design {re.escape(n)}, {stage} loss, (\d+) it\. \(legs [0-9.]+\)", row)
        if m:
            return [s["params"][k] for k in validate.PARAM_NAMES], int(m.group(1))
    return None, 0


def _committed_row(name):
    """The committed validation table's row ``name`` (docs/figures/spider-validation.json), or None."""
    path = os.path.join(COMMITTED, "spider-validation.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f).get(name)


def validation_rows(out, runs, designs, searches=SEARCHES, long=LONG * 10000, local=LOCAL):
    """The rows of the validation table: (name, shell, parameters, cargo, leg sigma, bare, steps);
    steps None is the table's length."""
    rows = [(f"authors' {n}", n.split(",")[0], p, False, 1.0) for n, p in AUTHORS.items()]
    for n, (shell, _, _) in runs.items():
        params, it = _final(out, n, "fig2" if shell == "octahedron" else "fig3")
        if params is not None:
            rows.append((f"paper's loss, {n}, {it} it. (legs 1.0)", shell, params, False, 1.0))
    for n, (shell, *_rest) in designs.items():
        stages = ["paper", "end", "reach", "intact"] + ([f"reach-{CONTINUED[n]}"] if n in CONTINUED else [])
        for stage in stages:
            params, it = _final(out, f"design/{n}-{stage}", None)
            stage = stage.split("-")[0]  # (a continued stage's row says its iterations)
            if params is not None:
                rows.append(
                    (f"design {n}, {stage} loss, {it} it. (legs {DESIGN_LEGS:g})", shell, params, False, DESIGN_LEGS)
                )
        rounds = local.get(n, [])
        best = os.path.join(out, f"design/{n}-local{len(rounds)}", "best.json")
        if rounds and os.path.exists(best):
            name = f"design {n}, local search, {len(rounds)} rounds (legs {DESIGN_LEGS:g})"
            rows.append((name, shell, validate.load_params(best), False, DESIGN_LEGS))
    found = {}
    for shell, n in searches.items():
        best = os.path.join(out, f"design/{shell}-search", "best.json")
        name = f"design {shell}, forward search, {n} candidates (legs {DESIGN_LEGS:g})"
        row = None if os.path.exists(best) else _committed_row(name)  # (a search's folder is not committed)
        if row is not None or os.path.exists(best):
            found[shell] = validate.load_params(
                best if row is None else [row["params"][k] for k in validate.PARAM_NAMES]
            )
            rows.append((name, shell, found[shell], False, DESIGN_LEGS))
    # the icosahedron rows again with the cargo inside
    rows = [r + (False, None) for r in rows]
    rows += [
        (f"{n} + cargo", shell, p, True, legs, False, None)
        for n, shell, p, _, legs, _, _ in rows
        if shell == "icosahedron"
    ]
    if "icosahedron" in found:  # the release's reference, and both at 3x the length
        p = found["icosahedron"]
        bare = "the bare hole (target and spider taken away at step 0) + cargo"
        rows.append((bare, "icosahedron", p, True, DESIGN_LEGS, True, None))
        rows.append((f"{bare}, {long:,} steps", "icosahedron", p, True, DESIGN_LEGS, True, long))
        rows.append(
            (
                f"design icosahedron, forward search + cargo, {long:,} steps",
                "icosahedron",
                p,
                True,
                DESIGN_LEGS,
                False,
                long,
            )
        )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/spider", help="output folder (default: runs/spider)")
    ap.add_argument("--figures", default=None, help="copy the figures and their JSON here (default: nowhere)")
    ap.add_argument("--reference", default=None, help="the authors' figures/preprint/data directory")
    parts = ["fig2", "fig3", "fig4", "designs", "search", "validate"]
    ap.add_argument("--only", nargs="*", choices=parts, default=parts, help="the parts to run (default: all)")
    ap.add_argument("--part", default=None, help="K/N: run only the K-th of N slices of the optimisations, no figures")
    ap.add_argument("--smoke", action="store_true", help="tiny budgets in a temporary directory")
    args = ap.parse_args(argv)
    part = None
    if args.part is not None:
        try:
            k, n = (int(v) for v in args.part.split("/"))
            assert 1 <= k <= n
        except (ValueError, AssertionError):
            print(f"{ap.prog}: --part must be K/N with 1 <= K <= N, got {args.part!r}", file=sys.stderr)
            return 2  # (one line, as the commands answer bad input)
        part = (k, n)
    runs, designs, common, val = (
        dict(RUNS),
        dict(DESIGNS),
        dict(search=dict(progress=False)),
        dict(seeds=40, steps=10000),
    )
    searches, local = dict(SEARCHES), dict(LOCAL)
    if args.smoke:
        args.out = tempfile.mkdtemp(prefix="spider-smoke-")
        runs = {k: (s, st, 2) for k, (s, st, _) in RUNS.items()}
        # (every stage the example knows, the intact stage wherever a reach stage is)
        designs = {k: (s, st, 1, 1, 1 if r else 0, 1 if r else 0, c) for k, (s, st, _, _, r, _, c) in DESIGNS.items()}
        SPREAD.update(weak=1, strong=1)
        CONTINUED.update({k: 2 for k in CONTINUED})  # (one more than the smoke's reach stage)
        common = dict(replicas=2, steps=50, end=dict(horizon=300, window=100, every=50))
        common["search"] = dict(seeds=1, top=1, rescore=1, steps=300, progress=False)
        searches = {k: 2 for k in SEARCHES}
        local = {k: [(0.1, 2, 1, 1, 0)] * len(r) for k, r in LOCAL.items()}
        val = dict(seeds=2, steps=300)
    world = shared("reproduce_spider.py")  # under mpirun the ranks share each iteration's replicas
    if world is None:
        return 2
    os.makedirs(args.out, exist_ok=True)
    todo = jobs(runs, designs, args.only, searches, local)
    for i, (name, kw, iterations) in enumerate(todo):
        if part is None or i % part[1] == part[0] - 1:
            optimise(args.out, name, kw, iterations, common, world, carry_on=not args.smoke)
    if part is not None:
        return 0
    main_rank = world.partition == 0  # every rank runs the validation (it shares the seeds); one draws
    outputs = []

    def save(summary, png):
        with open(png.replace(".png", ".json"), "w") as f:
            json.dump(summary, f, indent=1)
        outputs.extend([png, png.replace(".png", ".json")])

    for fig, names in (("fig2", ["oct-weak", "oct-strong"]), ("fig3", ["ico-weak", "ico-strong"])):
        if fig in args.only and main_rank:
            png = os.path.join(args.out, f"spider-{fig}-losses.png")
            s = figures.plot_losses([os.path.join(args.out, n) for n in names], png, reference=args.reference)
            save(s, png)
            print(fig, json.dumps(s, indent=1)[:1500])
    if "fig4" in args.only and main_rank:
        png = os.path.join(args.out, "spider-fig4-spread.png")
        runs4 = [os.path.join(args.out, name) for name, _, _ in jobs({}, {}, ["fig4"])]
        s = figures.plot_spread(runs4, png, authors=CONVERGED)
        save(s, png)
        print("fig4", json.dumps(s, indent=1)[:1500])
    if "validate" in args.only:
        if not args.smoke:  # the committed stages and searches, where this --out lacks them
            for name, _, _ in jobs(runs, designs, ["designs", "search"], searches, local):
                _carry_on(args.out, name, world)
        table = {}
        rows = validation_rows(args.out, runs, designs, searches, LONG * val["steps"], local)
        for name, shell, params, cargo, legs, bare, steps in rows:
            d = os.path.join(args.out, "validate", re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-"))
            kw = dict(val, steps=steps or val["steps"])
            table[name] = validate.validate(  # (a row validated before with these inputs is reused)
                d,
                params,
                shell=shell,
                cargo=cargo,
                leg_sigma=legs,
                progress=False,
                communicator=world,
                bare=bare,
                resume=True,
                **kw,
            )
            design = name.split(",")[0].removeprefix("design ") if name.startswith("design") else None
            if "forward search," in name:
                design += "-search"
            elif "local search," in name:
                design += "-local"
            stages = designs[design][4:6] if design in designs else (0, 0)
            last = (  # a design's last stage
                "local search," in name
                or "intact loss" in name
                or ("reach loss" in name and not stages[1])
                or ("end loss" in name and not any(stages))
            )
            if main_rank and design and (last or "search," in name) and (shell == "octahedron" or cargo):
                png = os.path.join(args.out, f"spider-validate-design-{design}.png")  # one run of each design
                shutil.copy(os.path.join(d, "trajectory.png"), png)
                outputs.append(png)
            if main_rank:
                t = table[name]
                released = f", released {t['released_fraction']:.3f} ± {t['released_se']:.3f}" if cargo else ""
                again = " (reused: its outcomes.json had these inputs)" if t.get("reused") else ""
                print(
                    f"{name}: success {t['success_fraction']:.3f} ± {t['success_se']:.3f}{released}{again}", flush=True
                )
        if main_rank:
            png = os.path.join(args.out, "spider-validation.png")
            figures.plot_validation(table, png)
            save(table, png)
    if args.figures and main_rank:
        os.makedirs(args.figures, exist_ok=True)
        for path in outputs:
            shutil.copy(path, args.figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

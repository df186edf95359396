"""The command line's contract, fuzzed: every subcommand answers bad input (negative, zero,
non-numeric, nan/inf where meaningless, missing files, options that clash) with one line on stderr
that names the option and the value typed, exit status 2, no traceback, and nothing created;
Ctrl-C ends with one line saying how to resume (status 130); under mpiexec a refusal is said once.

Most cases call ``cli.main`` in-process (no work is done: every refusal comes first); a few run
the real command in a subprocess for its exit status and stderr."""

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import TESTS, subprocess_env
from hoomd_adjoint import cli
from hoomd_adjoint.apps.spider.model import Params

CLI = [sys.executable, "-m", "hoomd_adjoint.cli"]
SPIDER = ",".join(f"{x:g}" for x in Params.start("octahedron", "weak").array())


def _subcommands(parser=None, path=()):
    """(names, parser) of every subcommand that runs something."""
    parser = parser or cli.parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, p in action.choices.items():
            yield from _subcommands(p, path + (name,))


SUBCOMMANDS = dict(_subcommands())


def _setup(tmp_path):
    """The inputs the valid commands below read: a sweep folder, a jobs file, an optimisation run."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "jobs.json").write_text(json.dumps([{"x": 1}]))
    (tmp_path / "jobs.json").write_text(json.dumps([{"x": 1}, {"x": 2}]))
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(json.dumps(dict(config=dict(shell="octahedron", start="weak"), history=[])))


def _valid(names, tmp):
    """Arguments that pass every check of subcommand ``names`` (the fuzzed option comes after)."""
    out = ["--out", f"{tmp}/out"]
    return {
        ("honeycomb", "design"): out + ["--objective", "rates"],
        ("honeycomb", "measure"): out,
        ("honeycomb", "line"): out,
        ("clusters", "states"): out,
        ("clusters", "path"): out,
        ("clusters", "design"): out,
        ("clusters", "reproduce"): ["fig4a"] + out,
        ("spider", "optimize"): out,
        ("spider", "validate"): [SPIDER] + out,
        ("spider", "search"): out,
        ("spider", "plot"): [f"{tmp}/run", "--out", f"{tmp}/out.png"],
        ("demo",): out,
        ("sweep", "run"): [f"{tmp}/new-sweep", "--function", "json:loads", "--jobs", f"{tmp}/jobs.json"],
        ("sweep", "status"): [f"{tmp}/sweep"],
        ("sweep", "merge"): [f"{tmp}/sweep", "--out", f"{tmp}/out.csv"],
    }[names]


def _tree(path):
    return sorted(os.path.join(d, f) for d, dirs, files in os.walk(path) for f in files + dirs)


def _refused(capsys, tmp_path, argv, *named):
    """``hoomd-adjoint argv`` in-process: status 2, one line on stderr holding every text in
    ``named`` (the option, the value typed), nothing on stdout, nothing created or changed."""
    before = {p: os.path.getmtime(p) for p in _tree(tmp_path)}
    status = cli.main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert status == 2, (argv, captured.err)
    assert len(lines) == 1, (argv, captured.err)
    assert "Traceback" not in captured.err and captured.out == "", (argv, captured)
    for text in named:
        assert text in lines[0], (argv, lines[0], text)
    assert lines[0].startswith("hoomd-adjoint"), lines[0]
    after = {p: os.path.getmtime(p) for p in _tree(tmp_path)}
    assert after == before, (argv, set(after) ^ set(before))  # nothing created, nothing rewritten
    return lines[0]


def _bad_values(action):
    """Values the option must refuse, from what it takes (its converter's bounds, its choices)."""
    t = action.type
    if action.choices is not None:
        return ["bogus"]
    name = getattr(t, "__name__", None)
    if name == "integer":
        bad = ["x", "2.5", "1e3", ""]
        if t.lo is not None:
            bad.append(str(t.lo - 1))
        if t.hi is not None:
            bad.append(str(t.hi + 1))
        return bad
    if name == "number":
        bad = ["x", "nan", "inf", "-inf"]
        if t.lo is not None:
            bad.append(f"{t.lo:g}" if t.open_lo else f"{t.lo - 1:g}")
        return bad
    if name == "part":
        return ["1", "2/2", "-1/2", "a/b"]
    if name == "text":
        return [""]
    return []


def _fuzz_cases():
    for names, parser in SUBCOMMANDS.items():
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            for value in _bad_values(action):
                if isinstance(action.nargs, int) and value == "-inf":
                    continue  # "--start 1 2 3 -inf": argparse reads -inf as an option (no value to check)
                yield pytest.param(
                    names,
                    action.option_strings[0],
                    action.nargs,
                    value,
                    id=f"{' '.join(names)} {action.option_strings[0]} {value!r}",
                )


@pytest.mark.parametrize("names, option, nargs, value", list(_fuzz_cases()))
def test_every_option_refuses_bad_values_in_one_line(tmp_path, capsys, monkeypatch, names, option, nargs, value):
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)  # a default output folder would appear here
    # --kT=-inf: argparse reads a lone -inf as an option
    given = [option] + ["1"] * (nargs - 1) + [value] if isinstance(nargs, int) else [f"{option}={value}"]
    line = _refused(capsys, tmp_path, list(names) + _valid(names, tmp_path) + given, option)
    shown = repr(value) if not value.strip() else value
    assert f"got {shown}" in line or f"'{value}'" in line, line


def test_every_subcommand_is_fuzzed_and_its_base_arguments_pass_every_check(tmp_path):
    """The fuzz above changes one option of arguments that are otherwise good: they are."""
    _setup(tmp_path)
    assert set(SUBCOMMANDS) == {
        ("honeycomb", "design"),
        ("honeycomb", "line"),
        ("honeycomb", "measure"),
        ("clusters", "states"),
        ("clusters", "path"),
        ("clusters", "design"),
        ("clusters", "reproduce"),
        ("spider", "optimize"),
        ("spider", "validate"),
        ("spider", "search"),
        ("spider", "plot"),
        ("demo",),
        ("sweep", "run"),
        ("sweep", "status"),
        ("sweep", "merge"),
    }
    for names in SUBCOMMANDS:
        args, extra = cli.parser().parse_known_args(list(names) + _valid(names, tmp_path))
        assert not extra
        args.check(args)  # raises _cli.Usage if not
    assert len(list(_fuzz_cases())) > 150
    for names, parser in SUBCOMMANDS.items():  # a plain int or float would take -5, 0, nan without a word
        assert not [a.dest for a in parser._actions if a.type in (int, float)], names


# The cases the issue found, and those no single option's type catches: options that clash,
# files and folders, renamed options.
CASES = [
    (["clusters", "states", "--quenches", "-5"], "--quenches", "-5"),
    (["clusters", "states", "--r-on", "3", "--r-cut", "2.5"], "--r-on 3", "below --r-cut 2.5"),
    (["clusters", "design", "--r-on", "4"], "--r-on 4", "below the cutoff 1.375 of --model short"),
    (["clusters", "path", "--r-on", "4", "--r-cut", "3"], "--r-on 4", "below --r-cut 3"),
    (["honeycomb", "measure", "--steps", "0"], "--steps", "got 0"),
    (["honeycomb", "design", "--check-replicas", "-5"], "--check-replicas", "-5"),
    (["spider", "validate", SPIDER, "--seeds", "0"], "--seeds", "got 0"),
    (["clusters", "path", "--kT", "0"], "--kT", "got 0"),
    (["clusters", "design", "--kT", "0"], "--kT", "got 0"),
    (["demo", "--steps", "1"], "--steps", "got 1"),
    (["demo", "--density", "3"], "--density 3", "too dense"),
    (["demo", "--N", "10"], "--N 10", "--N 24 or more"),
    (["honeycomb", "measure", "--rho-T", "2"], "--rho-T 2", "at most 1.145"),
    (["honeycomb", "measure", "--N", "20"], "--N 20", "--N 35 or more"),
    (["honeycomb", "measure", "--every", "50", "--steps", "40"], "--every 50", "--steps 40"),
    (["honeycomb", "design", "--start", "1", "2", "3", "nan"], "--start", "nan"),
    (["honeycomb", "design", "--start", "1", "2", "3"], "--start", "expected 4"),
    # --k-T sat beside --kT (the temperature); the target rates have names of their own now
    (["honeycomb", "design", "--objective", "rates", "--k-T", "0.0025"], "--k-T", "--target-k-T", "temperature"),
    (["honeycomb", "design", "--k-H", "0.0025"], "--k-H", "--target-k-H"),
    (["honeycomb", "design", "--target-k-T", "0.01"], "--target-k-T 0.01", "--objective rates"),
    (["honeycomb", "design", "--ratio", "0.5"], "--target-ratio 0.5", "--objective rates"),
    (["honeycomb", "design", "--objective", "rates", "--steps", "100"], "--steps 100", "--objective assemble"),
    (
        ["honeycomb", "design", "--objective", "rates", "--target-k-H", "0.01", "--target-ratio", "0.5"],
        "--target-k-H 0.01",
        "--target-ratio 0.5",
    ),
    (["honeycomb", "design", "--objective", "rates", "--target-k-T", "5"], "--target-k-T 5", "faster than one step"),
    (["honeycomb", "design", "--objective", "rates", "--target-ratio", "1000"], "--target-ratio 1000", "faster"),
    (["honeycomb", "design", "--variant", "reverse", "--truncate", "10"], "--truncate 10", "--variant reverse"),
    (["honeycomb", "design", "--resume"], "--resume", "nothing to resume"),
    (["spider", "optimize", "--resume"], "--resume", "nothing to resume"),
    (["honeycomb", "design", "--iter", "3"], "unrecognized arguments: --iter 3"),  # no abbreviations
    (["honeycomb", "design", "--bogus"], "hoomd-adjoint honeycomb design: unrecognized arguments: --bogus"),
    (["honeycomb"], "required: action"),
    (["clusters", "reproduce", "fig3b", "--part", "0/2"], "--part 0/2", "fig3b"),
    (["clusters", "reproduce", "plots", "--out", "{tmp}/nothing"], "--out {tmp}/nothing", "nothing to plot"),
    (["clusters", "reproduce", "fig5", "--pair", "twin"], "--pair twin", "fig5"),
    (["spider", "validate", "1,2,3"], "params 1,2,3", "8 finite numbers"),
    (["spider", "validate", SPIDER, "--first-seed", "65530"], "--first-seed 65530", "--seeds 40", "65535"),
    (["spider", "validate", SPIDER, "--out", "{tmp}/jobs.json"], "--out {tmp}/jobs.json", "is a file"),
    (["spider", "search", "--out", "{tmp}/jobs.json"], "--out {tmp}/jobs.json", "is a file"),
    (["spider", "search", "--candidates", "3", "--top", "5"], "--top 5", "--candidates 3"),
    (["spider", "search", "--spread", "0.2"], "--spread 0.2", "--around"),
    (["spider", "search", "--around", "1,2,3"], "--around 1,2,3", "8 finite numbers"),
    (["spider", "search", "--around", "{tmp}/none.json"], "--around {tmp}/none.json", "neither a file"),
    (["spider", "search", "--first-seed", "65520"], "--first-seed 65520", "--rescore 20", "65535"),
    (["spider", "optimize", "--out", "{tmp}/jobs.json"], "--out {tmp}/jobs.json", "is a file"),
    (["spider", "optimize", "--horizon", "5000"], "--horizon 5000", "--loss end"),
    (["spider", "optimize", "--end-reach", "1"], "--end-reach 1.0", "--loss end"),
    (["spider", "optimize", "--end-intact", "2"], "--end-intact 2.0", "--loss end"),
    (["spider", "optimize", "--loss", "end", "--end-reach", "-1"], "--end-reach", "-1"),
    (["spider", "optimize", "--loss", "end", "--window", "50"], "--window 50", "100 or more"),
    (["spider", "optimize", "--loss", "end", "--horizon", "1500"], "--horizon 1500", "--steps 1000", "--window 1000"),
    (["spider", "optimize", "--start-from", "1,2"], "--start-from 1,2", "8 finite numbers"),
    (["spider", "optimize", "--start-from", "{tmp}/jobs.json"], "--start-from {tmp}/jobs.json"),
    (["spider", "validate", "{tmp}/missing.json"], "params {tmp}/missing.json"),
    (["spider", "validate", "{tmp}/jobs.json"], "params {tmp}/jobs.json"),  # JSON, but not a state
    (["spider", "plot", "{tmp}/nothing"], "runs: {tmp}/nothing"),
    (["spider", "plot", "{tmp}/sweep"], "runs", "{tmp}/sweep"),
    (["spider", "plot", "{tmp}/run", "--out", "{tmp}/no/such/losses.png"], "--out {tmp}/no/such/losses.png"),
    (["spider", "plot", "{tmp}/run", "--out", "{tmp}/sweep"], "--out {tmp}/sweep", "is a folder"),
    (["spider", "plot", "{tmp}/run", "--reference", "{tmp}/nothing"], "--reference {tmp}/nothing"),
    (["sweep", "status", "{tmp}/nothing"], "{tmp}/nothing", "no jobs.json"),
    (["sweep", "merge", "{tmp}/nothing"], "{tmp}/nothing", "no jobs.json"),
    (["sweep", "merge", "{tmp}/sweep", "--out", "{tmp}/no/such.csv"], "--out {tmp}/no/such.csv"),
    (["sweep", "merge", "{tmp}/sweep", "--csv", "{tmp}/sweep"], "--out {tmp}/sweep", "is a folder"),
    (["sweep", "run", "{tmp}/new", "--function", "json.loads", "--jobs", "{tmp}/jobs.json"], "--function json.loads"),
    (
        ["sweep", "run", "{tmp}/new", "--function", "no_such_module_here:f", "--jobs", "{tmp}/jobs.json"],
        "--function no_such_module_here:f",
        "no module",
    ),
    (
        ["sweep", "run", "{tmp}/new", "--function", "{tmp}/missing.py:f", "--jobs", "{tmp}/jobs.json"],
        "--function {tmp}/missing.py",
    ),
    (
        ["sweep", "run", "{tmp}/new", "--function", "json:nope", "--jobs", "{tmp}/jobs.json"],
        "--function json:nope",
        "no function 'nope'",
    ),
    (
        ["sweep", "run", "{tmp}/new", "--function", "json:loads", "--jobs", "{tmp}/missing.json"],
        "--jobs {tmp}/missing.json",
        "no such file",
    ),
    (
        ["sweep", "run", "{tmp}/new", "--function", "json:loads", "--jobs", "{tmp}/run/state.json"],
        "--jobs {tmp}/run/state.json",
        "list of job dicts",
    ),
    (["sweep", "run", "{tmp}/new", "--function", "json:loads"], "{tmp}/new", "no jobs.json"),
    (["sweep", "run", "{tmp}/sweep", "--function", "json:loads", "--part", "3/3"], "--part", "3/3"),
]


@pytest.mark.parametrize("argv, named", [(c[0], c[1:]) for c in CASES], ids=[" ".join(c[0][:3]) for c in CASES])
def test_known_bad_input_is_refused_before_anything(tmp_path, capsys, monkeypatch, argv, named):
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    fill = lambda s: s.replace("{tmp}", str(tmp_path))  # noqa: E731
    argv = [fill(a) for a in argv]
    if (
        "--out" not in argv
        and argv[:2]
        not in (["honeycomb"], ["sweep", "status"], ["sweep", "merge"], ["sweep", "run"], ["spider", "plot"])
        and len(argv) > 1
    ):
        argv += ["--out", str(tmp_path / "out")]
    _refused(capsys, tmp_path, argv, *[fill(n) for n in named])


def test_a_saved_state_needs_resume_and_a_file_is_not_an_output_folder(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "state.json").write_text("{}")
    for names in (["honeycomb", "design"], ["spider", "optimize"]):
        _refused(capsys, tmp_path, names + ["--out", str(out)], f"--out {out}", "--resume")
    (tmp_path / "file").write_text("")
    for names in (["honeycomb", "measure"], ["demo"], ["clusters", "states"], ["spider", "validate", SPIDER]):
        _refused(capsys, tmp_path, names + ["--out", str(tmp_path / "file")], f"--out {tmp_path / 'file'}", "is a file")
        under = tmp_path / "file" / "run"  # a folder that cannot be made: a file above it
        _refused(capsys, tmp_path, names + ["--out", str(under)], f"--out {under}: {tmp_path / 'file'} is a file")


def test_help_gives_every_option_a_sentence_and_its_default():
    from hoomd_adjoint._cli import Formatter

    formatter = Formatter("hoomd-adjoint")
    for names, parser in SUBCOMMANDS.items():
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 8, (names, action.dest)
            if action.option_strings and action.default is not None and not isinstance(action.default, bool):
                assert "default" in formatter._get_help_string(action), (names, action.dest)
        parser.format_help()  # every help string formats


def test_option_names_do_not_differ_only_by_punctuation_or_case():
    """--kT (a temperature) and --k-T (a target rate) were one typo apart."""
    for names, parser in SUBCOMMANDS.items():
        seen = {}
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                key = "".join(c for c in option.lower() if c.isalnum())
                assert key not in seen or seen[key] is action, (names, option, seen.get(key))
                seen[key] = action


def test_one_spelling_of_the_output_and_the_old_ones_still_work(tmp_path):
    for names, parser in SUBCOMMANDS.items():
        options = {o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings}
        assert not options & {"--output", "--csv", "--out-dir", "--outdir"}, names
        if names[0] != "sweep" or names[1] == "merge":
            assert "--out" in options, names
    _setup(tmp_path)
    args, _ = cli.parser().parse_known_args(["spider", "plot", "r", "--output", "x.png"])
    assert args.output == "x.png"
    args, _ = cli.parser().parse_known_args(["sweep", "merge", "d", "--csv", "x.csv"])
    assert args.csv == "x.csv"
    args, _ = cli.parser().parse_known_args(["honeycomb", "design", "--objective", "rates", "--ratio", "0.5"])
    assert args.ratio == 0.5


def test_version(capsys):
    import hoomd_adjoint

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"hoomd-adjoint {hoomd_adjoint.__version__}"


def test_library_refusals_are_one_line_with_status_2(tmp_path, capsys):
    """What only the library checks (here: a resumed design's settings) also ends in one line."""
    out = tmp_path / "d"
    os.makedirs(out)
    state = dict(config=dict(objective="assemble", steps=999), params=[], optimizer={}, history=[])
    (out / "state.json").write_text(json.dumps(state))
    _refused(
        capsys, tmp_path, ["honeycomb", "design", "--out", str(out), "--resume", "--steps", "20"], "other settings"
    )


# -- the real command: exit status and stderr of the process --


@pytest.mark.parametrize(
    "argv, named",
    [
        (["clusters", "states", "--quenches", "-5"], "--quenches must be a positive integer, got -5"),
        (["honeycomb", "measure", "--steps", "0"], "--steps must be a positive integer, got 0"),
        (["spider", "validate", SPIDER, "--seeds", "0"], "--seeds must be a positive integer, got 0"),
        (["clusters", "path", "--kT", "0"], "--kT must be a positive number, got 0"),
        (["demo", "--steps", "x"], "--steps must be an integer >= 2, got x"),
        (["honeycomb", "design", "--objective", "rates", "--k-T", "0.0025"], "--k-T was renamed --target-k-T"),
    ],
)
def test_the_command_exits_with_status_2_and_one_line(tmp_path, argv, named):
    r = subprocess.run(
        CLI + argv + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
        timeout=120,
    )
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert r.stderr.splitlines() == [r.stderr.strip()] and named in r.stderr, r.stderr
    assert os.listdir(tmp_path) == []


def test_the_console_script(tmp_path):
    script = shutil.which("hoomd-adjoint", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if script is None:
        pytest.skip("no hoomd-adjoint console script installed")
    r = subprocess.run(
        [script, "clusters", "design", "--target", "3", "-1", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
        timeout=120,
    )
    assert (
        r.returncode == 2
        and r.stderr.strip() == "hoomd-adjoint clusters design: --target must be a positive number, got -1"
    ), r.stderr
    assert os.listdir(tmp_path) == []


def test_ctrl_c_says_how_to_resume(tmp_path):
    """SIGINT to a running design: one line with the command that continues it, status 130;
    that command continues the design."""
    out = tmp_path / "design"
    argv = [
        "honeycomb",
        "design",
        "--out",
        str(out),
        "--N",
        "36",
        "--iterations",
        "100000",
        "--replicas",
        "1",
        "--steps",
        "10",
        "--check-replicas",
        "1",
        "--check-steps",
        "10",
        "--threads",
        "1",
        "--quiet",
    ]
    p = subprocess.Popen(
        CLI + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=TESTS, env=subprocess_env()
    )
    try:
        deadline = time.monotonic() + 120  # a safety net, not a measurement
        while not (out / "state.json").exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.poll() is None, p.communicate()
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 130, (p.returncode, stderr)
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    line = stderr.strip()
    assert line.startswith("hoomd-adjoint honeycomb design: interrupted") and "--resume" in line, line
    hint = shlex.split(line.split("continue with ", 1)[1])
    assert hint == ["hoomd-adjoint"] + argv + ["--resume"]
    done = len(json.loads((out / "state.json").read_text())["history"])
    again = hint[1:]
    again[again.index("--iterations") + 1] = str(done + 1)
    r = subprocess.run(CLI + again, capture_output=True, text=True, cwd=TESTS, env=subprocess_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resuming {out}" in r.stdout and len(json.loads((out / "state.json").read_text())["history"]) == done + 1


def test_ctrl_c_without_anything_to_resume_says_interrupted(tmp_path, monkeypatch, capsys):
    from hoomd_adjoint.apps.clusters import packings

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(packings, "find_states", interrupt)
    assert cli.main(["clusters", "states", "--quenches", "2", "--out", str(tmp_path / "o")]) == 130
    assert capsys.readouterr().err == "hoomd-adjoint clusters states: interrupted\n"


def test_ctrl_c_before_anything_was_saved_and_in_a_sweep(tmp_path, monkeypatch, capsys):
    from hoomd_adjoint.apps.assembly import honeycomb as hc

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hc.Design, "run", interrupt)
    assert cli.main(["honeycomb", "design", "--out", str(tmp_path / "d"), "--N", "36", "--quiet"]) == 130
    assert capsys.readouterr().err == (
        "hoomd-adjoint honeycomb design: interrupted before the first iteration was "
        "saved: nothing to resume; run the command again\n"
    )
    (tmp_path / "job.py").write_text("def job(j):\n    raise KeyboardInterrupt\n")
    (tmp_path / "jobs.json").write_text("[{}]")
    argv = [
        "sweep",
        "run",
        str(tmp_path / "s"),
        "--function",
        f"{tmp_path}/job.py:job",
        "--jobs",
        str(tmp_path / "jobs.json"),
        "--quiet",
    ]
    assert cli.main(argv) == 130
    assert capsys.readouterr().err == (
        "hoomd-adjoint sweep run: interrupted; finished jobs are saved: run the same "
        f"command again to continue ({shlex.join(['hoomd-adjoint'] + argv)})\n"
    )


# -- under mpiexec: the first rank says it, once --

MPIEXEC = shutil.which("mpiexec") or shutil.which("mpirun")


@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on the PATH")
@pytest.mark.parametrize(
    "argv, named",
    [
        (["honeycomb", "design", "--check-replicas", "-5"], "--check-replicas must be a positive integer, got -5"),
        (["spider", "optimize", "--replicas", "0"], "--replicas must be a positive integer, got 0"),
        (["honeycomb", "measure", "--resume"], "unrecognized arguments: --resume"),
        (["spider", "optimize", "--resume"], "--resume: nothing to resume"),
    ],
)
def test_under_mpiexec_bad_input_is_said_once(tmp_path, argv, named):
    pytest.importorskip("mpi4py")
    r = subprocess.run(
        [MPIEXEC, "-n", "2"] + CLI + argv + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
        timeout=120,
    )
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.splitlines() == [r.stderr.strip()] and named in r.stderr, r.stderr
    assert os.listdir(tmp_path) == []

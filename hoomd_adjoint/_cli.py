"""The command line's contract, shared by every subcommand (``hoomd_adjoint.cli``,
``clusters.cli``, ``spider.cli``):

- every argument is checked while it is parsed (the ``type=`` converters below) or by the
  subcommand's ``check`` (options that depend on each other, files and folders), before anything
  runs or is written;
- bad input is answered with one line on stderr that names the option and the value typed, and
  exit status 2 (argparse's own errors too: :class:`Parser`); under ``mpirun`` the first rank says it;
- ``--help`` gives every option a sentence and its default (:class:`Formatter`).
"""

import argparse
import inspect
import json
import math
import os
import re
import sys


class Usage(Exception):
    """Bad input found by a subcommand's check: ``str(e)`` is the line to print (it names the option
    and the value typed); the command exits with status 2 before doing anything."""


def say(prog, message, every_rank=False):
    """Print ``prog: message`` as one line on stderr; under mpirun only the first rank does (every
    rank got the same arguments), unless ``every_rank``, prefixed by the rank then."""
    from .communicator import launched

    rank, size = launched()
    if rank != 0 and not every_rank:
        return
    where = f" (rank {rank} of {size})" if every_rank and size > 1 else ""
    text = re.sub(r"\s*\n\s*", " ", str(message)).strip()  # one line, whatever the message holds
    print(f"{prog}{where}: {text}", file=sys.stderr, flush=True)


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions as written; every option's help ends with its default, unless the default is
    None or False (the help says in words what leaving the option out does) or already shown."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (
            action.default is None
            or action.default is False
            or action.default is argparse.SUPPRESS
            or "default" in text
        ):
            return text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``prog: --option message``) and exit status
    2, with :class:`Formatter` and no abbreviations (``--rep`` is not ``--replicas``: an option
    added later would change what an abbreviation means). Its subparsers are Parsers too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", Formatter)
        kwargs.setdefault("allow_abbrev", False)
        if kwargs.get("description"):
            kwargs["description"] = inspect.cleandoc(kwargs["description"])
        super().__init__(*args, **kwargs)

    def error(self, message):
        # argparse says "argument --x/-y: text"; the line names the option once: "--x text"
        m = re.match(r"argument (\S+?)(?:/\S+)?: (.*)", message, re.S)
        if m:
            name, text = m.groups()
            message = f"{name} {text}" if re.match(r"(must|was|is|has|needs) ", text) else f"{name}: {text}"
        say(self.prog, message)
        sys.exit(2)


class Renamed(argparse.Action):
    """A hidden old option name whose meaning would be ambiguous if it stayed: refused with the new
    name (e.g. ``--k-T``, a target rate, beside ``--kT``, the temperature)."""

    def __init__(self, option_strings, dest, new=None, why="", **kwargs):
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, **kwargs)
        self.new, self.why = new, why

    def __call__(self, parser, namespace, values, option_string=None):
        raise argparse.ArgumentError(self, f"was renamed {self.new}{self.why}")


def alias(parser, old, dest):
    """``old``: a hidden second spelling of the option that stores ``dest`` (kept so that existing
    scripts run; --help shows one spelling), read and checked as that option is."""
    new = next(a for a in parser._actions if a.dest == dest and a.option_strings)
    parser.add_argument(
        old,
        dest=dest,
        type=new.type,
        nargs=new.nargs,
        metavar=new.metavar,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )


# -- type= converters: each refuses with the value typed, which argparse reports with the option --


def _got(text):
    return f"got {text}" if text.strip() else f"got {text!r}"


def integer(lo=None, hi=None):
    """An integer >= lo (and <= hi); written as digits (not 1e3, not 2.5)."""
    if lo == 1 and hi is None:
        what = "a positive integer"
    elif lo == 0 and hi is None:
        what = "a non-negative integer"
    elif lo is not None and hi is not None:
        what = f"an integer from {lo} to {hi}"
    else:
        what = "an integer" + (f" >= {lo}" if lo is not None else "") + (f" <= {hi}" if hi is not None else "")

    def convert(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, {_got(text)}") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, {_got(text)}")
        return v

    convert.__name__ = "integer"
    convert.lo, convert.hi = lo, hi  # for the command-line fuzz tests
    return convert


def real(lo=None, open_lo=False, hi=None):
    """A finite number >= lo (> lo with ``open_lo``; <= hi): nan and inf are refused."""
    if lo == 0 and open_lo and hi is None:
        what = "a positive number"
    elif lo == 0 and hi is None:
        what = "a non-negative number"
    elif lo is not None and hi is not None and not open_lo:
        what = f"a number from {lo:g} to {hi:g}"
    else:
        what = (
            "a finite number"
            + (f" {'>' if open_lo else '>='} {lo:g}" if lo is not None else "")
            + (f" <= {hi:g}" if hi is not None else "")
        )

    def convert(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, {_got(text)}") from None
        if not math.isfinite(v) or (lo is not None and (v <= lo if open_lo else v < lo)) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, {_got(text)}")
        return v

    convert.__name__ = "number"
    convert.lo, convert.open_lo, convert.hi = lo, open_lo, hi
    return convert


def part(text):
    """``k/n``: the slice of a sweep's jobs i with i % n == k (0 <= k < n)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not int(m.group(1)) < int(m.group(2)):
        raise argparse.ArgumentTypeError(f"must be k/n with integers 0 <= k < n (k is 0-based), {_got(text)}")
    return text


def text(what):
    """A non-empty string (an output name): an empty one would mean the current folder by accident."""

    def convert(value):
        if not value.strip():
            raise argparse.ArgumentTypeError(f"must be {what}, got {value!r}")
        return value

    convert.__name__ = "text"
    return convert


# -- checks of files and folders, run before the command does anything --


def out_folder(option, path):
    """``path`` may become an output folder: it is one already, or nothing is there and it can be
    made (the nearest existing folder above it is a writable folder)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise Usage(f"{option} {path} is a file, not a folder")
    up = os.path.abspath(path)
    while not os.path.exists(up):
        up = os.path.dirname(up)
    if not os.path.isdir(up):
        raise Usage(f"{option} {path}: {up} is a file, not a folder")
    if not os.access(up, os.W_OK | os.X_OK):
        raise Usage(f"{option} {path}: {up} is not writable")


def out_file(option, path):
    """``path`` may become an output file: its folder exists and it is not a folder."""
    if os.path.isdir(path):
        raise Usage(f"{option} {path} is a folder, not a file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise Usage(f"{option} {path}: no folder {folder}")


def in_file(option, path):
    """``path`` is a readable file."""
    if not os.path.isfile(path):
        raise Usage(f"{option} {path}: " + ("is a folder, not a file" if os.path.isdir(path) else "no such file"))


def in_json(option, path):
    """The JSON in the file ``path``."""
    in_file(option, path)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Usage(f"{option} {path}: not readable JSON ({e})") from None


def resumable(out, resume, what, saved="state.json"):
    """A resumable command's output folder ``out``: with ``--resume`` it must hold a saved state
    (the file ``saved``), without it it must not (a finished run is never overwritten)."""
    out_folder("--out", out)
    state = os.path.join(out, saved)
    if resume and not os.path.isfile(state):
        raise Usage(f"--resume: nothing to resume in --out {out} (no {saved}); leave out --resume to start {what}")
    if not resume and os.path.exists(state):
        raise Usage(f"--out {out} holds a saved state ({state}): add --resume to continue it, or choose another --out")


def check_packing(option, density, min_dist, N):
    """Random starts (no two particles closer than ``min_dist``) can be placed at ``density``."""
    import math

    from .lattice import _RSA_JAMMING

    phi = density * math.pi * (min_dist / 2) ** 2
    if N > 1 and phi > _RSA_JAMMING[2]:
        raise Usage(
            f"{option} {density:g} is too dense for the random starts (disks of diameter {min_dist:g} "
            f"would cover {phi:.3g} of the plane, beyond the {_RSA_JAMMING[2]} random placement reaches): "
            f"at most {_RSA_JAMMING[2] / (math.pi * (min_dist / 2) ** 2):.4g}"
        )


def check_box(N, option, density, reach):
    """The square box of N particles at ``density`` holds the pair cutoff plus the neighbour list's
    buffer (``reach``) less than half its side."""
    import math

    side = math.sqrt(N / density)
    if side <= 2 * reach:
        need = math.floor((2 * reach) ** 2 * density) + 1
        raise Usage(
            f"--N {N} at {option} {density:g} makes a box of side {side:.3g}, less than twice the pair "
            f"cutoff with its buffer ({reach:g}): use --N {need} or more"
        )

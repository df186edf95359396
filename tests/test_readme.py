"""The README's Python examples run as printed.

Every ```python block of README.md runs, in order, in one namespace (a reader pastes them into
one session: later blocks use the names of earlier ones), in a temporary folder, except:

- a block whose first line is ``# (not run: <why>)`` (long runs, fragments), and
- a block whose first line is ``# (needs HOOMD-blue)``, which runs in a namespace of its own
  where HOOMD-blue is importable and is skipped elsewhere.
"""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
NOT_RUN = "# (not run:"
NEEDS_HOOMD = "# (needs HOOMD-blue)"


def _blocks():
    """(first line number, code) of every ```python block of the README."""
    text = README.read_text()
    out = []
    for m in re.finditer(r"^```python\n(.*?)^```$", text, flags=re.S | re.M):
        out.append((text.count("\n", 0, m.start()) + 2, m.group(1)))
    return out


def _run(code, line, namespace):
    try:
        exec(compile(code, f"README.md (block at line {line})", "exec"), namespace)
    except Exception as e:
        raise AssertionError(f"the README's Python block at line {line} fails: {type(e).__name__}: {e}") from e


def test_the_readme_has_python_examples_and_every_one_is_marked_or_run():
    blocks = _blocks()
    assert len(blocks) >= 4
    for line, code in blocks:
        first = code.splitlines()[0] if code.strip() else ""
        if first.startswith("# ("):
            assert first.startswith(NOT_RUN) or first == NEEDS_HOOMD, (
                f"README.md line {line}: a block's first-line marker must be '{NOT_RUN} <why>)' or "
                f"'{NEEDS_HOOMD}', got {first!r}"
            )
        # a marker anywhere else would be a block that silently runs or silently does not
        assert "# (not run" not in "\n".join(code.splitlines()[1:]), f"README.md line {line}: marker not on line 1"


def test_the_readme_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    ran = 0
    with warnings.catch_warnings():
        # the gradient example over 1000 steps warns on purpose (the README explains the warning)
        warnings.simplefilter("ignore")
        for line, code in _blocks():
            if code.startswith(NOT_RUN) or code.startswith(NEEDS_HOOMD):
                continue
            _run(code, line, namespace)
            ran += 1
    assert ran >= 3
    assert (tmp_path / "traj.gsd").exists()  # the example's writer wrote where the reader runs it


def test_the_readme_hoomd_blue_example_runs(tmp_path, monkeypatch):
    blocks = [(line, code) for line, code in _blocks() if code.startswith(NEEDS_HOOMD)]
    assert blocks, "the README has no HOOMD-blue example"
    pytest.importorskip("hoomd")
    monkeypatch.chdir(tmp_path)
    for line, code in blocks:
        _run(code, line, {"__name__": "__readme__"})
    assert (tmp_path / "traj.gsd").exists()

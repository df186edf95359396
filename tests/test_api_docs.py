"""The API reference (docs/api/) is what docs/api/generate.py writes from the current docstrings,
every Sphinx-style cross-reference in a docstring names a real object, and every relative link
in README.md and docs/ leads to a file (and, for a Markdown file, to a heading) that exists."""

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import hoomd_adjoint

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "python docs/api/generate.py"


def _generator():
    spec = importlib.util.spec_from_file_location("_api_generate", ROOT / "docs" / "api" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- (a) the committed pages are current ---------------------------------------------------------


def test_api_pages_are_current():
    files = _generator().render()
    api = ROOT / "docs" / "api"
    stale = [name for name, text in files.items() if not (api / name).exists() or (api / name).read_text() != text]
    extra = sorted(p.name for p in api.glob("*.md") if p.name not in files)
    assert not stale and not extra, (
        f"docs/api is stale (changed: {', '.join(stale) or 'none'}; no longer generated: "
        f"{', '.join(extra) or 'none'}): a docstring or a public name changed. Regenerate with "
        f"`{REGENERATE}` and commit docs/api/."
    )


def test_every_public_module_has_a_page():
    pages = _generator().modules()
    documented = {m for names in pages.values() for m in names}
    for info in pkgutil.walk_packages(hoomd_adjoint.__path__, "hoomd_adjoint."):
        parts = info.name.split(".")
        if any(p.startswith("_") or p == "cli" for p in parts[1:]):
            continue
        assert info.name in documented, f"{info.name} has no API page (docs/api/generate.py modules())"


# --- (b) cross-references in docstrings resolve ---------------------------------------------------

ROLE = re.compile(r":(func|class|mod|meth|attr|exc|data|obj):`([^`]+)`")


def _docstrings():
    """(module name, class name or None, lineno, docstring) for every docstring of the package."""
    for info in pkgutil.walk_packages(hoomd_adjoint.__path__, "hoomd_adjoint."):
        yield from _module_docstrings(info.name)
    yield from _module_docstrings("hoomd_adjoint")


def _module_docstrings(modname):
    spec = importlib.util.find_spec(modname)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return
    tree = ast.parse(Path(spec.origin).read_text())

    def walk(node, cls):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                doc = ast.get_docstring(child, clean=False)
                if doc:
                    yield modname, child.name, child.lineno, doc
                yield from walk(child, child.name)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(child, clean=False)
                if doc:
                    yield modname, cls, child.lineno, doc
                yield from walk(child, cls)

    doc = ast.get_docstring(tree, clean=False)
    if doc:
        yield modname, None, 1, doc
    yield from walk(tree, None)


def _lookup(dotted, role):
    """The object a fully qualified name names, or raise LookupError. A module for :mod:; for the
    other roles the name is read as attributes from the package down, as Python would
    (``hoomd_adjoint.transitions.neb`` is the function the package exports, not its module)."""
    if role == "mod":
        try:
            return importlib.import_module(dotted)
        except ImportError:
            raise LookupError(dotted) from None
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                break
            obj = getattr(obj, attr)
        else:
            return obj
    raise LookupError(dotted)


def _resolve(target, modname, cls, role="obj"):
    """What Sphinx's Python domain would find: the name as given, then within the current class,
    the current module, and the module's package."""
    target = target.lstrip("~").lstrip(".")
    if target.endswith("()"):
        target = target[:-2]
    candidates = [target]
    if cls:
        candidates.append(f"{modname}.{cls}.{target}")
    candidates.append(f"{modname}.{target}")
    candidates.append(f"{modname.rsplit('.', 1)[0]}.{target}")
    for c in candidates:
        try:
            return _lookup(c, role)
        except LookupError:
            pass
    raise LookupError(target)


def _kind_ok(role, obj):
    if role == "mod":
        return inspect.ismodule(obj)
    if role in ("class", "exc"):
        return inspect.isclass(obj)
    if role in ("func", "meth"):
        return callable(obj) and not inspect.ismodule(obj)
    return True


def test_docstring_cross_references_resolve():
    bad, seen = [], 0
    for modname, cls, line, doc in _docstrings():
        for m in ROLE.finditer(doc):
            role, target = m.groups()
            seen += 1
            where = f"{modname}{'.' + cls if cls else ''} (line {line}): :{role}:`{target}`"
            try:
                obj = _resolve(target, modname, cls, role)
            except LookupError:
                bad.append(f"{where} names nothing")
                continue
            if not _kind_ok(role, obj):
                bad.append(f"{where} is a {type(obj).__name__}, not what :{role}: names")
    assert seen > 50
    assert not bad, "broken cross-references in docstrings:\n  " + "\n  ".join(bad)


def test_a_broken_cross_reference_is_caught():
    with pytest.raises(LookupError):
        _resolve("~hoomd_adjoint.adjoint.no_such_function", "hoomd_adjoint.loss", None)
    assert _resolve("Frame", "hoomd_adjoint.adjoint", None) is hoomd_adjoint.adjoint.Frame
    with pytest.raises(LookupError):  # a function is not a module
        _resolve("hoomd_adjoint.adjoint.gradient", "hoomd_adjoint.loss", None, "mod")
    assert not _kind_ok("mod", hoomd_adjoint.adjoint.gradient)


# --- (c) relative links in the Markdown files lead somewhere ---------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _markdown_files():
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs" / "api").glob("*.md"))


def _anchors(path):
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)  # no headings in code
    out, count = set(), {}
    for m in re.finditer(r"^#{1,6} +(.+?) *#*$", text, flags=re.M):
        a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower().replace("`", "")).replace(" ", "-")
        n = count.get(a, 0)
        count[a] = n + 1
        out.add(a if n == 0 else f"{a}-{n}")
    out |= set(re.findall(r'<a (?:name|id)="([^"]+)"', text))
    return out


def _broken_links(files, root):
    """(links checked, [what is wrong]) for the relative links of Markdown files."""
    bad, seen = [], 0
    for md in files:
        text = re.sub(r"^```.*?^```", "", md.read_text(), flags=re.S | re.M)  # links in code are code
        for m in LINK.finditer(text):
            target = m.group(1) or m.group(2)
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            seen += 1
            path, _, frag = target.partition("#")
            dest = (md.parent / path).resolve() if path else md
            rel = md.relative_to(root)
            if not dest.exists():
                bad.append(f"{rel}: ({target}): no file {path}")
            elif frag and dest.suffix == ".md" and frag not in _anchors(dest):
                bad.append(f"{rel}: ({target}): no heading #{frag} in {dest.relative_to(root)}")
    return seen, bad


def test_relative_links_lead_to_existing_files_and_headings():
    seen, bad = _broken_links(_markdown_files(), ROOT)
    assert seen > 50
    assert not bad, "broken links:\n  " + "\n  ".join(bad)


def test_a_broken_link_is_caught(tmp_path):
    (tmp_path / "a.md").write_text(
        "# Title\n\n## Long horizons\n\n[ok](#long-horizons) [ok](a.md#title) "
        "[web](https://example.org/x.md) ![fig](missing.png) [no](b.md) [no](#nowhere)\n"
        "```\n[in code](c.md)\n```\n"
    )
    seen, bad = _broken_links([tmp_path / "a.md"], tmp_path)
    assert seen == 5
    assert len(bad) == 3 and "missing.png" in bad[0] and "b.md" in bad[1] and "#nowhere" in bad[2]

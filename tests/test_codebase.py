"""The shape the project keeps: small modules, short functions, one-way imports."""

from __future__ import annotations

import ast
import shutil
import subprocess
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "plugdata"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
MAX_BRANCH_POINTS = 15  # ruff's C901 (McCabe complexity) and PLR0912 (branches)
# Code is formatted by `ruff format`; these are the only ways out, each on a literal table (or a
# verbatim text for noqa), and only this many across plugdata/, tests/ and bench/.
FORMATTED = ["plugdata", "tests", "bench", "conftest.py"]
MAX_FMT_SKIP = 0
MAX_NOQA_E501 = 1


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_over_80_lines():
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_no_function_has_over_15_branch_points():
    """A function with more decisions than this is split by responsibility (ruff's C901 and
    PLR0912, at this cap whatever pyproject.toml says), across plugdata/, tests/ and bench/."""
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    caps = [
        f"lint.mccabe.max-complexity={MAX_BRANCH_POINTS}",
        f"lint.pylint.max-branches={MAX_BRANCH_POINTS}",
    ]
    result = subprocess.run(
        ["ruff", "check", "--select", "C901,PLR0912", "--output-format", "concise"]
        + [arg for cap in caps for arg in ("--config", cap)]
        + FORMATTED,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_layers_contract_holds():
    """import-linter's layers contract (pyproject.toml): no stage imports a later one."""
    if shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        ["lint-imports"], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:]


def _pragmas(pragma: str) -> list[str]:
    """Comments holding ``pragma`` (``fmt: skip`` or ``noqa`` with E501), as ``path:line: text``."""
    found = []
    for top in ("plugdata", "tests", "bench"):
        for path in sorted((ROOT / top).rglob("*.py")):
            with path.open("rb") as source:
                for token in tokenize.tokenize(source.readline):
                    if token.type != tokenize.COMMENT:
                        continue
                    parts = [part.strip() for part in token.string.split("#")]
                    if any(
                        p.startswith(pragma) and ("E501" in p or p == "fmt: skip") for p in parts
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string}")
    return found


def test_fmt_skip_only_on_a_few_literal_tables():
    """`# fmt: skip` keeps a literal table's rows whole, says so, and stays rare."""
    skips = _pragmas("fmt: skip")
    unexplained = [s for s in skips if "literal table" not in s]
    assert not unexplained, "`# fmt: skip` without `# a literal table`:\n" + "\n".join(unexplained)
    assert len(skips) <= MAX_FMT_SKIP, f"{len(skips)} `# fmt: skip`, at most {MAX_FMT_SKIP}:\n" + (
        "\n".join(skips)
    )


def test_long_lines_are_rare():
    """Lines stay within 100 columns (ruff's E501); a few table rows or verbatim texts may not."""
    noqa = _pragmas("noqa")
    assert len(noqa) <= MAX_NOQA_E501, f"{len(noqa)} `noqa: E501`, at most {MAX_NOQA_E501}:\n" + (
        "\n".join(noqa)
    )


def test_code_is_formatted():
    """`ruff format --check` passes on everything CI formats (as .ci/run checks it)."""
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        ["ruff", "format", "--check", *FORMATTED],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def _lazy_packages() -> list[Path]:
    return [p for p in PACKAGE.rglob("__init__.py") if "lazy_exports(" in p.read_text()]


@pytest.mark.parametrize("init", _lazy_packages(), ids=lambda p: p.parent.name)
def test_lazy_exports_match_their_imports(init: Path):
    """A package's lazily imported names (``_EXPORTS``) are the names it imports under
    ``TYPE_CHECKING`` (which the layers contract sees) and the names in ``__all__``."""
    tree = ast.parse(init.read_text())
    exports, imported, listed = {}, {}, set()
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == "_EXPORTS":
            exports = ast.literal_eval(node.value)
        elif isinstance(target, ast.Name) and target.id == "__all__":
            listed = set(ast.literal_eval(node.value))
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                imported |= {alias.name: imp.module for alias in imp.names}
    assert exports, f"{init}: no _EXPORTS table"
    assert imported == exports, f"{init}: _EXPORTS and the TYPE_CHECKING imports differ"
    assert listed == set(exports), f"{init}: __all__ and _EXPORTS differ"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    """The module an ``import from`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _never_run_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node under ``if TYPE_CHECKING:`` or ``if __name__ == "__main__":``
    (imports that never run when the module is imported)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        test = ast.unparse(node.test) if isinstance(node, ast.If) else ""
        if test.endswith("TYPE_CHECKING") or test == "__name__ == '__main__'":
            inside |= {id(sub) for stmt in node.body for sub in ast.walk(stmt)}
    return inside


def _private_uses(tree: ast.Module, module: str) -> list[str]:
    """``line name`` for each private name of another plugdata module that ``tree`` uses."""
    path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
    found, aliases = [], set()  # aliases: local names bound to another plugdata module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path)
            if not source.startswith("plugdata") or source == module:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{node.lineno} {alias.name}")
                aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name.startswith("plugdata") and a.asname}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    """``from plugdata.x import _name`` and ``x._name`` on another plugdata module are reach-ins:
    what modules share is public (dunder names aside)."""
    found = [
        f"{path.relative_to(ROOT)}:{use}"
        for path in _modules()
        for use in _private_uses(ast.parse(path.read_text(encoding="utf-8")), _module_name(path))
    ]
    assert not found, "private names of other modules used:\n" + "\n".join(found)


def _imported(node: ast.AST, module: str, path: Path, known: set[str]) -> set[str]:
    """The plugdata modules an import statement runs: ``from pkg import sub`` runs ``sub``
    (and ``pkg``, unless ``pkg`` is a package holding the importer, which runs first anyway)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    if not isinstance(node, ast.ImportFrom):
        return set()
    source = _absolute(node, module, path)
    found = {f"{source}.{alias.name}" for alias in node.names} & known
    if len(found) < len(node.names) or not module.startswith(f"{source}."):
        found.add(source)
    return found & known


def _import_graph() -> dict[str, set[str]]:
    """Each plugdata module -> the plugdata modules it imports when it runs: top-level and
    function-level imports; not ``TYPE_CHECKING`` or ``__main__`` imports (they never run on
    import), nor a lazy package's ``_EXPORTS`` table (read on first use of a name)."""
    paths = {_module_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped, found = _never_run_nodes(tree), set()
        for node in ast.walk(tree):
            if id(node) not in skipped:
                found |= _imported(node, module, path, set(paths))
        graph[module] = found - {module}
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_no_import_cycles():
    """No two plugdata modules import each other, directly or round a longer circle, at the top
    or inside a function (see :func:`_import_graph`): every strongly connected component of the
    import graph is one module."""
    graph = _import_graph()
    reach = {module: _reachable(graph, module) for module in graph}
    cycles = {
        tuple(sorted({module} | {other for other in reach[module] if module in reach[other]}))
        for module in graph
        if module in reach[module]
    }
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in sorted(cycles))


def test_the_import_checks_see_a_cycle_and_a_reach_in():
    """The checks above see a function-level import, its private names, and a circle."""
    code = "def f():\n    from plugdata.pipeline import stages\n    import plugdata.sink as s\n"
    tree = ast.parse(code + "    from . import _x\n    return s._y\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    known = {"plugdata.pipeline", "plugdata.pipeline.stages", "plugdata.config"}
    here = PACKAGE / "pipeline" / "build.py"
    assert _imported(node, "plugdata.pipeline.build", here, known) == {"plugdata.pipeline.stages"}
    assert _imported(node, "plugdata.config", PACKAGE / "config.py", known) == {
        "plugdata.pipeline",
        "plugdata.pipeline.stages",
    }
    assert _private_uses(tree, "plugdata.pipeline.build") == ["4 _x", "5 s._y"]
    graph = {"plugdata.a": {"plugdata.b"}, "plugdata.b": {"plugdata.a"}, "plugdata.c": set()}
    assert _reachable(graph, "plugdata.a") == {"plugdata.a", "plugdata.b"}
    assert _reachable(graph, "plugdata.c") == set()

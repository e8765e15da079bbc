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
MAX_FMT_SKIP = 3
MAX_NOQA_E501 = 8


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

"""Shared fixtures: the project's own OpenAI-compatible server on 127.0.0.1, and sample data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugdata.testing import FakeOpenAIServer

# Nothing in the tests may reach the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.pop("OPENAI_BASE_URL", None)
os.environ.pop("OPENAI_API_KEY", None)

RECORDS = [
    {"instruction": "Name a primary colour.", "input": "", "output": "Red."},
    {
        "instruction": "Explain the code.",
        "input": "```python\nprint('{name}')\n```",
        "output": "It prints the literal text `{name}`; see https://docs.python.org/3/.",
    },
    {"instruction": "Add the numbers.", "input": "2, 3", "output": "5"},
]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """A healthy server that tags every value with its target language."""
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def records() -> list[dict[str, str]]:
    return [dict(r) for r in RECORDS]


@pytest.fixture
def jsonl_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    return path


def seed_args(url: str, out: Path | str | None, *extra: str, targets: str = "zh") -> list[str]:
    """``plugdata build`` arguments: the seed corpus into ``targets`` through the stand-in
    server at ``url``, into ``out`` (no ``--out`` when None), then ``extra``."""
    args = ["build", "--source", "seed", "--targets", targets, "--model", "m", "--base-url", url]
    return [*args, *(["--out", str(out)] if out else []), *extra]


def seed_build_args(url: str, out: Path | None, *extra: str, concurrency: int = 4) -> list[str]:
    """:func:`seed_args` into zh and ko, unfiltered, ``concurrency`` requests at a time."""
    more = ["--concurrency", str(concurrency), "--no-filter", *extra]
    return seed_args(url, out, *more, targets="zh,ko")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    """Run the installed ``plugdata`` entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "plugdata.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=240,
    )


def one_line_error(result, code: int | None = None) -> str:
    """The single stderr line of a failed CLI run (no traceback); ``code`` checks the exit."""
    assert result.returncode != 0 if code is None else result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]

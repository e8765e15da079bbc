"""`plugdata eval` at the command line, end to end, and the README's offline comparison."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from plugdata.testing.server import FakeOpenAIServer

from .conftest import run_cli

README = Path(__file__).resolve().parents[1] / "README.md"


def _bench(folder: Path) -> Path:
    folder.mkdir()
    rows = [
        {"id": i, "dataset": "t", "instruction": t}
        for i, t in enumerate(["说出一种颜色。", "写一首诗。"])
    ]
    (folder / "zh.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return folder


def test_generate_judge_and_report_through_the_cli(tmp_path):
    bench = _bench(tmp_path / "bench")
    with FakeOpenAIServer(judge="longer") as srv:
        for fmt in ("plug", "mono"):
            result = run_cli(
                "eval",
                "generate",
                f"model-{fmt}",
                "--base-url",
                srv.url,
                "--format",
                fmt,
                "--langs",
                "zh",
                "--benchmark",
                str(bench),
                "--out",
                str(tmp_path / fmt),
            )
            assert result.returncode == 0, result.stderr
            assert "No training recipe found" in result.stderr  # said, not silent
        assert "label missing" in result.stdout and "zh" in result.stdout
        judged = tmp_path / "judged"
        result = run_cli(
            "eval",
            "judge",
            str(tmp_path / "plug"),
            str(tmp_path / "mono"),
            "--judge-model",
            "j",
            "--base-url",
            srv.url,
            "--out",
            str(judged),
        )
        assert result.returncode == 0, result.stderr
    # the fake model's replies have no PLUG labels: plug's answers are empty and lose to mono's
    report = json.loads((judged / "report.json").read_text())
    assert report["overall"]["n"] == 2 and report["overall"]["errors"] == 0
    assert report["overall"]["strict"] == {"win": 0, "tie": 0, "loss": 2}
    assert {p.name for p in judged.iterdir()} >= {
        "report.json",
        "report.md",
        "report.png",
        "judgments.jsonl",
        "cache.sqlite",
    }
    again = run_cli("eval", "report", str(judged))
    assert again.returncode == 0 and "overall" in again.stdout and "strict" in again.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "zh.jsonl").write_text('{"id": 1, "instruction": "x", "answer": "y"}\n')
    (tmp_path / "b" / "zh.jsonl").write_text('{"id": 2, "instruction": "x", "answer": "y"}\n')
    cases = [
        (
            [
                "eval",
                "judge",
                str(tmp_path / "a"),
                str(tmp_path / "b"),
                "--judge-model",
                "j",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--out",
                str(tmp_path / "o"),
            ],
            "zh missing from B: 1; zh missing from A: 2",
        ),
        (["eval", "report", str(tmp_path / "a")], "no report.json"),
        (
            [
                "eval",
                "generate",
                "m",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--benchmark",
                str(tmp_path / "nothing"),
                "--out",
                str(tmp_path / "g"),
            ],
            "no such file or folder",
        ),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert "Traceback" not in result.stderr and sum("error" in line for line in lines) == 1
        assert lines[-1].startswith("error: ") and message in lines[-1]


def _readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Evaluation: `plugdata eval`", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.DOTALL)[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def readme_comparison(tmp_path_factory):
    """The README's offline comparison, run once as written (on a free port)."""
    pytest.importorskip("trl")
    tmp_path = tmp_path_factory.mktemp("readme-eval")
    block = _readme_block().replace("8000", str(_free_port()))
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + block
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp_path, result


def test_the_readme_comparison_runs_offline(readme_comparison):
    tmp_path, result = readme_comparison
    for fmt in ("plug", "mono"):
        rows = (tmp_path / "answers" / fmt / "zh.jsonl").read_text().splitlines()
        assert len(rows) == 2
        meta = json.loads((tmp_path / "answers" / fmt / "generation.json").read_text())
        assert meta["recipe"]["format"] == fmt and meta["engine"] == "transformers"
        assert meta["recipe"]["sources"]["system_prompt"].endswith("config.yaml")
    report = json.loads((tmp_path / "results" / "plug-vs-mono" / "report.json").read_text())
    zh = report["languages"]["zh"]
    assert zh["n"] + zh["errors"] == 2 and sum(zh["strict"].values()) == zh["n"]
    assert "overall" in result.stdout
    lines = result.stdout.strip().splitlines()
    assert (
        lines[-1] == "Report: results/plug-vs-mono/report.html"
    )  # eval judge's, then eval report's
    assert lines.count(lines[-1]) == 2


def test_the_readme_comparison_page_in_a_browser(readme_comparison):
    from .browser import chromium, search

    tmp_path, _ = readme_comparison
    folder = tmp_path / "results" / "plug-vs-mono"
    report = json.loads((folder / "report.json").read_text())
    with (
        chromium(tmp_path / "chromium-profile") as browser,
        browser.open(folder / "report.html") as opened,
    ):
        from .browser import check_rates

        check_rates(opened, report)
        opened.page.click('button[role="tab"][data-lang="zh"]')
        cards = opened.visible_cards()
        assert [c["lang"] for c in cards] == ["zh", "zh"]
        assert [c["id"] for c in search(opened, "说出三种颜色")] == ["0"]
        assert "A shown first (ab)" in opened.page.inner_text("#language-view")
        assert not opened.errors and not opened.dialogs, opened.errors

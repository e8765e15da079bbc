"""Signals: Ctrl-C (SIGINT) and SIGTERM at any moment stop every command with one line and a
non-zero exit (130 and 143), after what completed is kept; the same command resumes."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plugdata.testing import FakeOpenAIServer
from plugdata.testing.batches import BatchFaults

from .conftest import run_cli, seed_build_args

CONCURRENCY = 4
TOTAL = 142  # requests of the seed corpus into zh and ko


def _args(url: str, out: Path, *extra: str) -> list[str]:
    return seed_build_args(url, out, *extra, concurrency=CONCURRENCY)


def _start(args: list[str], *, script: str | None = None) -> subprocess.Popen:
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "plugdata.cli"]
    return subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _in_main(proc: subprocess.Popen, limit: float = 5.0) -> None:
    """Wait until the CLI's entry point runs (it catches SIGTERM from then on), or ``limit``
    seconds: Python's own start-up and imports come before."""
    deadline = time.monotonic() + limit
    status = Path(f"/proc/{proc.pid}/status")
    while time.monotonic() < deadline and proc.poll() is None:
        caught = next(
            (line for line in status.read_text().splitlines() if line.startswith("SigCgt:")), ""
        )
        if caught and int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.01)


def _stop(proc: subprocess.Popen, sig: int) -> tuple[str, float]:
    """Send ``sig``; return stderr and how long the process took to exit."""
    proc.send_signal(sig)
    started = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    return stderr, time.monotonic() - started


def _our_lines(stderr: str) -> list[str]:
    """plugdata's own lines (a model library may draw progress bars on stderr too)."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith(("stopped:", "error:"))]


def _rows(path: Path) -> int:
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5])
@pytest.mark.parametrize(
    "sig, code, words",
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
def test_a_signal_in_the_first_seconds_is_one_line_and_non_zero(tmp_path, delay, sig, code, words):
    with FakeOpenAIServer(latency=10.0) as srv:  # nothing completes while the signal comes
        proc = _start(_args(srv.url, tmp_path / "run"))
        _in_main(proc)
        time.sleep(delay)
        stderr, took = _stop(proc, sig)
    assert proc.returncode == code, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"stopped: {words}"), (delay, stderr)
    assert "nothing was" in lines[0] and took < 15
    assert not (tmp_path / "run").exists()


def test_sigterm_keeps_paid_work_and_the_same_command_resumes(tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(latency=0.02) as srv:
        proc = _start(_args(srv.url, out))
        deadline = time.monotonic() + 60
        while len(srv.requests) < TOTAL // 3:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        stderr, took = _stop(proc, signal.SIGTERM)
        assert proc.returncode == 143 and took < 10, stderr
        (line,) = [line for line in stderr.splitlines() if line.strip()]
        assert (
            line.startswith("stopped: terminated (SIGTERM);")
            and "completed request(s) are kept" in line
        )
        assert "run the same command again to resume" in line
        first = len(srv.requests)
        resumed = run_cli(*_args(srv.url, out))
        assert resumed.returncode == 0, resumed.stderr
        second = len(srv.requests) - first
    assert first + second <= TOTAL + CONCURRENCY
    assert json.loads((out / "stats.json").read_text())["this_run"]["replayed_from_cache"] > 0


# An MT build whose model takes 30 s over every batch after the first (a big model on a CPU).
SLOW_MT = """
import sys, time
from plugdata.translate.mt import engines

batches = [0]
for cls in (engines.CT2Engine, engines.TransformersEngine):
    def slow(self, texts, lang, _translate=cls.translate):
        batches[0] += 1
        if batches[0] > 1:
            time.sleep(30)
        return _translate(self, texts, lang)
    cls.translate = slow
from plugdata.cli import main
sys.argv = ["plugdata", *sys.argv[1:]]
main()
"""


@pytest.fixture(scope="module")
def marian(tmp_path_factory) -> Path:
    from plugdata.sources import load_source
    from plugdata.testing.tiny import tiny_marian

    texts = [r["instruction"] + "\n" + r["output"] for r in load_source("seed").rows]
    return tiny_marian(tmp_path_factory.mktemp("mt") / "marian", texts)


def _mt_args(marian: Path, out: Path) -> list[str]:
    return [
        "build",
        "--source",
        "seed",
        "--targets",
        "it",
        "--translator",
        "mt",
        "--model",
        str(marian),
        "--limit",
        "20",
        "--no-filter",
        "--out",
        str(out),
    ]


def test_ctrl_c_during_a_long_mt_batch_stops_at_once_and_resumes(tmp_path, marian, monkeypatch):
    monkeypatch.setenv("PLUGDATA_CACHE", str(tmp_path / "ct2"))
    out = tmp_path / "run"
    proc = _start(_mt_args(marian, out), script=SLOW_MT)
    cache = tmp_path / ".run.partial" / "cache.sqlite"
    deadline = time.monotonic() + 120
    while _rows(cache) == 0:  # the first batch is in the cache; the second takes 30 s
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    stderr, took = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130 and took < 5, (took, stderr)
    (line,) = _our_lines(stderr)
    kept = _rows(cache)
    assert f"stopped: interrupted; {kept} translated sentence(s) are kept" in line, line
    resumed = run_cli(*_mt_args(marian, out), env={"PLUGDATA_CACHE": str(tmp_path / "ct2")})
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "stats.json").read_text())["totals"]["cached"] > 0


def test_ctrl_c_while_an_mt_build_starts_is_one_line_and_130(tmp_path, marian, monkeypatch):
    monkeypatch.setenv("PLUGDATA_CACHE", str(tmp_path / "ct2"))
    proc = _start(_mt_args(marian, tmp_path / "run"), script=SLOW_MT)
    _in_main(proc)
    time.sleep(1.0)
    stderr, _ = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130, stderr
    (line,) = _our_lines(stderr)
    assert line.startswith("stopped: interrupted") and "nothing was" in line


def test_ctrl_c_while_batches_wait_says_they_run_on_and_how_to_collect_them(tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(batch_faults=BatchFaults(delay=60.0)) as srv:
        proc = _start(
            [
                "build",
                "--source",
                "seed",
                "--targets",
                "zh",
                "--model",
                "gpt-4o-mini",
                "--base-url",
                srv.url,
                "--out",
                str(out),
                "--no-filter",
                "--batch-api",
                "--batch-poll",
                "0.05",
            ]
        )
        deadline = time.monotonic() + 60
        while not srv.batches.created:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        time.sleep(0.3)
        stderr, _ = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130, stderr
    (line,) = _our_lines(stderr)  # (after the batches' status lines)
    assert "71 request(s) wait in Batch API batches still running on the server" in line, line
    assert (
        f"plugdata batches {out}" in line and "run the same command again to collect them" in line
    )


def _answers(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    rows = [
        {"id": str(i), "instruction": f"说出{i}种颜色。", "answer": "红色" * (i + 1)}
        for i in range(n)
    ]
    (folder / "zh.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    )
    return folder


def test_ctrl_c_during_eval_judge_keeps_the_replies_and_resumes(tmp_path):
    a, b = _answers(tmp_path / "a", 20), _answers(tmp_path / "b", 20)
    out = tmp_path / "judged"
    with FakeOpenAIServer(judge="first", latency=0.05) as srv:
        args = [
            "eval",
            "judge",
            str(a),
            str(b),
            "--judge-model",
            "j",
            "--base-url",
            srv.url,
            "--out",
            str(out),
            "--concurrency",
            "2",
        ]
        proc = _start(args)
        deadline = time.monotonic() + 60
        while len(srv.requests) < 10:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        stderr, _ = _stop(proc, signal.SIGINT)
        assert proc.returncode == 130, stderr
        (line,) = _our_lines(stderr)
        assert "judge reply(ies) are kept in" in line and "run the same command again" in line
        sent = len(srv.requests)
        again = run_cli(*args)
        assert again.returncode == 0, again.stderr
    assert len(srv.requests) - sent < 40  # the replies kept were not asked again


def test_ctrl_c_during_training_points_to_resume(tmp_path, monkeypatch):
    import plugdata.train as train
    from plugdata.errors import Interrupted

    def interrupted(args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "run", interrupted)
    with pytest.raises(Interrupted, match=r"checkpoints saved so far stay in .*--resume") as info:
        train.main(["--data", "d", "--model", "m", "--out", str(tmp_path), "--langs", "zh"])
    assert info.value.exit_code == 130

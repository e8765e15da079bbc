"""Crash safety of `plugdata build`: kill, Ctrl-C, spending cap, dry run, locking."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from plugdata.errors import PlugdataError
from plugdata.publish import RunDirectory
from plugdata.testing import FakeOpenAIServer, fault_mix

from .conftest import run_cli, seed_build_args

CONCURRENCY = 4


def _args(url: str, out: Path | None, *extra: str) -> list[str]:
    return seed_build_args(url, out, *extra, concurrency=CONCURRENCY)


def _start(args: list[str], cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "plugdata.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(server: FakeOpenAIServer, n: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while len(server.requests) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build never got going"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> tuple[int, pl.DataFrame]:
    """How many requests a clean build sends, and its pairs."""
    out = tmp_path_factory.mktemp("clean") / "run"
    with FakeOpenAIServer() as srv:
        result = run_cli(*_args(srv.url, out))
        assert result.returncode == 0, result.stderr
        return len(srv.requests), pl.read_parquet(out / "pairs.parquet")


def _same_pairs(out: Path, clean: pl.DataFrame) -> None:
    pairs = pl.read_parquet(out / "pairs.parquet")
    cols = ["id", "target_lang", "target_instruction", "target_input", "target_output", "kept"]
    assert pairs.select(cols).equals(clean.select(cols))


def test_sigkill_then_rerun_resends_at_most_the_requests_in_flight(tmp_path, clean_run):
    total, clean = clean_run
    out = tmp_path / "run"
    with FakeOpenAIServer(latency=0.02) as srv:
        proc = _start(_args(srv.url, out))
        _wait_for(srv, total // 3, proc)
        proc.kill()
        proc.communicate()
        first = len(srv.requests)
        assert not out.exists() and (tmp_path / ".run.partial" / "cache.sqlite").exists()
        result = run_cli(*_args(srv.url, out))
        assert result.returncode == 0, result.stderr
        second = len(srv.requests) - first
    assert first + second <= total + CONCURRENCY
    assert second < total
    _same_pairs(out, clean)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["this_run"]["resumed"] and stats["this_run"]["requests_sent"] == second
    assert not (tmp_path / ".run.partial").exists()


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, clean_run):
    total, clean = clean_run
    out = tmp_path / "run"
    with FakeOpenAIServer(latency=0.02) as srv:
        proc = _start(_args(srv.url, out))
        _wait_for(srv, total // 4, proc)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = proc.communicate(timeout=20)
        assert time.monotonic() - started < 5
        assert proc.returncode == 130, stderr
        assert "run the same command again to resume" in stderr and "Traceback" not in stderr
        first = len(srv.requests)
        result = run_cli(*_args(srv.url, out))
        assert result.returncode == 0, result.stderr
        second = len(srv.requests) - first
    assert first + second <= total + CONCURRENCY
    _same_pairs(out, clean)


def test_default_output_folder_is_found_again_on_resume(tmp_path, clean_run):
    total, clean = clean_run
    with FakeOpenAIServer(latency=0.02) as srv:
        proc = _start(_args(srv.url, None), cwd=tmp_path)
        _wait_for(srv, total // 3, proc)
        proc.kill()
        proc.communicate()
        (partial,) = (tmp_path / "corpora").glob(".seed-*.partial")
        result = run_cli(*_args(srv.url, None), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    # redone: the requests in flight, and the replies a kill caught in the cache writer's queue
    # (written within milliseconds, a few more on a loaded machine); a resume that lost the
    # folder would redo a third of them
    assert len(srv.requests) <= total + 2 * CONCURRENCY
    _same_pairs(tmp_path / "corpora" / partial.name[1 : -len(".partial")], clean)


def test_thirty_percent_faults_end_to_end(tmp_path, clean_run):
    _, clean = clean_run
    out = tmp_path / "run"
    with FakeOpenAIServer(fault=fault_mix(0.3, seed=3)) as srv:
        result = run_cli(*_args(srv.url, out, "--backoff", "0.001"))
    assert result.returncode == 0, result.stderr
    pairs = pl.read_parquet(out / "pairs.parquet")
    assert pairs.height == clean.height and pairs.select("id", "target_lang").is_unique().all()
    rejected = pairs.filter(~pl.col("kept"))
    assert rejected.filter(pl.col("reasons").list.len() == 0).height == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["totals"]["kept"] + stats["totals"]["rejected"] == clean.height
    assert stats["totals"]["kept"] >= 0.95 * clean.height


def test_rerun_with_overwrite_replays_the_finished_run(tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer() as srv:
        assert run_cli(*_args(srv.url, out, "--limit", "5")).returncode == 0
        sent = len(srv.requests)
        result = run_cli(*_args(srv.url, out, "--limit", "5", "--overwrite", "--formats", "mono"))
        assert result.returncode == 0, result.stderr
        assert len(srv.requests) == sent and "Replayed" in result.stdout
    assert (out / "mono" / "ko.parquet").exists() and not (out / "plug").exists()


def test_dry_run_sends_and_writes_nothing(tmp_path):
    with FakeOpenAIServer() as srv:
        result = run_cli(*_args(srv.url, tmp_path / "run", "--dry-run"), cwd=tmp_path)
        assert srv.requests == []
    assert result.returncode == 0, result.stderr
    assert "Dry run: 71 records" in result.stdout and "unknown" in result.stdout
    assert list(tmp_path.iterdir()) == []
    priced = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "zh",
        "--model",
        "gpt-4o-mini",
        "--dry-run",
        "--api-key",
        "x",
    )
    line = next(x for x in priced.stdout.splitlines() if "total" in x)
    assert float(line.split()[-2 if line.endswith("│") else -1].strip("│ ")) > 0


def test_max_cost_stops_and_a_larger_cap_finishes(tmp_path, clean_run):
    total, clean = clean_run
    out = tmp_path / "run"
    price = ["--price-in", "1000", "--price-out", "1000", "--concurrency", "1"]
    with FakeOpenAIServer() as srv:
        capped = run_cli(*_args(srv.url, out, *price, "--max-cost", "2"))
        assert capped.returncode == 3
        assert "spending cap reached" in capped.stderr and "raise the cap" in capped.stderr
        first = len(srv.requests)
        assert 0 < first < total
        # The cap is the run's total across resumes: the same cap again sends nothing.
        again = run_cli(*_args(srv.url, out, *price, "--max-cost", "2"))
        assert again.returncode == 3 and "before this attempt" in again.stderr
        assert len(srv.requests) == first
        done = run_cli(*_args(srv.url, out, *price, "--max-cost", "1000"))
        assert done.returncode == 0, done.stderr
        assert len(srv.requests) == total
    config = (out / "config.yaml").read_text()
    assert "cost_usd:" in config and "max_cost: 1000.0" in config
    _same_pairs(out, clean)


def test_two_processes_cannot_write_one_run(tmp_path):
    with (
        RunDirectory(tmp_path / "run"),
        pytest.raises(PlugdataError, match="another plugdata process"),
    ):
        RunDirectory(tmp_path / "run").__enter__()
    with RunDirectory(tmp_path / "run") as again:  # the lock goes with its holder
        assert again.resumed


def test_a_resume_that_fails_before_sending_keeps_the_paid_cache(tmp_path):
    out = tmp_path / "run"
    price = ["--price-in", "1000", "--price-out", "1000", "--concurrency", "1"]
    with FakeOpenAIServer() as srv:
        capped = run_cli(*_args(srv.url, out, *price, "--max-cost", "2"))
        assert capped.returncode == 3
    staging = tmp_path / ".run.partial"
    paid = (staging / "cache.sqlite").stat().st_size
    # The same recipe with no server and no key fails at once; the paid replies stay.
    args = [a for a in _args("unused", out, *price) if a not in ("--base-url", "unused")]
    failed = run_cli(*args)
    assert failed.returncode == 2 and "no API key" in failed.stderr
    assert staging.is_dir() and (staging / "cache.sqlite").stat().st_size >= paid

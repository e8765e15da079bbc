"""Paid work is never lost silently: a request cache whose writes fail stops the run at once
(and keeps what was written), and replies replayed from the cache keep what they cost."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

import plugdata.translate.cache as cache_module
from plugdata.errors import PlugdataError
from plugdata.testing import FakeOpenAIServer
from plugdata.translate.cache import CachedReply, RequestCache

from .conftest import run_cli, seed_build_args

# The CLI in a fresh process whose request cache lives on a "disk" that fills up after a few
# dozen replies: SQLite's own max_page_count gives the real "database or disk is full" error.
FULL_DISK = """
import sys
import plugdata.translate.cache as cache

opened = cache._open

def tiny_disk(path):
    db = opened(path)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 6}")
    return db

cache._open = tiny_disk
from plugdata.cli import main
sys.argv = ["plugdata", *sys.argv[1:]]
main()
"""


def _args(url: str, out: Path) -> list[str]:
    return seed_build_args(url, out)


def _stored(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])


def test_a_full_disk_stops_the_build_in_seconds_keeps_what_was_written_and_resumes(tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(latency=0.01) as srv:
        started = time.monotonic()
        failed = subprocess.run(
            [sys.executable, "-c", FULL_DISK, *_args(srv.url, out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
        sent = len(srv.requests)
        assert failed.returncode == 2, failed.stderr
        lines = [line for line in failed.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in failed.stderr, failed.stderr
        assert "cannot write the request cache" in lines[0] and "disk is full" in lines[0]
        assert "run the same command again to resume" in lines[0]
        assert took < 30 and sent < 142  # stopped at once, not after every request was paid
        cache = tmp_path / ".run.partial" / "cache.sqlite"
        kept = _stored(cache)
        assert kept > 0 and f"{kept} completed request(s) are kept" in lines[0]
        resumed = run_cli(*_args(srv.url, out))
        assert resumed.returncode == 0, resumed.stderr
        again = len(srv.requests) - sent
    assert again <= 142 - kept  # everything that was written is replayed, not paid again
    stats = json.loads((out / "stats.json").read_text())
    assert stats["this_run"]["replayed_from_cache"] == kept
    assert pl.read_parquet(out / "pairs.parquet").height == 142


class _FailingWrites:
    """A connection whose batched writes fail, as a full disk makes them."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def executemany(self, *args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


@pytest.mark.timeout(30)
def test_a_failed_write_reaches_every_caller_and_nothing_hangs(tmp_path, monkeypatch):
    module = cache_module
    path = tmp_path / "cache.sqlite"
    with RequestCache(path) as cache:
        cache.put("c" * 64, CachedReply("written", "stop", 1, 1, 0.5))
    opened = module._open
    monkeypatch.setattr(module, "_open", lambda p: _FailingWrites(opened(p)))
    cache = RequestCache(path)
    cache.put("a" * 64, CachedReply("lost", "stop", 1, 1, 0.25))
    with pytest.raises(PlugdataError, match="disk is full"):
        cache.flush()  # returns at once with the error, instead of waiting for ever
    assert len(cache) == 1 and cache.total_cost() == 0.5  # what is on disk, without hanging
    with pytest.raises(PlugdataError):
        cache.put("b" * 64, CachedReply("more", "stop", 1, 1, 0.0))
    with pytest.raises(PlugdataError):
        cache.get("c" * 64)
    cache.close()  # told already: closing does not raise again
    with RequestCache(path) as again:
        assert again.get("c" * 64) is not None and again.get("a" * 64) is None


@pytest.mark.timeout(30)
def test_a_failed_write_nobody_was_told_about_is_raised_on_close(tmp_path, monkeypatch):
    module = cache_module
    opened = module._open
    monkeypatch.setattr(module, "_open", lambda p: _FailingWrites(opened(p)))
    cache = RequestCache(tmp_path / "cache.sqlite")
    cache.put("a" * 64, CachedReply("lost", "stop", 1, 1, 0.0))
    with pytest.raises(PlugdataError, match="cannot write the request cache"):
        cache.close()


def test_an_unreadable_cache_file_is_one_clear_error(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(PlugdataError, match=r"cannot open the request cache .*cache\.sqlite"):
        RequestCache(path)


def test_a_cache_over_a_base_reads_both_and_merges_into_the_base(tmp_path):
    """The Ray executor's actor caches: misses are read from the run's cache (never written),
    and merging them back adds each reply once, keeping the one stored first."""
    base, own = tmp_path / "cache.sqlite", tmp_path / "actor.sqlite"
    with RequestCache(base) as run:
        run.put("a" * 64, CachedReply("from the run", "stop", 1, 1, 0.5))
    with RequestCache(own, base=base) as actor:
        assert actor.get("a" * 64).content == "from the run"
        assert asyncio.run(actor.aget("a" * 64)).content == "from the run"
        assert actor.get("b" * 64) is None
        actor.put("b" * 64, CachedReply("paid here", "stop", 2, 3, 0.25))
        actor.put("a" * 64, CachedReply("paid twice", "stop", 1, 1, 0.5))
        assert len(actor) == 2 and actor.total_cost() == 0.75  # its own file, not the base
    with RequestCache(base) as run:
        assert run.merge_from(own) == 1 and run.merge_from(own) == 0
        assert len(run) == 2 and run.total_cost() == 0.75
        assert run.get("a" * 64).content == "from the run"
        assert run.get("b" * 64) == CachedReply("paid here", "stop", 2, 3, 0.25)


def test_batch_replies_replayed_on_resume_keep_their_price_and_are_counted_once(
    tmp_path, monkeypatch
):
    from plugdata import build
    from plugdata.translate.batch import Ledger

    out = tmp_path / "run"
    saved = Ledger.save

    def stop_once_collected(self: Ledger) -> None:
        # A run stopped (a kill, a crash) after a batch's replies went into the request cache
        # and before its shard was marked collected: the next run collects that batch again.
        if any(shard.collected for shard in self.shards.values()):
            raise RuntimeError("stopped between storing the replies and the ledger")
        saved(self)

    with FakeOpenAIServer() as srv:
        config = {
            "source": "seed",
            "targets": ["zh"],
            "model": "gpt-4o-mini",
            "base_url": srv.url,
            "out": out,
            "filters": [],
            "batch_api": True,
            "batch_poll": 0.05,
            "batch_max_requests": 30,
        }
        monkeypatch.setattr(Ledger, "save", stop_once_collected)
        with pytest.raises(RuntimeError, match="stopped between"):
            build(config)
        monkeypatch.setattr(Ledger, "save", saved)
        paid_before = RequestCache(tmp_path / ".run.partial" / "cache.sqlite")
        earlier, stored = paid_before.total_cost(), len(paid_before)
        paid_before.close()
        assert 0 < stored < 71 and earlier > 0
        result = build(config)
    pairs = pl.read_parquet(out / "pairs.parquet")
    batch_price = (pairs["prompt_tokens"] * 0.15 + pairs["completion_tokens"] * 0.60) / 2e6
    assert (pairs["cost_usd"] - batch_price).abs().max() < 1e-12  # replayed ones too
    assert pairs["cached"].sum() >= stored
    with RequestCache(out / "cache.sqlite") as cache:
        paid = cache.total_cost()
    run = result.stats["this_run"]
    assert run["run_total_cost_usd"] == pytest.approx(paid, abs=1e-6)  # each reply once
    assert run["cost_usd"] == pytest.approx(paid - earlier, abs=1e-6)
    assert result.stats["totals"]["cost_usd"] == pytest.approx(paid, abs=1e-6)

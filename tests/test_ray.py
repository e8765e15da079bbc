"""``--executor ray`` on a real single-node Ray: the same run directory as a local build."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from plugdata import BuildConfig, build
from plugdata.errors import ServerError
from plugdata.sources import open_source
from plugdata.testing import FakeOpenAIServer
from plugdata.testing.faults import Fault
from plugdata.testing.tiny import tiny_marian

ray = pytest.importorskip("ray", reason="pip install 'plugdata[ray]'")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ray's own
SEED = Path(__file__).resolve().parents[1] / "corpora" / "seed" / "seed.jsonl"


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory) -> Iterator[None]:
    """One real local Ray for the module (workers inherit the environment set here)."""
    os.environ["PLUGDATA_CACHE"] = str(tmp_path_factory.mktemp("plugdata-cache"))
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _config(out: Path, **options: Any) -> BuildConfig:
    return BuildConfig(
        source="seed",
        limit=10,
        chunk_size=3,
        seed=0,
        out=out,
        lid_backend="langdetect",
        formats=["plug", "mono", "multilingual"],
        **options,
    )


def _same_run(local: Path, on_ray: Path) -> None:
    """Every table equal (ids, target texts, verdicts, formatted rows), and the same counts."""
    tables = sorted(str(p.relative_to(local)) for p in local.rglob("*.parquet"))
    assert tables == sorted(str(p.relative_to(on_ray)) for p in on_ray.rglob("*.parquet"))
    assert {"pairs.parquet", "rejected.parquet"} <= set(tables)
    assert any(name.startswith("multilingual/") for name in tables)
    for name in tables:
        _equal(pl.read_parquet(local / name), pl.read_parquet(on_ray / name), name)
    stats = [json.loads((d / "stats.json").read_text()) for d in (local, on_ray)]
    for key in ("totals", "formats", "filters", "languages"):
        assert stats[0].get(key) == stats[1].get(key), key
    assert sorted(p.name for p in local.iterdir()) == sorted(p.name for p in on_ray.iterdir())
    assert "executor: ray" in (on_ray / "config.yaml").read_text()


def _equal(a: pl.DataFrame, b: pl.DataFrame, name: str) -> None:
    """Equal frames; language-ID probabilities to 1e-9 (they differ in the last bits between
    two local builds too)."""
    lid = [c for c in a.columns if c.startswith("lid_")]
    assert a.drop(lid).equals(b.drop(lid)), name
    for c in lid:
        assert ((a[c] - b[c]).abs().fill_null(0) < 1e-9).all() and a[c].is_null().equals(
            b[c].is_null()
        ), c


def test_llm_on_ray_equals_a_local_build(ray_session, server, tmp_path):
    options = {"targets": "zh,ko", "model": "m", "base_url": server.url}
    local = build(_config(tmp_path / "local", **options))
    sent = len(server.requests)
    on_ray = build(_config(tmp_path / "ray", executor="ray", ray_actors=2, **options))
    assert len(server.requests) == 2 * sent  # each build paid once, nothing twice
    _same_run(local.out, on_ray.out)
    assert on_ray.stats["ray"] == {"actors": 2, "shards": 4, "reused_shards": 0}
    assert on_ray.stats["this_run"]["requests_sent"] == sent
    assert not list(tmp_path.glob(".*partial"))


def test_tiny_mt_model_on_ray_equals_a_local_build(ray_session, tmp_path):
    texts = [
        v
        for line in SEED.read_text(encoding="utf-8").splitlines()
        for k, v in json.loads(line).items()
        if k in ("instruction", "input", "output") and v
    ]
    model = tiny_marian(tmp_path / "marian", texts)
    options = {"targets": "it", "translator": "mt", "model": str(model)}
    local = build(_config(tmp_path / "local", **options))
    on_ray = build(_config(tmp_path / "ray", executor="ray", **options))
    _same_run(local.out, on_ray.out)
    pairs = pl.read_parquet(on_ray.out / "pairs.parquet")
    assert set(pairs["backend"]) == {"mt"} and pairs["target_output"].null_count() == 0
    assert "model_licences" in (on_ray.out / "config.yaml").read_text()


def _fail_on(instruction: str):
    """A fault function: a fatal 403 for every request about one record."""

    def fault(body: dict[str, Any], count: int) -> Fault | None:
        text = json.dumps(body.get("messages"), ensure_ascii=False)
        return Fault(403) if json.dumps(instruction, ensure_ascii=False)[1:-1] in text else None

    return fault


def test_a_rerun_after_a_failure_reuses_finished_shards(ray_session, tmp_path):
    rows = [row for chunk in open_source("seed", limit=10, seed=0).chunks(3) for row in chunk]
    with FakeOpenAIServer() as srv:
        options = {"targets": "zh,ko", "model": "m", "base_url": srv.url}
        clean = build(_config(tmp_path / "clean", **options))
        srv.requests.clear()
        srv.fault = _fail_on(rows[7]["instruction"])  # shard 2 of 4 (rows 6-8) fails
        config = _config(tmp_path / "ray", executor="ray", ray_actors=1, **options)
        with pytest.raises(ServerError, match=r"refused access \(403\).*request\(s\) are kept"):
            build(config)
        shards = sorted((tmp_path / ".ray.partial" / "ray" / "chunks-3").glob("shard-*.parquet"))
        assert [p.name for p in shards][:2] == ["shard-00000.parquet", "shard-00001.parquet"]
        assert "shard-00002.parquet" not in [p.name for p in shards]
        finished = sum(pl.read_parquet(p).height for p in shards)
        srv.fault = None
        srv.requests.clear()
        again = build(config)
    this_run, reused = again.stats["this_run"], again.stats["ray"]["reused_shards"]
    assert reused == len(shards) >= 2
    # Only the shards not finished were translated again: none of the reused rows was asked.
    redone = 10 * 2 - finished
    assert this_run["requests_sent"] + this_run["replayed_from_cache"] == redone
    assert this_run["replayed_from_cache"] > 0  # what the failed shard paid is not paid again
    assert len(srv.requests) == this_run["requests_sent"]
    _same_run_pairs(clean.out, again.out)


def _same_run_pairs(local: Path, on_ray: Path) -> None:
    cols = [
        "id",
        "target_lang",
        "target_instruction",
        "target_input",
        "target_output",
        "kept",
        "reasons",
    ]
    for name in ("pairs.parquet", "plug/zh.parquet", "multilingual/ko.parquet"):
        a, b = pl.read_parquet(local / name), pl.read_parquet(on_ray / name)
        a, b = (a.select(cols), b.select(cols)) if name == "pairs.parquet" else (a, b)
        assert a.equals(b), name

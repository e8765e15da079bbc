"""The Batch API as it fails in real life: enqueued-token limits, batches that fail
validation, downloads cut mid-stream, result files deleted after 30 days, a create that
succeeds and then answers 500, and lookups that hit 5xx or list in another order."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from plugdata import build
from plugdata.errors import PlugdataError
from plugdata.pipeline import batch_ledgers
from plugdata.testing import FakeOpenAIServer
from plugdata.testing.batches import BatchFaults
from plugdata.translate.batch import BatchesPending, Ledger

from .conftest import run_cli, seed_args
from .test_batch import _config as _full_config
from .test_batch import _pairs, _translate

LIMIT = 24  # seed records: 48 requests, ~17K prompt tokens


def _config(url: str, out: Path, **extra) -> dict:
    return _full_config(url, out, limit=LIMIT, batch_inflight=512, **extra)


@pytest.fixture(scope="module")
def live_pairs(tmp_path_factory):
    """The same recipe through the live API: what every batch build must equal."""
    out = tmp_path_factory.mktemp("live") / "run"
    with FakeOpenAIServer() as srv:
        build({**_config(srv.url, out), "batch_api": False})
    return _pairs(out)


def _cost_of_rows(out: Path) -> float:
    import polars as pl

    return float(pl.read_parquet(out / "pairs.parquet")["cost_usd"].sum())


def test_a_persistent_token_limit_holds_and_splits_shards_and_keeps_every_row(tmp_path, live_pairs):
    # 48 requests, ~17K prompt tokens; the model takes 6,000 enqueued at once.
    faults = BatchFaults(token_limit=6_000, delay=0.1)
    lines: list[str] = []
    with FakeOpenAIServer(batch_faults=faults) as srv:
        result = build(_config(srv.url, tmp_path / "run"), on_status=lines.append)
        assert _pairs(result.out).equals(live_pairs)  # every row kept
        assert max(srv.batches.seen.values()) == 1  # no request ran (or was billed) twice
        ran = [b for b in srv.batches.batches.values() if b["status"] == "completed"]
        assert len({b["input_file_id"] for b in ran}) == len(ran) > 1
    assert any("token_limit_exceeded" in line for line in lines)
    assert result.stats["this_run"]["cost_usd"] == pytest.approx(
        _cost_of_rows(result.out), abs=2e-6
    )


def test_batch_max_tokens_sizes_shards_so_none_fails(tmp_path, live_pairs):
    faults = BatchFaults(token_limit=8_000, delay=0.1)
    with FakeOpenAIServer(batch_faults=faults) as srv:
        result = build(_config(srv.url, tmp_path / "run", batch_max_tokens=8_000))
        assert _pairs(result.out).equals(live_pairs)
        statuses = [b["status"] for b in srv.batches.batches.values()]
    assert "failed" not in statuses and len(statuses) > 1


def test_a_batch_that_fails_validation_is_final_and_the_run_is_not_committed(tmp_path, live_pairs):
    faults = BatchFaults(fail=1.0, fail_code="model_not_found", repeat=True)
    out = tmp_path / "run"
    with FakeOpenAIServer(batch_faults=faults) as srv:
        with pytest.raises(PlugdataError, match="model_not_found") as failed:
            build(_config(srv.url, out))
        assert "not committed" in str(failed.value) and "\n" not in str(failed.value)
        created = srv.batches.created
        assert not out.exists() and len(created) == len(set(created))  # none resubmitted unchanged
        shards = batch_ledgers(out)["translate"].shards.values()
        assert all(s.status == "failed" and "model_not_found" in s.error for s in shards)
        kept = tmp_path / ".run.partial" / "batches" / "translate"
        assert all((kept / f"{s.name}.jsonl").is_file() for s in shards)  # the shards are kept
        faults.fail = 0.0  # the cause is fixed: the same command finishes the run
        result = build(_config(srv.url, out))
        assert _pairs(result.out).equals(live_pairs)


def test_the_cli_exits_non_zero_when_rows_failed_at_the_batch_level(tmp_path):
    faults = BatchFaults(fail=1.0, fail_code="invalid_json_line", repeat=True)
    with FakeOpenAIServer(batch_faults=faults) as srv:
        done = run_cli(
            *seed_args(srv.url, str(tmp_path / "run")),
            "--no-filter",
            "--batch-api",
            "--batch-poll",
            "0.05",
            "--limit",
            "10",
            "--batch-inflight",
            "512",
        )
    assert done.returncode == 2, done.stderr
    assert "failed at the batch level" in done.stderr and "invalid_json_line" in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_download_cut_mid_stream_is_retried_and_nothing_is_counted_twice(tmp_path, live_pairs):
    with FakeOpenAIServer(batch_faults=BatchFaults(cut_downloads=2)) as srv:
        result = build(_config(srv.url, tmp_path / "run"))
        assert srv.batches.calls["download"] >= 3  # two cut, then whole
        assert _pairs(result.out).equals(live_pairs)
    assert result.stats["this_run"]["requests_sent"] == 2 * LIMIT
    assert result.stats["this_run"]["cost_usd"] == pytest.approx(
        _cost_of_rows(result.out), abs=2e-6
    )


def test_an_output_file_deleted_before_collection_resends_its_requests(tmp_path, live_pairs):
    faults = BatchFaults(delay=0.2, output_ttl=0.6)
    lines: list[str] = []
    with FakeOpenAIServer(batch_faults=faults) as srv:
        config = _config(srv.url, tmp_path / "run", batch_detach=True)
        with pytest.raises(BatchesPending):
            build(config)
        time.sleep(1.2)  # the batch ran and its result file is gone (404), as after 30 days
        result = build({**config, "batch_detach": False}, on_status=lines.append)
        assert _pairs(result.out).equals(live_pairs)
        assert len(srv.batches.created) == 2  # the lost batch, then its requests once more
    assert any("no longer on the server" in line for line in lines)


def test_collection_warns_when_result_files_are_near_expiry_and_output_expiry_is_passed(tmp_path):
    with FakeOpenAIServer(batch_faults=BatchFaults(output_ttl=2 * 86400)) as srv:
        lines: list[str] = []
        build(_config(srv.url, tmp_path / "run", batch_output_expiry=7200), on_status=lines.append)
        (batch,) = srv.batches.batches.values()
    assert batch["output_expires_after"] == {"anchor": "created_at", "seconds": 7200}
    assert any("expire" in line and "days" in line for line in lines), lines


def test_a_create_that_succeeds_and_then_answers_500_is_adopted_not_made_twice(
    tmp_path, live_pairs
):
    with FakeOpenAIServer(batch_faults=BatchFaults(create_500=1)) as srv:
        result = build(_config(srv.url, tmp_path / "run"))
        assert _pairs(result.out).equals(live_pairs)
        assert len(srv.batches.created) == 1 and max(srv.batches.seen.values()) == 1


def _killed_run(folder: Path, srv: FakeOpenAIServer, first: Path, keep_file_id: bool) -> None:
    """Forge what a kill leaves: the shard recorded and submitted, the ledger written before
    the batch id (and, unless ``keep_file_id``, before the file id) came back."""
    ledger = Ledger(first)
    shard = next(iter(ledger.shards.values()))
    shard.collected, shard.batch_id, shard.status = False, None, "uploaded"
    if not keep_file_id:
        shard.file_id, shard.status = None, "written"
    copy = Ledger(folder)
    copy.shards = {shard.name: shard}
    copy.save()
    lines = b"".join(
        json.dumps(
            {"custom_id": k, "method": "POST", "url": "/v1/chat/completions", "body": {}}
        ).encode()
        + b"\n"
        for k in srv.batches.seen
    )
    copy.shard_path(shard).write_bytes(lines)


ROWS = [{"instruction": f"Count to {i}.", "input": "", "output": f"{i}"} for i in range(5)]


def test_lookups_of_a_killed_runs_upload_and_batch_are_retried_on_5xx(tmp_path):
    with FakeOpenAIServer() as srv:
        first = asyncio.run(_translate(srv.url, tmp_path, ROWS))
        for n, keep in enumerate((True, False)):
            _killed_run(tmp_path / f"killed{n}" / "batches", srv, tmp_path / "batches", keep)
            srv.batches.faults.list_errors = srv.batches.calls["list"] + 2  # the next two: 503
            again = asyncio.run(_translate(srv.url, tmp_path / f"killed{n}", ROWS))
            assert [o.fields for o in again] == [o.fields for o in first]
        assert len(srv.batches.created) == 1


def test_a_killed_runs_batch_is_found_whatever_order_the_list_comes_in(tmp_path):
    with FakeOpenAIServer(batch_faults=BatchFaults(list_order="asc")) as srv:
        first = asyncio.run(_translate(srv.url, tmp_path, ROWS))
        old = {
            **next(iter(srv.batches.batches.values())),
            "id": "batch_000000",
            "input_file_id": "file-000000",
            "created_at": int(time.time()) - 2 * 86400,
        }
        srv.batches.batches["batch_000000"] = old  # an old batch of the account, listed first
        _killed_run(tmp_path / "killed" / "batches", srv, tmp_path / "batches", True)
        again = asyncio.run(_translate(srv.url, tmp_path / "killed", ROWS))
        assert [o.fields for o in again] == [o.fields for o in first]
        assert len(srv.batches.created) == 1

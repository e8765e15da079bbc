"""The Batch API path: shards, the ledger, expiry, failure, error lines, detach and kill -9,
against the project's own server (its /v1/files and /v1/batches)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import polars as pl
import pytest

from plugdata import build
from plugdata.errors import PlugdataError
from plugdata.languages import get_language
from plugdata.pipeline import batch_ledgers, estimate
from plugdata.publish.hub import upload_files
from plugdata.testing import FakeOpenAIServer
from plugdata.testing.batches import BatchFaults
from plugdata.testing.faults import Fault
from plugdata.translate.batch import BatchChatClient, BatchesPending, Ledger
from plugdata.translate.llm import LLMTranslator
from plugdata.translate.pricing import BudgetExceeded

from .conftest import run_cli

EN, ZH = get_language("en"), get_language("zh")
COLS = ["id", "target_lang", "target_instruction", "target_input", "target_output", "kept"]


def _config(url: str, out: Path, **extra) -> dict:
    return {
        "source": "seed",
        "targets": ["zh", "ko"],
        "model": "gpt-4o-mini",
        "base_url": url,
        "out": out,
        "filters": [],
        "batch_api": True,
        "batch_poll": 0.05,
        **extra,
    }


@pytest.fixture(scope="module")
def live_pairs(tmp_path_factory) -> pl.DataFrame:
    """The same recipe through the live API: what every batch build must equal."""
    out = tmp_path_factory.mktemp("live") / "run"
    with FakeOpenAIServer() as srv:
        config = _config(srv.url, out)
        config["batch_api"] = False
        build(config)
    return pl.read_parquet(out / "pairs.parquet").select(COLS)


def _pairs(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "pairs.parquet").select(COLS)


def test_expired_batches_and_error_lines_lose_nothing_and_resend_only_the_failed(
    tmp_path, live_pairs
):
    faults = BatchFaults(expire=0.2, error=0.05, seed=3)
    with FakeOpenAIServer(batch_faults=faults) as srv:
        result = build(_config(srv.url, tmp_path / "run", batch_max_requests=60))
        seen = srv.batches.seen
        assert _pairs(result.out).equals(live_pairs)
        assert len(srv.batches.created) == len(set(srv.batches.created))  # no shard twice
        # every request went once; the faulted ones once more, and nothing else
        faulted = [k for k in seen if _roll(faults, k) < faults.expire + faults.error]
        assert faulted and all(seen[k] == 2 for k in faulted)
        assert sum(seen.values()) == len(seen) + len(faulted)
    ledger = batch_ledgers(result.out)["translate"]
    assert {s.status for s in ledger.shards.values()} >= {"expired", "completed"}
    assert all(s.collected and s.requests <= 60 for s in ledger.shards.values())
    assert not list((result.out / "batches" / "translate").glob("shard-*.jsonl"))  # shards removed
    assert "batches/translate/ledger.json" not in upload_files(result.out)
    assert result.stats["this_run"]["requests_sent"] == len(seen)


def _roll(faults: BatchFaults, key: str) -> float:
    import random

    return random.Random(f"{faults.seed}:{key}").random()


def test_a_failed_batch_is_submitted_again_and_every_result_kept(tmp_path, live_pairs):
    # A failure without a code may pass on a second try; coded ones (invalid file or model)
    # are final: tests/test_batch_failures.py.
    with FakeOpenAIServer(batch_faults=BatchFaults(fail=1.0, fail_code=None)) as srv:
        result = build(_config(srv.url, tmp_path / "run"))
        assert _pairs(result.out).equals(live_pairs)
        statuses = [b["status"] for b in srv.batches.batches.values()]
    assert statuses[0] == "failed" and set(statuses[1:]) == {"completed"}


def test_fallback_live_sends_expired_requests_through_the_live_api(tmp_path, live_pairs):
    with FakeOpenAIServer(batch_faults=BatchFaults(expire=0.3)) as srv:
        result = build(_config(srv.url, tmp_path / "run", batch_fallback="live"))
        assert _pairs(result.out).equals(live_pairs)
        (batch,) = srv.batches.batches.values()
        assert batch["status"] == "expired" and 0 < batch["request_counts"]["completed"] < 142
        assert len(srv.requests) == len(srv.batches.seen) == 142  # the rest went live, once


def test_a_bad_request_line_rejects_its_pair_with_the_reason(tmp_path):
    def refuse(body, count):
        return Fault(400) if "Red." in json.dumps(body) else None

    with FakeOpenAIServer(fault=refuse) as srv:
        pairs = asyncio.run(
            _translate(
                srv.url, tmp_path, [{"instruction": "Name it.", "input": "", "output": "Red."}]
            )
        )
        assert max(srv.batches.seen.values()) == 1  # a bad request is not tried again
    assert pairs[0].fields is None and pairs[0].reason == "bad_request"


async def _translate(url: str, folder: Path, rows: list[dict], **options) -> list:
    client = BatchChatClient("m", folder=folder / "batches", base_url=url, poll=0.05, **options)
    translator = LLMTranslator(client)
    try:
        return list(await asyncio.gather(*(translator.translate(r, EN, ZH) for r in rows)))
    finally:
        await translator.close()


def test_full_shards_go_at_once_and_the_remainder_when_nothing_more_comes(tmp_path):
    rows = [{"instruction": f"Count to {i}.", "input": "", "output": f"{i}"} for i in range(130)]
    with FakeOpenAIServer() as srv:
        outcomes = asyncio.run(_translate(srv.url, tmp_path, rows, max_requests=60, linger=0.3))
    assert all(o.fields is not None for o in outcomes)
    sizes = [s.requests for s in Ledger(tmp_path / "batches").shards.values()]
    assert sizes == [60, 60, 10]


def test_detach_submits_and_exits_then_the_same_build_collects(tmp_path, live_pairs):
    with FakeOpenAIServer(batch_faults=BatchFaults(delay=0.5)) as srv:
        config = _config(srv.url, tmp_path / "run", batch_detach=True)
        with pytest.raises(BatchesPending, match="run the same command again"):
            build(config)
        assert len(srv.batches.created) == 1 and not (tmp_path / "run").exists()
        time.sleep(0.6)
        result = build({**config, "batch_detach": False})
        assert len(srv.batches.created) == 1  # collected, not submitted again
        assert _pairs(result.out).equals(live_pairs)


def test_a_live_resume_of_a_run_with_waiting_batches_is_refused(tmp_path):
    with FakeOpenAIServer(batch_faults=BatchFaults(delay=5.0)) as srv:
        config = _config(srv.url, tmp_path / "run", batch_detach=True)
        with pytest.raises(BatchesPending):
            build(config)
        with pytest.raises(PlugdataError, match="waiting in submitted Batch API batches"):
            build({**config, "batch_api": False, "batch_detach": False})
        assert len(srv.requests) == 0  # nothing was sent live


def test_cli_detach_exits_zero_and_batches_lists_the_shards(tmp_path):
    with FakeOpenAIServer(batch_faults=BatchFaults(delay=1.0)) as srv:
        out = tmp_path / "run"
        args = [
            "build",
            "--source",
            "seed",
            "--targets",
            "zh",
            "--model",
            "m",
            "--base-url",
            srv.url,
            "--out",
            str(out),
            "--no-filter",
            "--batch-api",
            "--batch-poll",
            "0.05",
        ]
        detached = run_cli(*args, "--batch-detach")
        assert detached.returncode == 0, detached.stderr
        assert "run the same command again" in detached.stderr
        listed = run_cli("batches", str(out))
        assert listed.returncode == 0, listed.stderr
        assert "shard-00001" in listed.stdout and "batch_000001" in listed.stdout
        time.sleep(1.0)
        collected = run_cli(*args)
        assert collected.returncode == 0, collected.stderr
        assert len(srv.batches.created) == 1
    assert run_cli("batches", str(tmp_path / "nothing")).returncode != 0


def test_kill_9_while_waiting_then_rerun_polls_the_same_batches(tmp_path, live_pairs):
    out = tmp_path / "run"
    with FakeOpenAIServer(batch_faults=BatchFaults(delay=2.0, expire=0.2, seed=5)) as srv:
        args = [
            "build",
            "--source",
            "seed",
            "--targets",
            "zh,ko",
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
        proc = subprocess.Popen(
            [sys.executable, "-m", "plugdata.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not srv.batches.created:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        result = build(_config(srv.url, out))
        created = srv.batches.created
        assert len(created) == len(set(created)) == 2  # the first shard, then the expired part
        assert _pairs(result.out).equals(live_pairs)
        assert max(srv.batches.seen.values()) <= 2


def test_a_shard_uploaded_or_created_before_a_kill_is_adopted_not_submitted_again(tmp_path):
    rows = [{"instruction": f"Count to {i}.", "input": "", "output": f"{i}"} for i in range(5)]
    with FakeOpenAIServer() as srv:
        first = asyncio.run(_translate(srv.url, tmp_path, rows))
        # Forge what a kill leaves: the shard recorded, uploaded and submitted, but the ledger
        # written before the batch id (and, in a second folder, before the file id) came back.
        for n, keep in enumerate(("file_id", None)):
            folder = tmp_path / f"killed{n}" / "batches"
            ledger = Ledger(tmp_path / "batches")
            shard = next(iter(ledger.shards.values()))
            shard.collected, shard.batch_id, shard.status = False, None, "uploaded"
            if keep is None:
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
            again = asyncio.run(_translate(srv.url, folder.parent, rows))
            assert [o.fields for o in again] == [o.fields for o in first]
        assert len(srv.batches.created) == 1


def test_max_cost_refuses_a_shard_whose_estimate_would_pass_the_cap(tmp_path):
    with FakeOpenAIServer() as srv:
        with pytest.raises(BudgetExceeded, match="estimated"):
            build(_config(srv.url, tmp_path / "none", max_cost=0.0001))
        assert srv.batches.created == [] and srv.requests == []  # nothing submitted, nothing paid
        with pytest.raises(BudgetExceeded):  # room for the first shard of 60 only
            build(_config(srv.url, tmp_path / "one", max_cost=0.004, batch_max_requests=60))
        assert len(srv.batches.created) == 1 and len(srv.requests) == 60
    ledger = Ledger(tmp_path / ".one.partial" / "batches" / "translate")
    (shard,) = ledger.shards.values()
    assert shard.collected and 0 < shard.estimate_usd < 0.004


def test_dry_run_prices_the_batch_api_at_half(tmp_path):
    live = estimate({"source": "seed", "targets": ["zh"], "model": "gpt-4o-mini"})
    batch = estimate(
        {"source": "seed", "targets": ["zh"], "model": "gpt-4o-mini", "batch_api": True}
    )
    assert batch["price_per_million"]["input"] == live["price_per_million"]["input"] / 2
    assert batch["price_per_million"]["output"] == live["price_per_million"]["output"] / 2
    assert batch["totals"]["cost_usd"] == pytest.approx(live["totals"]["cost_usd"] / 2, abs=2e-4)
    assert batch["totals"]["requests"] == live["totals"]["requests"]


def test_batch_options_are_checked():
    with pytest.raises(PlugdataError, match="batch_api: needs the llm translator"):
        build({"source": "seed", "targets": ["zh"], "batch_api": True})
    with pytest.raises(PlugdataError, match="batch_max_requests: the Batch API takes at most"):
        build({"source": "seed", "targets": ["zh"], "model": "m", "batch_max_requests": 60_000})


def test_the_server_batch_api_speaks_the_openai_client(tmp_path):
    async def roundtrip(url: str) -> str:
        client = openai.AsyncOpenAI(base_url=url, api_key="k")
        line = {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        }
        uploaded = await client.files.create(
            file=("in.jsonl", json.dumps(line).encode()), purpose="batch"
        )
        batch = await client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        while batch.status not in ("completed", "failed"):
            await asyncio.sleep(0.01)
            batch = await client.batches.retrieve(batch.id)
        listed = [b.id async for b in client.batches.list()]
        assert listed == [batch.id]
        return (await client.files.content(batch.output_file_id or "")).text

    with FakeOpenAIServer(api_key="k") as srv:
        text = asyncio.run(roundtrip(srv.url))
    assert json.loads(text)["response"]["body"]["choices"][0]["message"]["content"]

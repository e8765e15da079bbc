"""The engine against the project's fault-injecting server: every row ends kept or rejected."""

import time

import pytest

from plugdata import ChatClient, LLMGenerator, RequestCache, RetryPolicy, translate_rows
from plugdata.sources import load_source
from plugdata.testing import FAULT_KINDS, FakeOpenAIServer, Fault, fault_mix
from plugdata.translate.llm import LLMTranslator
from plugdata.translate.pricing import BudgetExceeded, Price, Spend

FAST = RetryPolicy(max_attempts=6, initial=0.001, maximum=0.01, timeout=5.0)
ROW = {"id": "1", "instruction": "Say hi.", "input": "", "output": "Hi!"}


def translator(url: str, **options) -> LLMTranslator:
    options.setdefault("retry", FAST)
    return LLMTranslator(ChatClient("m", base_url=url, **options))


def seed_rows(n: int | None = None) -> list[dict]:
    return load_source("seed", limit=n).rows


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_each_fault_kind_alone_is_survived(kind):
    with FakeOpenAIServer(fault=fault_mix(0.3, [kind], seed=1)) as srv:
        rows = seed_rows(30)
        pairs = translate_rows(rows, ["ko"], translator(srv.url), concurrency=4)
    assert [p["id"] for p in pairs] == [r["id"] for r in rows]
    kept = [p for p in pairs if p["kept"]]
    assert len(kept) >= 28  # retries and field-by-field fallback rescue almost everything
    for pair in pairs:
        assert pair["kept"] or pair["reasons"]
        if pair["kept"]:
            assert pair["target_instruction"].startswith("[ko] ")


def test_thirty_percent_mixed_faults_account_for_every_row():
    rows = seed_rows()
    with FakeOpenAIServer(fault=fault_mix(0.3, seed=7)) as srv:
        pairs = translate_rows(rows, ["zh", "es"], translator(srv.url), concurrency=8)
    assert len(pairs) == 2 * len(rows)
    assert len({(p["id"], p["target_lang"]) for p in pairs}) == len(pairs)  # no duplicates
    assert all(p["kept"] or p["reasons"] for p in pairs)
    assert sum(p["kept"] for p in pairs) >= 0.95 * len(pairs)
    clean = {(p["id"], p["target_lang"]): p for p in _clean(rows, ["zh", "es"])}
    for pair in pairs:  # whatever survived the faults is exactly what a clean run gives
        if pair["kept"]:
            ref = clean[(pair["id"], pair["target_lang"])]
            assert pair["target_output"] == ref["target_output"]


def _clean(rows, targets):
    with FakeOpenAIServer() as srv:
        return translate_rows(rows, targets, translator(srv.url))


def test_exhausted_retries_reject_the_row_with_the_reason():
    with FakeOpenAIServer(fault=lambda body, n: Fault(503)) as srv:
        (pair,) = translate_rows([ROW], ["it"], translator(srv.url))
    assert pair["reasons"] == ["server_error"] and len(srv.requests) == FAST.max_attempts


def test_bad_request_is_not_retried_and_rejects_that_row_only():
    def fault(body, n):
        return Fault(400) if "Bad row" in body["messages"][1]["content"] else None

    bad = {**ROW, "id": "2", "instruction": "Bad row."}
    with FakeOpenAIServer(fault=fault) as srv:
        pairs = translate_rows([bad, ROW], ["it"], translator(srv.url), concurrency=1)
    assert pairs[0]["reasons"] == ["bad_request"] and pairs[1]["kept"]
    # the record once, then its first field alone (a 400 may mean "too long"), never again
    assert pairs[0]["attempts"] == 2 and len(srv.requests) == 3


def test_retry_after_is_honoured():
    def fault(body, n):
        return Fault(429, headers={"Retry-After": "1"}) if n == 1 else None

    with FakeOpenAIServer(fault=fault) as srv:
        started = time.monotonic()
        (pair,) = translate_rows([ROW], ["it"], translator(srv.url))
    assert pair["kept"] and pair["attempts"] == 2
    assert time.monotonic() - started >= 0.95


def test_timeout_is_retried():
    policy = RetryPolicy(max_attempts=3, initial=0.001, maximum=0.01, timeout=0.3)
    with FakeOpenAIServer(fault=lambda body, n: Fault(delay=1.0) if n == 1 else None) as srv:
        (pair,) = translate_rows([ROW], ["it"], translator(srv.url, retry=policy))
    assert pair["kept"] and pair["attempts"] >= 2 and len(srv.requests) >= 2


def test_truncation_is_retried_with_a_larger_budget():
    def fault(body, n):
        return Fault(content='{"instruction": "cu', finish_reason="length") if n == 1 else None

    with FakeOpenAIServer(fault=fault) as srv:
        t = translator(srv.url)
        t.max_tokens = 100
        (pair,) = translate_rows([ROW], ["it"], t)
    assert pair["kept"]
    assert [b.get("max_tokens") for b in srv.requests] == [100, 512]


def test_long_records_are_sent_field_by_field_and_paragraph_by_paragraph():
    long_output = "\n\n".join(f"Paragraph number {i} says something." for i in range(40))
    row = {**ROW, "output": long_output}
    with FakeOpenAIServer(translate=lambda text, lang: f"<{text}>") as srv:
        t = translator(srv.url)
        t.max_input_tokens = 60
        (pair,) = translate_rows([row], ["it"], t)
    assert pair["kept"]
    output = pair["target_output"]
    assert output.replace("<", "").replace(">", "") == long_output  # reassembled in order
    assert output.startswith("<Paragraph number 0") and output.count("<") == len(srv.requests) - 1
    assert len(srv.requests) > 5 and pair["target_instruction"] == "<Say hi.>"


def test_a_lost_marker_is_retried_then_rejected():
    row = {**ROW, "output": "Run `ls` now."}
    with FakeOpenAIServer(translate=lambda text, lang: text.replace("[[P1]]", "")) as srv:
        (pair,) = translate_rows([row], ["it"], translator(srv.url))
    assert pair["reasons"] == ["protected_span_lost"]


def test_code_only_fields_are_not_sent():
    row = {**ROW, "output": "```python\nprint(1)\n```"}
    with FakeOpenAIServer() as srv:
        (pair,) = translate_rows([row], ["it"], translator(srv.url))
    assert pair["target_output"] == row["output"]
    assert list(__import__("json").loads(srv.requests[0]["messages"][1]["content"])) == [
        "instruction"
    ]


def test_cache_replays_completed_requests(tmp_path):
    rows = seed_rows(10)
    with FakeOpenAIServer() as srv:
        cache = RequestCache(tmp_path / "c.sqlite")
        first = translate_rows(rows, ["ko"], translator(srv.url, cache=cache))
        sent = len(srv.requests)
        second = translate_rows(rows, ["ko"], translator(srv.url, cache=cache))
    assert len(srv.requests) == sent and len(cache) == sent
    assert [p["target_output"] for p in second] == [p["target_output"] for p in first]
    assert all(p["cached"] == p["attempts"] for p in second)


def test_spending_cap_stops_and_keeps_what_was_done(tmp_path):
    rows = seed_rows(20)
    cache = RequestCache(tmp_path / "c.sqlite")
    with FakeOpenAIServer() as srv:
        capped = translator(
            srv.url, cache=cache, price=Price(1000.0, 1000.0), spend=Spend(max_cost=1.0)
        )
        with pytest.raises(BudgetExceeded, match="spending cap"):
            translate_rows(rows, ["ko"], capped, concurrency=1)
        completed = len(cache)
        assert 0 < completed < 20 and capped.client.spend.cost >= 1.0
        done = len(srv.requests)
        rest = translate_rows(rows, ["ko"], translator(srv.url, cache=cache))
    assert all(p["kept"] for p in rest)
    assert len(srv.requests) - done == 20 - completed  # one request per record, none twice


def test_rate_limiter_holds_the_server_rpm():
    rows = [{**ROW, "id": str(i), "instruction": f"Say hi {i}."} for i in range(24)]
    with FakeOpenAIServer(rate_limit=(10, 1.0)) as srv:
        # paced at 6/s: at most 1 + 6 arrivals in any second, well inside the server's 10
        translate_rows(rows, ["it"], translator(srv.url, rpm=360), concurrency=8)
        assert srv.rate_limited == 0
    with FakeOpenAIServer(rate_limit=(10, 1.0)) as srv:  # the same load unthrottled is refused
        pairs = translate_rows(rows, ["it"], translator(srv.url), concurrency=8)
        assert srv.rate_limited > 0 and len(pairs) == 24


def test_generators_pivot_and_target():
    with FakeOpenAIServer() as srv:
        gen = LLMGenerator(ChatClient("teacher", base_url=srv.url, retry=FAST))
        (pivot,) = translate_rows(
            [ROW], ["ko"], translator(srv.url), generator=gen, generate="pivot"
        )
        assert pivot["pivot_output"] == "[en answer] Say hi."
        assert (
            pivot["target_output"] == "[ko] [en answer] Say hi." and pivot["generated"] == "pivot"
        )
        (target,) = translate_rows(
            [ROW], ["ko"], translator(srv.url), generator=gen, generate="target"
        )
        assert target["target_output"] == "[ko answer] [ko] Say hi."
        assert target["pivot_output"] == "Hi!" and target["generated"] == "target"
        models = [b["model"] for b in srv.requests]
    assert models.count("teacher") == 2


def test_pivot_generation_is_shared_by_all_targets():
    with FakeOpenAIServer() as srv:
        gen = LLMGenerator(ChatClient("teacher", base_url=srv.url, retry=FAST))
        pairs = translate_rows(
            [ROW], ["ko", "zh", "it"], translator(srv.url), generator=gen, generate="pivot"
        )
        assert [b["model"] for b in srv.requests].count("teacher") == 1
    assert {p["pivot_output"] for p in pairs} == {"[en answer] Say hi."}

"""The opt-in meaning check ``adequacy``, on a tiny sentence-transformers encoder built here.

The encoder's weights are random, so its cosines mean nothing; an identical text still scores
1.0 and different texts score less, which is what the thresholds below rely on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from plugdata.config import BuildConfig, ConfigError
from plugdata.errors import PlugdataError
from plugdata.filters import (
    CHECKS,
    DEFAULT_FILTERS,
    FilterConfig,
    PairFilter,
    filter_frame,
    parse_filters,
)
from plugdata.filters import encoder as enc
from plugdata.filters.checks import adequacy as adq
from plugdata.schema import pair_frame
from plugdata.testing.encoder import tiny_encoder
from tests.conftest import one_line_error, run_cli, seed_args

CAT = "The cat sleeps on the mat."
MARKET = "Stock markets fell sharply on Monday after the bank raised rates."


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Path:
    texts = [
        CAT,
        MARKET,
        "猫在垫子上睡觉。",
        "Il gatto dorme sul tappeto.",
        "Give three tips.",
    ] * 10
    return tiny_encoder(tmp_path_factory.mktemp("enc") / "tiny-st", texts)


def _row(i: int, lang: str, pivot: str, target: str, given: tuple[str, str] = ("", "")) -> dict:
    return {
        "id": str(i),
        "source": "t",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": pivot,
        "pivot_input": given[0],
        "pivot_output": pivot,
        "target_instruction": target,
        "target_input": given[1],
        "target_output": target,
    }


def _config(encoder: Path, **values: object) -> FilterConfig:
    return FilterConfig.parse({"adequacy_model": str(encoder), **values})


def test_adequacy_is_registered_but_not_a_default():
    assert "adequacy" in CHECKS and "adequacy" not in DEFAULT_FILTERS
    assert "adequacy" not in parse_filters(None) and "adequacy" not in PairFilter().names
    assert parse_filters("+adequacy") == [*DEFAULT_FILTERS, "adequacy"]
    assert parse_filters("default,adequacy") == parse_filters("+adequacy")
    assert parse_filters("langid,adequacy") == ["langid", "adequacy"]
    with pytest.raises(PlugdataError, match="unknown filter"):
        parse_filters("+meaning")


def test_a_faithful_pair_is_kept_and_a_wrong_one_rejected(encoder):
    frame = pair_frame(
        [
            _row(1, "zh", CAT, CAT),
            _row(2, "zh", CAT, MARKET),
            _row(3, "it", CAT, CAT, given=("a text", "")),
        ]
    )
    out, _ = filter_frame(frame, ["adequacy"], _config(encoder, adequacy_min=0.99))
    assert out["kept"].to_list() == [True, False, True]
    assert out["reasons"].to_list() == [[], ["adequacy:low"], []]
    assert set(adq.SCORES) <= set(out.columns)
    assert out["adequacy_output"][0] == pytest.approx(1.0, abs=1e-5)
    assert out["adequacy_output"][1] < 0.99
    assert out["adequacy_input"].is_null().all()  # empty on one side at least: not scored


def test_the_threshold_decides_both_ways(encoder):
    frame = pair_frame([_row(1, "ko", CAT, MARKET)])
    scored, _ = filter_frame(frame, ["adequacy"], _config(encoder, adequacy_min=-1.0))
    score = scored["adequacy_output"][0]
    assert scored["kept"][0]
    below, _ = filter_frame(frame, ["adequacy"], _config(encoder, adequacy_min=score + 0.001))
    above, _ = filter_frame(frame, ["adequacy"], _config(encoder, adequacy_min=score - 0.001))
    assert not below["kept"][0] and above["kept"][0]


def test_rows_rejected_upstream_are_not_scored(encoder):
    frame = pair_frame([_row(1, "zh", CAT, MARKET), _row(2, "zh", CAT, CAT)])
    frame = frame.with_columns(kept=pl.Series([False, True]))
    out, stats = filter_frame(frame, ["adequacy"], _config(encoder, adequacy_min=0.99))
    assert out["adequacy_output"][0] is None and out["kept"].to_list() == [False, True]
    assert stats["adequacy"]["languages"]["zh"]["output"]["scored"] == 1


def test_the_model_loads_once_per_filter_and_is_freed_on_close(encoder, monkeypatch):
    loads = []
    real = enc.load_model
    monkeypatch.setattr(enc, "load_model", lambda *a: loads.append(a) or real(*a))
    with PairFilter(["adequacy"], _config(encoder)) as pf:
        for i in range(3):
            pf.apply(pair_frame([_row(i, "it", CAT, CAT)]))
        state = pf._ctx.models["adequacy"]
    assert len(loads) == 1
    assert state.encoder._model is None  # closed with the filter
    assert pf.stats()["adequacy"]["languages"]["it"]["output"]["scored"] == 3  # stats survive


def test_stats_hold_the_threshold_its_source_and_the_distribution(encoder):
    rows = [_row(i, "zh", CAT, CAT if i % 2 else MARKET) for i in range(10)]
    rows += [_row(10 + i, "it", CAT, CAT) for i in range(4)]
    _, stats = filter_frame(pair_frame(rows), ["adequacy"], _config(encoder))
    found = stats["adequacy"]
    assert found["model"] == str(encoder) and found["threshold"] == FilterConfig().adequacy_min
    assert "LaBSE" in found["threshold_source"] and str(encoder) in found["threshold_source"]
    zh = found["languages"]["zh"]["output"]
    assert zh["scored"] == 10 and zh["p95"] == pytest.approx(1.0, abs=0.005)
    assert zh["p5"] < zh["p50"] <= zh["p95"] and zh["p5"] < 0.99
    assert set(found["languages"]) == {"zh", "it"} and "input" not in found["languages"]["it"]
    assert stats["scores"]["adequacy_output"] == {
        "threshold": "adequacy_min",
        "value": FilterConfig().adequacy_min,
        "reject": "below",
    }
    _, user = filter_frame(pair_frame(rows), ["adequacy"], _config(encoder, adequacy_min=0.999))
    assert user["adequacy"]["threshold_source"] == "set by the user (adequacy_min=0.999)"
    assert user["adequacy"]["languages"]["zh"]["output"]["below"] == 5


def test_default_filters_add_no_adequacy_columns_or_stats():
    stats = PairFilter(["empty"]).stats()
    assert "adequacy" not in stats and stats["scores"] == {}


def test_evidence_names_the_lowest_field_and_its_score(encoder):
    frame = pair_frame([_row(1, "zh", CAT, MARKET), _row(2, "zh", CAT, CAT)])
    cfg = _config(encoder, adequacy_min=0.99)
    out, _ = filter_frame(frame, ["adequacy"], cfg)
    ev = out["evidence"]
    (entry,) = ev[0]
    scores = {f: out[f"adequacy_{f}"][0] for f in ("instruction", "input", "output")}
    lowest = min((v, f) for f, v in scores.items() if v is not None)
    assert entry["reason"] == "adequacy:low" and entry["field"] == lowest[1]
    cos, bound = entry["text"].removeprefix("cos ").split(" < ")
    assert float(cos) == pytest.approx(lowest[0], abs=0.006)
    assert float(bound) == 0.99
    assert ev[1].to_list() == []


def test_preflight_accepts_a_folder_and_refuses_what_cannot_load(encoder, monkeypatch, tmp_path):
    enc.preflight(_config(encoder))
    with pytest.raises(PlugdataError, match="no such folder"):
        enc.check_model(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlugdataError, match="holds no model"):
        enc.check_model(str(tmp_path / "empty"))
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    with pytest.raises(PlugdataError, match=r"not in the Hugging Face cache.*HF_HUB_OFFLINE"):
        enc.check_model("nobody/no-such-encoder")
    with pytest.raises(PlugdataError, match="adequacy_device cuda:3"):
        enc.preflight(_config(encoder, adequacy_device="cuda:3"))
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(PlugdataError, match=r"pip install 'plugdata\[adequacy\]'"):
        enc.preflight(_config(encoder))


def test_adequacy_model_needs_the_adequacy_filter(encoder):
    with pytest.raises(ConfigError) as caught:
        BuildConfig(source="seed", targets=["zh"], adequacy_model=str(encoder))
    assert caught.value.field == "adequacy_model"
    config = BuildConfig(
        source="seed", targets=["zh"], filters="+adequacy", adequacy_model=str(encoder)
    )
    assert config.filters == [*DEFAULT_FILTERS, "adequacy"]


def test_a_missing_model_fails_the_build_in_one_line_before_any_request(server, tmp_path):
    result = run_cli(
        *seed_args(server.url, str(tmp_path / "run")),
        "--filters",
        "+adequacy",
        "--adequacy-model",
        str(tmp_path / "no-model"),
    )
    line = one_line_error(result)
    assert "adequacy_model" in line and "no such folder" in line
    assert server.requests == []


def test_build_with_adequacy_writes_scores_stats_and_card(server, tmp_path, encoder):
    out = tmp_path / "run"
    result = run_cli(
        *seed_args(server.url, str(out), targets="zh,it"),
        "--filters",
        "adequacy",
        "--adequacy-model",
        str(encoder),
        "--thresholds",
        "adequacy_min=-1",
    )
    assert result.returncode == 0, result.stderr
    pairs = pl.read_parquet(out / "pairs.parquet")
    assert pairs["kept"].all() and pairs["adequacy_instruction"].is_not_null().all()
    stats = json.loads((out / "stats.json").read_text())["filters"]
    assert stats["names"] == ["adequacy"] and set(stats["adequacy"]["languages"]) == {"zh", "it"}
    zh = stats["adequacy"]["languages"]["zh"]["instruction"]
    assert zh["scored"] == pairs.filter(pl.col("target_lang") == "zh").height
    card = (out / "README.md").read_text()
    assert "## Meaning check (adequacy)" in card and "set by the user (adequacy_min=-1.0)" in card
    assert f"| zh | instruction | {zh['scored']:,} | 0 | {zh['mean']} |" in card

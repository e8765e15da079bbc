"""report.html: the data a build's or an evaluation's page is made from, its size cap, its
escaping, and `plugdata report`. (The pages themselves are checked in a browser in
test_report_browser.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from plugdata import build
from plugdata.eval.page import eval_page_data, shape_eval_data
from plugdata.pipeline.refilter import write_filtered
from plugdata.publish.report import (
    REPORT_HTML,
    Limits,
    build_report_data,
    safe_json,
    write_build_report,
)
from plugdata.publish.report.page import _ASSETS
from plugdata.publish.report.scores import score_columns, threshold
from plugdata.testing.runs import synthetic_run

from .conftest import one_line_error, run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return synthetic_run(
        tmp_path_factory.mktemp("report") / "run", records=400, langs=("zh", "ko", "it")
    )


def _blob(page: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert found, "no data block"
    return json.loads(found.group(1))


def test_a_build_writes_its_report_and_the_funnel_equals_stats_json(server, tmp_path):
    result = build(
        {
            "source": "seed",
            "targets": ["zh", "it"],
            "model": "m",
            "limit": 30,
            "base_url": server.url,
            "api_key": "sk-x",
            "out": str(tmp_path / "run"),
        }
    )
    page = (result.out / REPORT_HTML).read_text(encoding="utf-8")
    data = _blob(page)
    stats = json.loads((result.out / "stats.json").read_text())
    for lang, row in stats["languages"].items():
        shown = data["funnel"]["languages"][lang]
        assert {k: shown[k] for k in ("pairs", "kept", "rejected", "reasons")} == {
            k: row[k] for k in ("pairs", "kept", "rejected", "reasons")
        }
        assert shown["tags"] == stats["filters"]["languages"][lang]["tags"]
        rejected = [
            data["pairs"][k] for ks in data["examples"][lang]["reasons"].values() for k in ks
        ]
        assert rejected and all(not p["kept"] and p["lang"] == lang for p in rejected)
    assert data["funnel"]["totals"] == {
        k: stats["totals"][k] for k in ("pairs", "kept", "rejected")
    }
    assert data["header"][0] == [
        "Source",
        "seed (plugdata seed corpus), licence apache-2.0, 30 records, limit 30",
    ]


def test_the_sample_is_seeded_the_same_records_in_every_language(run):
    first, again = build_report_data(run), build_report_data(run)
    assert first == again
    samples = {
        lang: [first["pairs"][k] for k in ex["sample"]] for lang, ex in first["examples"].items()
    }
    kept = pl.read_parquet(run / "pairs.parquet").filter(pl.col("kept"))
    for lang, pairs in samples.items():
        assert len(pairs) == 50 and all(p["kept"] and p["lang"] == lang for p in pairs)
        assert {p["id"] for p in pairs} <= set(kept.filter(pl.col("target_lang") == lang)["id"])
        assert pairs[0]["row"][0]["content"] == pairs[0]["target"]["instruction"]  # its PLUG row
    zh, ko = ({p["id"] for p in samples[lang]} for lang in ("zh", "ko"))
    assert len(zh & ko) >= 35  # aligned: the same records, less those rejected in one language
    other = build_report_data(run, Limits(seed=1))
    assert other["examples"]["zh"]["sample"] != first["examples"]["zh"]["sample"]
    small = build_report_data(run, Limits(sample=5, per_reason=2, per_tag=1))
    assert all(len(ex["sample"]) == 5 for ex in small["examples"].values())
    assert all(
        len(keys) <= 2 for ex in small["examples"].values() for keys in ex["reasons"].values()
    )


def test_the_page_is_capped_by_cutting_texts_then_examples(run):
    full = write_build_report(run)
    assert "more characters in the data files" not in full.read_text(encoding="utf-8")
    capped = write_build_report(run, max_bytes=150_000)
    assert capped.stat().st_size <= 150_000
    data = _blob(capped.read_text(encoding="utf-8"))
    assert data["limits"]["chars"] < 4000
    assert any(
        "more characters in the data files" in p["target"]["output"] for p in data["pairs"].values()
    )
    assert data["funnel"]["totals"]["pairs"] == 1200  # counts are never cut


def test_the_data_cannot_close_its_script_block():
    hostile = {"t": "</script><script>alert(1)</script> & <img src=x onerror=alert(1)>\u2028\u2029"}
    text = safe_json(hostile)
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == hostile


def test_page_scripts_only_write_text():
    for name in ("common.js", "build.js", "eval.js"):
        code = (_ASSETS / name).read_text(encoding="utf-8")
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "fetch(",
            "XMLHttpRequest",
            "http://",
            "https://",
        ):
            if sink == "http://" and "www.w3.org/2000/svg" in code:
                code = code.replace("http://www.w3.org/2000/svg", "")
            assert sink not in code, f"{name} uses {sink}"


def test_the_policy_allows_only_the_pages_own_script(run):
    page = write_build_report(run).read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+';", policy)


def test_score_columns_and_their_thresholds():
    schema = {
        "lid_target_output": pl.Float64,
        "share_target_output": pl.Float64,
        "adequacy_input": pl.Float64,
        "length_ratio_output": pl.Float64,
        "lid_note": pl.String,
        "cost_usd": pl.Float64,
        "custom": pl.Float64,
    }
    assert score_columns(schema, {}) == [
        "lid_target_output",
        "share_target_output",
        "adequacy_input",
        "length_ratio_output",
    ]
    assert score_columns(schema, {"custom": {}})[0] == "custom"
    guessed = {"thresholds": {"lid_min_prob": 0.3, "adequacy_min": 0.6}}
    assert threshold("lid_target_output", guessed) == {
        "name": "lid_min_prob",
        "value": 0.3,
        "reject": "below",
    }
    assert threshold("adequacy_input", guessed)["value"] == 0.6
    assert (
        threshold("share_target_output", guessed) is None
        and threshold("lid_target_output", None) is None
    )
    declared = {
        "thresholds": {"mixed_max": 0.2},
        "scores": {
            "share_target_output": {"threshold": "mixed_max", "value": None, "reject": "above"},
            "lid_target_output": {"threshold": None, "value": None, "reject": "below"},
            "custom": {"threshold": None, "value": 1.5, "reject": "above"},
        },
    }
    assert threshold("share_target_output", declared) == {
        "name": "mixed_max",
        "value": 0.2,
        "reject": "above",
    }
    assert (
        threshold("lid_target_output", declared) is None
    )  # declared without a threshold: no guess
    assert threshold("custom", declared) == {"name": None, "value": 1.5, "reject": "above"}


def test_distributions_split_kept_from_rejected_and_mark_the_threshold(run):
    data = build_report_data(run)
    by_column = {d["column"]: d for d in data["scores"]}
    assert set(by_column) == {"lid_target_instruction", "lid_target_output", "adequacy_output"}
    zh = by_column["lid_target_output"]["languages"]["zh"]
    stats = json.loads((run / "stats.json").read_text())["languages"]["zh"]
    assert (sum(zh["kept"]), sum(zh["rejected"]), zh["nulls"]) == (
        stats["kept"],
        stats["rejected"],
        0,
    )
    assert by_column["adequacy_output"]["threshold"] == {
        "name": "adequacy_min",
        "value": 0.5,
        "reject": "below",
    }


def test_evidence_is_shown_when_the_filters_record_it(run, tmp_path):
    data = build_report_data(run)
    rejected = [
        data["pairs"][k]
        for ex in data["examples"].values()
        for ks in ex["reasons"].values()
        for k in ks
    ]
    assert all(p["has_evidence"] and p["evidence"] for p in rejected)
    for pair in rejected:
        for e in pair["evidence"]:
            assert e["reason"] in pair["reasons"] and e["text"] in pair["target"][e["field"]]
    bare = synthetic_run(tmp_path / "bare", records=60, langs=("ko",), evidence=False)
    plain = build_report_data(bare)
    pairs = [plain["pairs"][k] for ks in plain["examples"]["ko"]["reasons"].values() for k in ks]
    assert pairs and all(
        not p["has_evidence"] and p["evidence"] == [] and p["reasons"] for p in pairs
    )


def test_a_plugdata_filter_folder_has_a_report_too(run, tmp_path):
    frame = pl.read_parquet(run / "pairs.parquet")
    stats = json.loads((run / "stats.json").read_text())["filters"]
    out = write_filtered(frame, stats, tmp_path / "filtered")
    data = build_report_data(out)
    assert data["funnel"]["languages"]["zh"]["pairs"] == stats["languages"]["zh"]["checked"]
    assert data["examples"]["zh"]["sample"] and data["examples"]["zh"]["reasons"]


def test_report_command(run, tmp_path):
    (run / REPORT_HTML).unlink(missing_ok=True)
    result = run_cli("report", str(run))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"Report: {run / REPORT_HTML}")
    assert (run / REPORT_HTML).is_file()
    assert "no such folder" in one_line_error(run_cli("report", str(tmp_path / "nothing")), 2)
    assert "no stats.json" in one_line_error(run_cli("report", str(tmp_path)), 2)


def _judgment(lang, pid, order, outcome, raw="r"):
    verdict = {
        "win": "A" if order == "ab" else "B",
        "loss": "B" if order == "ab" else "A",
        "tie": "C",
    }
    return {
        "lang": lang,
        "id": pid,
        "order": order,
        "verdict": verdict.get(outcome),
        "outcome": outcome,
        "source": "judge",
        "error": None if outcome else "no_verdict",
        "raw": raw,
        "attempts": 1,
    }


def test_eval_pairs_come_with_outcomes_errors_and_flips_first(tmp_path):
    rows = [
        _judgment("zh", "1", "ab", "win"),
        _judgment("zh", "1", "ba", "win"),
        _judgment("zh", "2", "ab", "win"),
        _judgment("zh", "2", "ba", "loss"),
        _judgment("zh", "3", "ab", "loss"),
        _judgment("zh", "3", "ba", "loss"),
        _judgment("zh", "4", "ab", None),
        _judgment("zh", "4", "ba", "tie"),
    ]
    report = {
        "languages": {"zh": {"n": 3}},
        "overall": {"n": 3},
        "meta": {"a": str(tmp_path / "gone-a"), "b": str(tmp_path / "gone-b")},
    }
    data = eval_page_data(tmp_path, report, rows)
    pairs = data["pairs"]["zh"]
    assert [p["id"] for p in pairs] == ["4", "2", "3", "1"]  # error, flip, loss, win
    assert [(p["strict"], p["lenient"], p["flip"], p["error"]) for p in pairs] == [
        (None, None, False, True),
        ("tie", "tie", True, False),
        ("loss", "loss", False, False),
        ("win", "win", False, False),
    ]
    assert "not found" in data["note"] and pairs[0]["a"] is None
    half = shape_eval_data(data, 1, 0.5)
    assert [p["id"] for p in half["pairs"]["zh"]] == ["4", "2"]
    assert half["pairs"]["zh"][1]["orders"]["ab"]["raw"].startswith("r")


def test_a_report_that_fails_does_not_cost_the_build(server, tmp_path, monkeypatch):
    import plugdata.pipeline.finish as finish

    def broken(run_dir):
        raise ValueError("cannot draw")

    monkeypatch.setattr(finish, "write_build_report", broken)
    config = {
        "source": "seed",
        "targets": ["ko"],
        "model": "m",
        "limit": 5,
        "filters": [],
        "base_url": server.url,
        "api_key": "sk-x",
        "out": str(tmp_path / "run"),
    }
    with pytest.warns(
        RuntimeWarning, match="report.html was not written .*cannot draw.*plugdata report"
    ):
        result = build(config)
    assert (result.out / "stats.json").is_file() and not (result.out / REPORT_HTML).exists()

"""The mt translator: segmentation, tiny offline models through the real loading code,
CTranslate2 and transformers, the request cache, pre-flight errors and a keyless build."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import yaml

from plugdata.errors import PlugdataError
from plugdata.languages import get_language
from plugdata.testing.tiny import tiny_m2m100, tiny_marian
from plugdata.translate.cache import RequestCache
from plugdata.translate.mt import mt_translator
from plugdata.translate.mt.engines import looping
from plugdata.translate.mt.segment import assemble, segment
from plugdata.translate.runner import Runner
from tests.conftest import run_cli

SEED = Path(__file__).resolve().parents[1] / "corpora" / "seed" / "seed.jsonl"
ROWS = [
    dict(json.loads(line), id=str(i), source="seed")
    for i, line in enumerate(SEED.read_text(encoding="utf-8").splitlines())
]
EN, IT = get_language("en"), get_language("it")
_VERBATIM = re.compile(
    r"```.*?```|`[^`\n]+`|https?://[^\s<>()\"'`]*[^\s<>()\"'`.,;:!?]"
    r"|\{[A-Za-z_][\w.]*\}|^\s*\|[-:| ]+\|\s*$",
    re.DOTALL | re.MULTILINE,
)


def _kept(source: str, translated: str) -> bool:
    """Every code block, inline code, URL, placeholder and table rule of ``source`` is in
    ``translated``, byte for byte and in order (whatever the model wrote around them)."""
    pos = 0
    for span in _VERBATIM.findall(source):
        at = translated.find(span, pos)
        if at < 0:
            return False
        pos = at + len(span)
    return translated.count("\n") == source.count("\n")


def _texts() -> list[str]:
    return [
        v for row in ROWS for k, v in row.items() if k in ("instruction", "input", "output") and v
    ]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mt-models")
    return {
        "marian": tiny_marian(root / "marian", _texts()),
        "m2m100": tiny_m2m100(root / "m2m100", _texts()),
    }


@pytest.fixture(autouse=True)
def _ct2_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGDATA_CACHE", str(tmp_path / "plugdata-cache"))


def test_segmentation_round_trips_the_seed_corpus():
    for text in _texts():
        layout = segment(text)
        assert assemble(layout, layout.segments) == text
        # What a translator hands back: other words, the same span markers (it guarantees them).
        noise = assemble(
            layout,
            [" ZZ ".join(["zz", *re.findall(r"\[\[P\d+\]\]", s), "zz"]) for s in layout.segments],
        )
        # Code, URLs, placeholders and table rules come back byte for byte, in order.
        assert _VERBATIM.findall(noise) == _VERBATIM.findall(text)
        assert noise.count("\n") == text.count("\n")
        assert noise.count("|") == text.count("|")


def test_segmentation_keeps_markdown_syntax_and_splits_sentences():
    text = (
        "# Title here\n\n- First item. Second sentence.\n  2. Nested `x = 1` item!\n\n"
        "| Name | Value |\n|------|------:|\n| Width | 10 px |\n\n"
        "See https://example.com/a.b now.\n"
    )
    layout = segment(text)
    assert layout.segments[:4] == [
        "Title here",
        "First item.",
        "Second sentence.",
        "Nested [[P1]] item!",
    ]
    assert "Name" in layout.segments and "10 px" in layout.segments
    marks = [re.findall(r"\[\[P\d+\]\]", s) for s in layout.segments]
    out = assemble(layout, [f"<{i}>" + "".join(m) for i, m in enumerate(marks)])
    assert out.startswith(
        "# <0>\n\n- <1> <2>\n  2. <3>`x = 1`\n\n| <4> | <5> |\n|------|------:|\n"
    )
    assert out.endswith("https://example.com/a.b\n")
    assert segment("```\nonly code\n```\n").segments == []


def test_loop_detection():
    assert looping([5, 1, 2, 1, 2, 1, 2, 1, 2])
    assert looping([7] * 8)
    assert not looping([1, 2, 3, 4, 5, 6, 7, 8, 9])


def _translate(translator, rows, concurrency=16):
    return asyncio.run(Runner(translator, concurrency=concurrency).run(rows, [IT], EN))


def _code_rows(n: int) -> list[dict]:
    picked = [
        r for r in ROWS if "```" in r["output"] or "http" in r["output"] or "|" in r["output"]
    ]
    return (picked + ROWS)[:n]


@pytest.mark.parametrize("family", ["marian", "m2m100"])
def test_records_translate_the_same_alone_or_in_a_batch_with_ctranslate2(models, family):
    rows = _code_rows(12)
    batched = mt_translator(str(models[family]), targets=["it"], engine="ctranslate2")
    together = _translate(batched, rows)
    assert batched.batcher.batches < len(rows)  # concurrent calls were gathered
    alone = mt_translator(str(models[family]), targets=["it"], engine="ctranslate2")
    one_by_one = [_translate(alone, [row], concurrency=1)[0] for row in rows]
    for a, b in zip(together, one_by_one, strict=True):
        assert (
            a["target_output"] == b["target_output"]
            and a["target_instruction"] == b["target_instruction"]
        )
        assert a["backend"] == "mt" and a["model"] == str(models[family]) and a["cost_usd"] == 0
        assert a["prompt_tokens"] > 0 and a["completion_tokens"] > 0
        for field in ("instruction", "input", "output"):
            assert _kept(a[f"pivot_{field}"], a[f"target_{field}"])
    assert batched.describe()["mt_models"]["it"]["engine"] == "ctranslate2"
    assert any(p.name.endswith("-int8") for p in (Path(_cache_dir()) / "ct2").iterdir())


def _cache_dir() -> str:
    import os

    return os.environ["PLUGDATA_CACHE"]


def test_transformers_fallback_matches_batching_and_keeps_spans(models):
    rows = _code_rows(3)
    hf = mt_translator(str(models["marian"]), targets=["it"], engine="transformers")
    together = _translate(hf, rows)
    alone = [
        _translate(
            mt_translator(str(models["marian"]), targets=["it"], engine="transformers"),
            [row],
            concurrency=1,
        )[0]
        for row in rows
    ]
    assert [p["target_output"] for p in together] == [p["target_output"] for p in alone]
    assert hf.describe()["mt_models"]["it"]["engine"] == "transformers"
    assert not (Path(_cache_dir()) / "ct2").exists()
    for pair in together:
        assert _kept(pair["pivot_output"], pair["target_output"])


def test_request_cache_means_a_rerun_translates_nothing(models, tmp_path):
    rows = _code_rows(6)
    with RequestCache(tmp_path / "cache.sqlite") as cache:
        first = _translate(mt_translator(str(models["marian"]), targets=["it"], cache=cache), rows)
        stored = len(cache)
        again = mt_translator(str(models["marian"]), targets=["it"], cache=cache)
        second = _translate(again, rows)
        assert len(cache) == stored > 0
    assert again.batcher.batches == 0
    assert [p["target_output"] for p in first] == [p["target_output"] for p in second]
    assert all(p["cached"] == 1 for p in second)


def test_preflight_errors_name_model_and_language(models, tmp_path):
    with pytest.raises(PlugdataError, match=r"cannot download nobody/no-such-model \(for zh\)"):
        mt_translator("nobody/no-such-model", targets=["zh"])
    with pytest.raises(PlugdataError, match=r"does not know language 'xx'|unknown language"):
        mt_translator(str(models["m2m100"]), targets=["xx"])
    with pytest.raises(PlugdataError, match="translates into 'de', not into 'it'"):
        from plugdata.translate.mt.families import target_for

        target_for("marian", "Helsinki-NLP/opus-mt-en-de", set(), EN, IT)
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(
        PlugdataError, match=r"model .*bert.*(unsupported architecture|cannot be loaded).*it"
    ):
        mt_translator(str(bert), targets=["it"])


def test_keyless_build_end_to_end(models, tmp_path):
    out = tmp_path / "run"
    env = {"PLUGDATA_CACHE": str(tmp_path / "c")}
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "it",
        "--translator",
        "mt",
        "--model",
        str(models["marian"]),
        "--limit",
        "8",
        "--out",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    import polars as pl

    pairs = pl.read_parquet(out / "pairs.parquet")
    assert pairs.height == 8 and set(pairs["backend"]) == {"mt"} and pairs["cost_usd"].sum() == 0
    assert set(pairs["model"]) == {str(models["marian"])} and pairs["completion_tokens"].min() > 0
    recipe = yaml.safe_load((out / "config.yaml").read_text())
    assert recipe["translator"] == "mt" and recipe["model_licences"] == {
        str(models["marian"]): "unknown"
    }
    ran = recipe["mt_models"]["it"]  # what ran, not what was asked for ("auto")
    assert (ran["engine"], ran["device"], ran["compute_type"], ran["dtype"]) == (
        "ctranslate2",
        "cpu",
        "int8",
        None,
    )
    assert ran["loaded"] and ran["max_positions"] == 512
    card = (out / "README.md").read_text()
    assert str(models["marian"]) in card and "for it: ctranslate2 on cpu, int8" in card


def test_auto_translator_resolution(models):
    from plugdata.config import BuildConfig

    assert BuildConfig(source="seed", targets="it").translator == "mt"
    assert BuildConfig(source="seed", targets="it", model=str(models["marian"])).translator == "mt"
    assert BuildConfig(source="seed", targets="it", model="zh=a/b").translator == "mt"
    assert BuildConfig(source="seed", targets="it", model="gpt-4o-mini").translator == "llm"


def test_missing_default_model_fails_before_anything_is_written(tmp_path):
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "ko",
        "--out",
        str(tmp_path / "corpora" / "nested" / "run"),
        env={"PLUGDATA_CACHE": str(tmp_path / "c")},
    )
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "facebook/m2m100_1.2B (for ko)" in line and "Traceback" not in result.stderr
    assert "hf download facebook/m2m100_1.2B" in line and "--model ko=models/m2m100_1.2B" in line
    assert not (tmp_path / "corpora").exists()  # not even the folders above the run

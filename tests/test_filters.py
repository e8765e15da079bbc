"""The quality filters, on pairs written for these tests (real translations, then broken)."""

import json

import polars as pl
import pytest

from plugdata import BuildConfig, build
from plugdata.errors import PlugdataError
from plugdata.filters import FilterConfig, PairFilter, filter_frame, parse_filters
from plugdata.testing import FakeOpenAIServer

from .conftest import run_cli

EN_I = "Explain why regular exercise is good for your health, in a few sentences."
EN_O = (
    "Regular exercise strengthens the heart and the lungs, helps you keep a healthy weight "
    "and improves your mood. It also lowers the risk of diabetes and helps you sleep better."
)
GOOD = {
    "it": (
        "Spiega in poche frasi perché l'esercizio fisico regolare fa bene alla salute.",
        "L'esercizio fisico regolare rafforza il cuore e i polmoni, aiuta a mantenere un peso "
        "sano e migliora l'umore. Riduce anche il rischio di diabete e aiuta a dormire meglio.",
    ),
    "es": (
        "Explica en pocas frases por qué el ejercicio regular es bueno para la salud.",
        "El ejercicio regular fortalece el corazón y los pulmones, ayuda a mantener un peso "
        "saludable y mejora el estado de ánimo. También reduce el riesgo de diabetes y ayuda a "
        "dormir mejor.",
    ),
    "zh": (
        "用几句话解释为什么经常锻炼对健康有益。",
        "经常锻炼可以增强心脏和肺部功能，帮助保持健康的体重，并改善情绪。它还能降低患糖尿病的风险，"
        "并帮助你睡得更好。",
    ),
    "ko": (
        "규칙적인 운동이 건강에 좋은 이유를 몇 문장으로 설명하세요.",
        "규칙적인 운동은 심장과 폐를 튼튼하게 하고, 건강한 체중을 유지하도록 도우며, 기분을 "
        "좋게 합니다. 또한 당뇨병의 위험을 낮추고 더 잘 자도록 도와줍니다.",
    ),
}


def pair(lang="it", **overrides):
    instruction, output = GOOD[lang]
    row = {
        "id": f"x-{lang}",
        "source": "t",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": EN_I,
        "pivot_input": "",
        "pivot_output": EN_O,
        "target_instruction": instruction,
        "target_input": "",
        "target_output": output,
        "finish_reason": "stop",
        "kept": True,
        "reasons": [],
    }
    row.update(overrides)
    return row


def filter_pairs(rows, names=None, config=None, **kwargs):
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, names, config, **kwargs)
    return out.to_dicts(), stats


def verdict(row, **kwargs):
    (out,), _ = filter_pairs([row], **kwargs)
    return out["reasons"]


def rules(row, **kwargs):
    """The rules (without sub-reasons) a pair fails."""
    return [r.split(":")[0] for r in verdict(row, **kwargs)]


@pytest.mark.parametrize("lang", ["it", "es", "zh", "ko"])
def test_real_translations_pass_every_check(lang):
    assert verdict(pair(lang)) == []


@pytest.mark.parametrize("backend", ["fasttext", "langdetect"])
def test_langid_backends_and_scores_on_rows(backend):
    spanish = pair(
        "it", id="2", target_output=GOOD["es"][1], target_instruction=GOOD["it"][0] + " Grazie."
    )
    every = FilterConfig.parse({"lid_markers": 0})  # identify every text, so all get scores
    (good, bad), _ = filter_pairs([pair("it"), spanish], config=every, lid_backend=backend)
    assert good["kept"] and good["lid_target_output"] > 0.5 and good["lid_pivot_instruction"] > 0.5
    # Spanish is a neighbour of Italian (the identifier confuses them)
    assert bad["reasons"] == ["langid:neighbour"] and bad["lid_target_output"] < 0.3
    assert bad["evidence"][0]["field"] == "output" and bad["evidence"][0]["text"] in GOOD["es"][1]
    # By default, segments whose stopwords settle their language are not identified
    (good, bad), _ = filter_pairs([pair("it"), spanish], lid_backend=backend)
    assert good["kept"] and good["lid_pivot_instruction"] is None
    assert bad["reasons"] == ["langid:neighbour"] and bad["lid_target_output"] < 0.3


def test_each_check_names_its_failure():
    it_o = GOOD["it"][1]
    cases = {
        "empty": pair(target_output=" "),
        "truncated": pair(finish_reason="length"),
        "leakage": pair(target_output="Ecco la traduzione: " + it_o),
        "refusal": pair(target_output="Mi dispiace, ma non posso aiutarti con questa richiesta."),
        "untranslated": pair(target_instruction=EN_I, target_output=EN_O),
        "length_ratio": pair(target_output=it_o + " " + it_o.upper() + " Inoltre " + it_o.lower()),
        "script": pair(
            "zh", target_output="Regular exercise is good: it helps the heart and sleep."
        ),
        "repetition": pair(target_output=it_o + " e poi ancora" * 30),
    }
    for reason, row in cases.items():
        assert reason in rules(row), reason


def test_structure_protects_code_urls_placeholders_numbers_and_lists():
    code = "\n\n```python\nprint(total)\n```"
    ok = pair(pivot_output=EN_O + code, target_output=GOOD["it"][1] + code)
    assert verdict(ok) == []
    assert verdict(
        pair(
            pivot_output=EN_O + code, target_output=GOOD["it"][1] + code.replace("total", "totale")
        )
    ) == ["structure:code"]
    assert "structure:url" in verdict(
        pair(
            pivot_output=EN_O + " See https://example.com/a.",
            target_output=GOOD["it"][1] + " Vedi https://example.org/a.",
        )
    )
    assert "structure:placeholder" in verdict(
        pair(pivot_output=EN_O + " Hello {name}.", target_output=GOOD["it"][1] + " Ciao {nome}.")
    )
    assert "structure:numbers" in verdict(
        pair(
            pivot_output=EN_O + " In 1998 it cost 4500 and in 2004 it cost 5200.",
            target_output=GOOD["it"][1] + " Nel costava e poi costava ancora.",
        )
    )
    listed = "\n".join(f"- item number {i} of the list" for i in range(6))
    listed_it = "\n".join(f"- elemento numero {i} della lista" for i in range(6))
    assert verdict(pair(pivot_output=listed, target_output=listed_it)) == []
    assert "structure:list" in verdict(
        pair(pivot_output=listed, target_output=listed_it.replace("\n- ", " "))
    )


def test_a_structure_verdict_names_the_field_that_lost_the_span():
    def where(row: dict) -> list[tuple[str, str]]:
        (out,), _ = filter_pairs([row], ["structure"])
        return [(e["reason"], e["field"]) for e in out["evidence"]]

    code = "\n\n```python\nprint(total)\n```"
    it_i, it_o = GOOD["it"]
    broken = code.replace("total", "totale")
    lost_out = pair(pivot_output=EN_O + code, target_output=it_o + broken)
    assert where(lost_out) == [("structure:code", "output")]
    lost_in = pair(
        pivot_instruction=EN_I + code,
        target_instruction=it_i + broken,
        pivot_output=EN_O + code,
        target_output=it_o + code,
    )
    assert where(lost_in) == [("structure:code", "instruction")]
    numbers = pair(  # one number lost in each field: the record loses two, the instruction first
        pivot_instruction=EN_I + " It cost 4500.",
        target_instruction=it_i + " Costava molto.",
        pivot_output=EN_O + " In 2004 it cost 5200.",
        target_output=it_o + " Nel 2004 costava molto.",
    )
    assert where(numbers) == [("structure:numbers", "instruction")]
    # the code block moved from the output into the input: the record keeps it, no verdict
    moved = pair(pivot_output=EN_O + code, target_input=code.strip(), target_output=it_o)
    assert where(moved) == []


def test_short_chinese_labelled_japanese_counts_as_chinese_and_korean_needs_hangul():
    short = pair(
        "zh",
        target_instruction="解释锻炼的好处。",
        target_output="锻炼有益健康。",
        pivot_instruction="Explain the benefits of exercise.",
        pivot_output="Exercise is good for health.",
    )
    assert verdict(short) == []
    from plugdata.filters.langid import FastTextLID

    lid = FastTextLID()
    assert lid.probability("东京都", "zh") > 0.5  # lid.176 says "ja"; without kana it is Chinese
    assert lid.probability("東京へ行きます", "zh") < 0.5
    kana = pair(
        "zh", target_output="定期的な運動は心臓と肺を強くし、健康的な体重を保つのに役立ちます。"
    )
    assert "script:kana" in verdict(kana)
    assert "script:low_share" in verdict(pair("ko", target_output=GOOD["zh"][1]))


def test_chinese_given_for_japanese_is_rejected_and_kanji_without_kana_kept():
    # 况 and 糟 are not Japanese characters (outside JIS X 0208); 東京五輪延期 is a headline
    answer = (
        "定期的な運動は心臓と肺を強くし、健康的な体重を保つのに役立ち、気分も良くします。"
        "糖尿病のリスクも下げ、よく眠れるようになります。"
    )

    def ja(instruction: str) -> dict:
        return pair(
            "zh",
            target_lang="ja",
            pivot_instruction="It is very bad.",
            target_instruction=instruction,
            target_output=answer,
        )

    assert "script:hanzi" in verdict(ja("情况十分糟糕。"))
    for japanese in ("とても悪い状況です。", "東京五輪延期"):
        assert "script:hanzi" not in verdict(ja(japanese)), japanese


def test_duplicates_per_language_and_rejected_pairs_are_left_alone():
    rows = [
        pair("it"),
        pair("it", id="2"),
        pair("es"),
        pair("it", id="3", kept=False, reasons=["invalid_json"], target_output=None),
    ]
    out, stats = filter_pairs(rows)
    assert [r["reasons"] for r in out] == [[], ["duplicate:same_instruction"], [], ["invalid_json"]]
    assert stats["languages"]["it"] == {
        "checked": 2,
        "kept": 1,
        "rejected": 1,
        "reasons": {"duplicate:same_instruction": 1},
        "tags": {},
    }


def test_choosing_checks_and_thresholds():
    assert parse_filters("langid, structure") == ["langid", "structure"]
    with pytest.raises(PlugdataError, match="unknown filter"):
        parse_filters("langid,magic")
    assert FilterConfig.parse("lid_min_prob=0.9,copy_min_words=3").lid_min_prob == 0.9
    assert FilterConfig.parse({"lid_min_prob": 0.7, "copy_min_words": 4}).copy_min_words == 4
    assert FilterConfig.parse("length_ratio_high=3").length_ratio_high == 3.0
    with pytest.raises(PlugdataError, match="unknown threshold 'nope'"):
        FilterConfig.parse("nope=1")
    with pytest.raises(PlugdataError, match="lid_min_prob needs a float"):
        FilterConfig.parse("lid_min_prob=high")
    with pytest.raises(PlugdataError, match="copy_min_words needs a int"):
        FilterConfig.parse({"copy_min_words": "many"})
    with pytest.raises(PlugdataError, match="bad threshold"):
        FilterConfig.parse("lid_min_prob")
    assert "lid_backend" not in FilterConfig.__dataclass_fields__
    with pytest.raises(PlugdataError, match="lid backend"):
        PairFilter(lid_backend="magic")
    out, _ = filter_pairs([pair(target_output=" ")], names=["langid"])
    assert out[0]["kept"]


def test_filter_command_writes_kept_rejected_and_stats(tmp_path):
    rows = [
        pair("it"),
        pair("zh"),
        pair("it", id="bad", target_instruction=EN_I, target_output=EN_O),
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    result = run_cli("filter", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    kept = pl.read_parquet(tmp_path / "out" / "pairs.parquet")
    rejected = pl.read_parquet(tmp_path / "out" / "rejected.parquet")
    assert kept["id"].to_list() == ["x-it", "x-zh"] and rejected["id"].to_list() == ["bad"]
    assert "untranslated:exact_copy" in rejected["reasons"][0].to_list()
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["filters"]["languages"]["it"]["rejected"] == 1
    assert "Filter funnel" in result.stdout
    missing = run_cli("filter", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "o2"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_build_filters_by_default_and_writes_the_rejected_set(tmp_path):
    good = {EN_I: GOOD, EN_O: GOOD}

    def translate(
        text, lang
    ):  # a "model" that knows the answer, except it leaves one record in English
        if text in good:
            return good[text][lang][0 if text == EN_I else 1]
        return text

    records = [
        {"instruction": EN_I, "input": "", "output": EN_O},
        {
            "instruction": "Describe the water cycle in a few simple sentences for children.",
            "input": "",
            "output": "Water evaporates, forms clouds, and falls again as rain or snow.",
        },
    ]
    src = tmp_path / "src.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with FakeOpenAIServer(translate=translate) as srv:
        result = build(
            BuildConfig(
                source=str(src),
                targets="it,zh",
                model="m",
                base_url=srv.url,
                out=str(tmp_path / "run"),
            )
        )
    stats = result.stats
    assert stats["languages"]["it"]["kept"] == 1 and stats["languages"]["zh"]["kept"] == 1
    assert stats["filters"]["languages"]["it"]["reasons"]["untranslated:exact_copy"] == 1
    assert stats["filters"]["languages"]["zh"]["reasons"]["untranslated:exact_copy"] == 1
    rejected = pl.read_parquet(tmp_path / "run" / "rejected.parquet")
    assert rejected.height == 2 and set(rejected["target_lang"]) == {"it", "zh"}
    assert pl.read_parquet(tmp_path / "run" / "plug" / "it.parquet").height == 1
    card = (tmp_path / "run" / "README.md").read_text()
    assert "untranslated:exact_copy: 1" in card and "Filters:" in card


def test_pair_filter_streams_chunks_catches_duplicates_across_them_and_sums_stats():
    chunk = pl.DataFrame([pair("it"), pair("es")], schema_overrides={"reasons": pl.List(pl.String)})
    with PairFilter() as pf:
        first = pf.apply(chunk)
        second = pf.apply(chunk.with_columns(pl.lit("other").alias("id")))
        stats = pf.stats()
    assert first["kept"].to_list() == [True, True]
    assert second["reasons"].to_list() == [["duplicate:same_instruction"]] * 2
    assert stats["languages"]["it"] == {
        "checked": 2,
        "kept": 1,
        "rejected": 1,
        "reasons": {"duplicate:same_instruction": 1},
        "tags": {},
    }
    assert pf._ctx.lid is None  # closed

"""Language accounting over the whole field, on every registered language: the cases of issue
18's table (half translations, copied answers, neighbours, human text in sw, th and id) both
ways, on a parallel text written for these tests."""

import polars as pl
import pytest

from plugdata.filters import filter_frame

from .multilingual import EN, REGISTERED, TEXTS, joined, pair


def run(*rows, names=None):
    frame = pl.DataFrame(list(rows), schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, names)
    return out.to_dicts(), stats


def rules(row, **kwargs):
    (out,), _ = run(row, **kwargs)
    return {r.split(":")[0] for r in out["reasons"]}


@pytest.mark.parametrize("lang", REGISTERED)
def test_human_translations_are_kept_in_every_registered_language(lang):
    (out,), _ = run(pair(lang))
    assert out["kept"], out["evidence"]
    assert out["share_target_output"] == 1.0 and out["evidence"] == []


@pytest.mark.parametrize("lang", REGISTERED)
def test_an_answer_whose_second_half_stayed_in_the_pivot_is_rejected(lang):
    half = joined(lang, TEXTS[lang][1][:1]) + " " + " ".join(EN[1:])
    (out,), _ = run(pair(lang, output=half))
    assert not out["kept"]
    assert {"langid:mixed", "langid:wrong_language", "untranslated:copied_sentence"} & set(
        out["reasons"]
    )
    assert any(e["field"] == "output" and e["text"] in half for e in out["evidence"])


@pytest.mark.parametrize("lang", REGISTERED)
def test_one_middle_sentence_left_in_the_pivot_is_rejected(lang):
    sentences = list(TEXTS[lang][1])
    sentences[1] = EN[1]
    (out,), _ = run(pair(lang, output=joined(lang, sentences)))
    assert "untranslated:copied_sentence" in out["reasons"]
    assert {"reason": "untranslated:copied_sentence", "field": "output", "text": EN[1]} in out[
        "evidence"
    ]


@pytest.mark.parametrize("lang", ["it", "es", "zh", "ko"])
def test_a_half_translated_instruction_is_rejected(lang):
    pivot = (
        "Explain in a few sentences why regular exercise is good for your health and your mood, "
        "and give two examples of easy exercises that anyone can do at home."
    )
    target = TEXTS[lang][0] + " and give two examples of easy exercises that anyone can do at home."
    assert "langid" in rules(pair(lang, instruction=target, pivot_instruction=pivot)) | rules(
        pair(lang, instruction=target, pivot_instruction=pivot), names=["langid"]
    ) or "untranslated" in rules(pair(lang, instruction=target, pivot_instruction=pivot))


@pytest.mark.parametrize(
    "target, really, reason",
    [
        ("ru", "uk", "langid:neighbour"),  # Ukrainian in a Russian slot
        ("fr", "es", "langid:neighbour"),
        ("pt", "es", "langid:neighbour"),
        ("es", "pt", "langid:neighbour"),
        ("it", "de", "langid:wrong_language"),
        ("vi", "id", "langid:wrong_language"),
        ("id", "sw", "langid:neighbour"),  # lid.176 reads some Swahili as Indonesian
        ("ja", "zh", "langid:neighbour"),
    ],
)
def test_text_in_another_language_or_a_neighbour_is_rejected(target, really, reason):
    ins, sentences = TEXTS[really]
    (out,), _ = run(pair(target, instruction=ins, output=joined(really, sentences)))
    assert reason in out["reasons"], out["evidence"]
    assert out["share_target_output"] < 0.8


def test_the_offline_demos_prefixed_english_is_rejected():
    for lang in ("zh", "ko", "it"):
        row = pair(
            lang,
            instruction=f"[{lang}] " + pair(lang)["pivot_instruction"],
            output=f"[{lang}] " + " ".join(EN),
        )
        assert not run(row)[0][0]["kept"]


def test_a_chinese_answer_whose_second_half_is_the_english_answer_is_rejected():
    output = TEXTS["zh"][1][0] + TEXTS["zh"][1][1] + " " + EN[2] + " " + EN[1]
    (out,), _ = run(pair("zh", output=output))
    assert "untranslated:copied_sentence" in out["reasons"]
    assert {"langid:mixed", "langid:wrong_language"} & set(out["reasons"])
    assert out["share_pivot_output"] > 0.4


def test_shares_are_kept_per_field_and_the_funnel_says_where_thresholds_cut():
    sentences = list(TEXTS["it"][1])
    sentences[2] = EN[2]
    (good, bad), stats = run(pair("it"), pair("it", id="2", output=joined("it", sentences)))
    assert good["share_target_instruction"] == good["share_target_output"] == 1.0
    assert 0.5 < bad["share_target_output"] < 0.8 and bad["share_pivot_output"] > 0.2
    assert stats["scores"]["share_target_output"] == {
        "threshold": "lid_min_share",
        "value": 0.8,
        "reject": "below",
    }
    assert stats["scores"]["share_pivot_output"]["threshold"] is None
    assert stats["scores"]["lid_pivot_instruction"]["threshold"] == "lid_pivot_min_prob"


def test_a_french_quote_the_pivot_holds_too_is_not_held_against_the_target():
    quote = "Il faut bien le faire, et nous le ferons tous ensemble demain matin."
    pivot = " ".join(EN) + f' As the French say: "{quote}"'
    output = joined("it", TEXTS["it"][1]) + f' Come dicono i francesi: "{quote}"'
    (out,), _ = run(pair("it", output=output, pivot_output=pivot))
    assert out["kept"], out["evidence"]

"""The cheap first passes of the filters: costly expressions on hinted rows only, function
words settling a text's language before fastText, lingua only where it can change a verdict."""

import polars as pl
import pytest

from plugdata.filters import FilterConfig, filter_frame
from plugdata.filters.checks import Context
from plugdata.filters.identify import _short
from plugdata.filters.markers import likely_in
from plugdata.filters.rows import on_rows


def test_on_rows_runs_the_costly_expression_only_where_the_mask_holds():
    df = pl.DataFrame({"t": ["a1", "b", None, "c22"], "other": [1, 2, 3, 4]})
    calls = []

    def costly(s: pl.Series) -> pl.Series:
        calls.append(s.to_list())
        return s.str.to_uppercase()

    expr = pl.col("t").map_batches(costly, return_dtype=pl.String).alias("t2")
    (out,) = on_rows(df, pl.col("t").str.contains(r"\d"), [expr], [pl.lit("-")])
    assert out.to_list() == ["A1", "-", "-", "C22"]
    assert calls == [["a1", "c22"]]  # the other rows never reached it
    (none,) = on_rows(df, pl.lit(False), [expr], [pl.col("other").cast(pl.String)])
    assert none.to_list() == ["1", "2", "3", "4"] and len(calls) == 1
    (every,) = on_rows(df, pl.lit(True), [expr], [pl.lit("-")])
    assert every.to_list() == ["A1", "B", None, "C22"]


def likely(texts, lang, k=3):
    return likely_in(pl.DataFrame({"t": texts}), pl.col("t"), lang, k).to_list()


def test_function_words_settle_a_text_in_its_language_only():
    it = "Il governo ha detto che la legge sarà approvata nella prossima settimana dal parlamento."
    es = "El gobierno dijo que la ley será aprobada la próxima semana por el parlamento."
    en = "The government said that the law will be passed by parliament next week."
    assert likely([it, es, en], "it") == [True, False, False]
    assert likely([it, es, en], "es") == [False, True, False]
    assert likely([it, es, en], "en") == [False, False, True]
    # a text mixing in another language's function words goes to the identifier
    assert likely([it + " The law of the land."], "it") == [False]
    # accented letters are not word boundaries: "año", "está" hold no "os" or "est"
    assert likely(["El año pasado el gobierno está en la ciudad y los partidos también."], "es") == [True]
    # too few function words, an unlisted language, or k = 0: not settled
    assert likely(["Chi ha fondato Microsoft?"], "it") == [False]
    assert likely([it], "ro") == [False] and likely([it], "it", k=0) == [False]


def pair(lang, p_ins, t_ins, p_out, t_out):
    return {"id": f"{lang}-{len(t_out)}", "source": "t", "pivot_lang": "en", "target_lang": lang,
            "pivot_instruction": p_ins, "pivot_input": "", "pivot_output": p_out,
            "target_instruction": t_ins, "target_input": "", "target_output": t_out,
            "kept": True, "reasons": []}  # fmt: skip


P_INS = "Summarise the news about the new law in one sentence for the readers."
P_OUT = "The government said that the law will be passed by parliament next week."
IT_INS = "Riassumi in una frase per i lettori la notizia sulla nuova legge."
IT_OUT = "Il governo ha detto che la legge sarà approvata nella prossima settimana dal parlamento."
ES_OUT = "El gobierno dijo que la ley será aprobada la próxima semana por el parlamento."


@pytest.mark.parametrize("markers", [3, 0])
def test_settled_and_identified_texts_get_the_same_verdicts(markers):
    rows = [pair("it", P_INS, IT_INS, P_OUT, IT_OUT), pair("it", P_INS, IT_INS, P_OUT, ES_OUT),
            pair("it", P_INS, P_INS + " Grazie.", P_OUT, P_OUT + " Grazie mille a tutti.")]  # fmt: skip
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, _ = filter_frame(frame, ["langid", "untranslated"], FilterConfig.parse({"lid_markers": markers}))
    good, spanish, english = out.to_dicts()
    assert good["reasons"] == []
    assert spanish["reasons"] == ["langid:wrong_language"]
    assert "untranslated:word_overlap" in english["reasons"]
    # scores: null where function words settled the text, a probability where it was identified
    assert (good["lid_target_output"] is None) == (markers > 0)
    assert spanish["lid_target_output"] < 0.3


class _Fixed:
    """An identifier that answers fixed distributions and records what it was asked."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def distributions(self, texts):
        self.asked += list(texts)
        return [self.answers[t] for t in texts]


def test_lingua_is_asked_only_where_it_could_change_the_verdict():
    ctx = Context(FilterConfig())
    ctx.lid = _Fixed({"sure": {"it": 0.99, "es": 0.01}, "close": {"it": 0.5, "es": 0.45},
                      "wrong": {"es": 0.9, "it": 0.05}})  # fmt: skip
    ctx.short = _Fixed({"close": {"es": 0.8, "it": 0.2}, "wrong": {"es": 0.7, "it": 0.3}})
    found = _short(ctx, [("sure", "it", "en", False), ("close", "it", "en", False), ("wrong", "it", "en", False)])
    assert ctx.short.asked == ["close", "wrong"]  # fastText alone settles "sure"
    assert [v for _, v, _ in found] == [None, "langid:neighbour", "langid:neighbour"]
    assert found[0][2] == pytest.approx(0.99) and found[1][2] == pytest.approx((0.5 + 0.2) / 2)


def test_short_text_identifier_loads_on_first_use_and_answers_batches_like_single_texts():
    from plugdata.filters.langid import ShortTextLID

    lid = ShortTextLID(["en", "it", "es"])
    assert lid._built is None  # nothing loaded until a text comes
    words = ["la casa", "el perro", "the house", "il gatto nero", "los niños juegan", "a red car"]
    texts = [f"{w} {i}" for i in range(12) for w in words]  # a batch large enough for threads
    batch = lid.distributions(texts)
    single = ShortTextLID(["en", "it", "es"])
    for text, found in zip(texts[:6], batch[:6], strict=True):
        assert single.distributions([text])[0] == pytest.approx(found)
    assert max(batch[3], key=batch[3].get) == "it" and max(batch[4], key=batch[4].get) == "es"
    assert ShortTextLID(["en", "xx"]).distributions(["la casa"]) == [{}]  # one known language: none
    warmed = ShortTextLID(["en", "it", "es"])
    warmed.warm()  # models load on a thread; the first question waits for them
    assert warmed.distributions(texts[3:4]) == [pytest.approx(batch[3])] and warmed._loading is None


def test_a_source_instruction_not_in_the_pivot_language_is_caught_once_per_distinct_text():
    fr = "Résumez en une phrase la nouvelle concernant la nouvelle loi pour les lecteurs du journal."
    rows = [pair("it", fr, IT_INS, P_OUT, IT_OUT), pair("es", fr, IT_INS, P_OUT, ES_OUT),
            pair("it", P_INS, IT_INS, P_OUT, IT_OUT)]  # fmt: skip
    rows[1]["target_instruction"] = "Resume en una frase la noticia sobre la nueva ley para los lectores."
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, ["langid"])
    french_it, french_es, english = out.to_dicts()
    assert french_it["reasons"] == french_es["reasons"] == ["langid:pivot_not_pivot"]
    assert french_it["lid_pivot_instruction"] == french_es["lid_pivot_instruction"] < 0.05
    assert english["reasons"] == [] and english["lid_pivot_instruction"] is None  # settled
    assert stats["languages"]["it"]["reasons"] == {"langid:pivot_not_pivot": 1}


def test_verdicts_tags_and_scores_go_back_to_their_rows_around_rejected_ones():
    code = "def add(a, b):\n    return a + b"
    rows = [pair("it", P_INS, IT_INS, P_OUT, ES_OUT), pair("it", P_INS, IT_INS, P_OUT, IT_OUT),
            pair("it", "Write a Python function that adds two numbers.",
                 "Scrivi una funzione Python che somma due numeri.", code, code),
            pair("it", P_INS, IT_INS, P_OUT, IT_OUT)]  # fmt: skip
    rows[1].update(kept=False, reasons=["invalid_json"])
    rows[3].update(target_output=None, kept=True)
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, ["langid", "untranslated"])
    spanish, upstream, code_pair, missing = out.to_dicts()
    assert spanish["reasons"] == ["langid:wrong_language"] and not spanish["kept"]
    assert spanish["lid_target_output"] < 0.3
    assert upstream["reasons"] == ["invalid_json"] and upstream["lid_target_output"] is None
    assert code_pair["kept"] and code_pair["tags"] == ["verbatim_expected"]
    assert missing["reasons"] == [] and missing["tags"] == []  # not checked
    assert stats["languages"]["it"]["checked"] == 2
    assert stats["languages"]["it"]["tags"] == {"verbatim_expected": 1}


def test_pivot_side_work_runs_once_per_distinct_pivot_record():
    from plugdata.filters.rows import PIVOT_ID, per_pivot

    texts = ["a1", "b22", "c333"]
    df = pl.DataFrame({PIVOT_ID: [0, 1, 2, 0, 1, 2, 0, 1], "pivot_output": [texts[i] for i in [0, 1, 2, 0, 1, 2, 0, 1]],
                       "target_output": list("qwertyui")})  # fmt: skip
    seen = []

    def work(frame):
        seen.append(frame.columns)
        seen.append(frame["pivot_output"].to_list())
        return frame.select(pl.col("pivot_output").str.len_chars().alias("n"))

    assert per_pivot(df, work)["n"].to_list() == [2, 3, 4, 2, 3, 4, 2, 3]
    assert seen == [["pivot_output"], texts]  # the three records once, pivot columns only
    # records that barely repeat (or no ids): worked on row for row
    seen.clear()
    assert per_pivot(df.head(3), work)["n"].to_list() == [2, 3, 4]
    assert per_pivot(df.drop(PIVOT_ID), work).height == 8


def test_language_identification_on_its_own_thread_gives_the_same_verdicts(monkeypatch):
    import plugdata.filters as filters

    rows = [pair("it", P_INS, IT_INS, P_OUT, IT_OUT), pair("it", P_INS, IT_INS, P_OUT, ES_OUT),
            pair("es", P_INS, "Resume en una frase para los lectores la noticia sobre la nueva ley.", P_OUT, ES_OUT), pair("it", P_INS, IT_INS, P_OUT, IT_OUT)]  # fmt: skip
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    alone, alone_stats = filter_frame(frame)
    monkeypatch.setattr(filters, "THREAD_MIN", 0)
    threaded, threaded_stats = filter_frame(frame)
    assert threaded.equals(alone) and threaded_stats == alone_stats
    assert threaded["reasons"].to_list()[1:] == [["langid:wrong_language", "duplicate:same_instruction"], [],
                                                 ["duplicate:same_instruction"]]  # fmt: skip


def test_lingua_loads_only_for_languages_with_confusable_neighbours(monkeypatch):
    import plugdata.filters as filters
    from plugdata.filters import PairFilter

    monkeypatch.setattr(filters, "THREAD_MIN", 0)
    zh = pair("zh", P_INS, "用一句话为读者总结关于新法律的新闻。", P_OUT, "政府表示，议会将于下周通过这项法律。")
    with PairFilter() as pf:
        pf.apply(pl.DataFrame([zh], schema_overrides={"reasons": pl.List(pl.String)}))
        assert pf._ctx.short._built is None and pf._ctx.short._loading is None  # nothing loaded
        assert PairFilter._short_texts_ahead(pl.DataFrame({"target_lang": ["zh", "it"]}))
        assert not PairFilter._short_texts_ahead(pl.DataFrame({"target_lang": ["zh", "ko"]}))

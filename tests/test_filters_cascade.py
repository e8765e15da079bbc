"""The cheap first passes of the filters: costly expressions on hinted rows only, stopwords and
scripts settling a segment's language before fastText, lingua only where it can change a
verdict, the accounting on a thread of its own giving the same verdicts."""

import polars as pl
import pytest

from plugdata.filters import FilterConfig, filter_frame
from plugdata.filters.check import Context
from plugdata.filters.markers import can_settle, likely_in, rivals, words
from plugdata.filters.rows import on_rows
from plugdata.filters.shorttext import judge
from plugdata.languages import LANGUAGES

from .multilingual import TEXTS


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


def likely(texts, lang, k=2):
    return likely_in(pl.DataFrame({"t": texts}), pl.col("t"), lang, "en", k).to_list()


def test_every_registered_language_has_stopwords_from_the_documented_lists():
    assert all(len(words(code)) >= 20 for code in LANGUAGES), {c: len(words(c)) for c in LANGUAGES}
    assert "il" in words("it") and "की" in words("hi") and "katika" in words("sw")
    assert rivals("ru", "en")[:1] == ("en",) and {"uk", "be", "bg"} <= set(rivals("ru", "en"))


def test_stopwords_settle_a_text_in_its_language_only():
    it = "Il governo ha detto che la legge sarà approvata nella prossima settimana dal parlamento."
    es = "El gobierno dijo que la ley y los impuestos serán aprobados por el parlamento."
    pt = "O governo disse que a lei será aprovada pelo parlamento na próxima semana."
    en = "The government said that the law will be passed by parliament next week."
    assert likely([it, es, pt, en], "it") == [True, False, False, False]
    assert likely([it, es, pt, en], "es") == [False, True, False, False]
    # (Portuguese shares most stopwords with Galician, a neighbour: it is left to fastText)
    assert likely([it, es, en], "pt") == [False, False, False]
    # Spanish lists "os" and "da": a Portuguese sentence holds Spanish stopwords, but none that
    # only Spanish uses
    assert likely([pt], "es") == [False]
    # a text mixing in a rival's words goes to the identifier, as does k = 0
    assert likely([it + " The law of the land."], "it") == [False]
    assert likely([it], "it", k=0) == [False]


def test_stopwords_never_put_a_neighbour_in_the_expected_language():
    ukrainian = TEXTS["uk"][1]
    assert likely(ukrainian, "ru") == [False] * len(ukrainian)
    assert any(likely(TEXTS["ru"][1], "ru"))
    # Belarusian has no list: ruled out by a letter Russian never spells
    assert likely(["Урад заявіў, што новы закон будзе прыняты на наступным тыдні."], "ru") == [
        False
    ]
    assert can_settle("ru", "en") and can_settle("it", "en")


@pytest.mark.parametrize("markers", [2, 0])
def test_settled_and_identified_segments_get_the_same_verdicts(markers):
    from .multilingual import pair

    rows = [
        pair("it"),
        pair("it", id="2", output=" ".join(TEXTS["es"][1])),
        pair("it", id="3", output=" ".join(TEXTS["de"][1])),
    ]
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, _ = filter_frame(frame, ["langid"], FilterConfig.parse({"lid_markers": markers}))
    good, spanish, german = out.to_dicts()
    assert good["reasons"] == [] and spanish["reasons"] == ["langid:neighbour"]
    assert german["reasons"] == ["langid:wrong_language"]
    # scores: a probability where segments were identified (every one with lid_markers=0)
    assert markers or good["lid_target_output"] > 0.5


class _Fixed:
    """An identifier that answers fixed distributions and records what it was asked."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def distributions(self, texts):
        self.asked += list(texts)
        return [self.answers[t] for t in texts]


def test_lingua_is_asked_only_where_it_could_change_the_verdict():
    ctx = Context(FilterConfig())
    ctx.lid = _Fixed(
        {
            "sure": {"it": 0.99, "es": 0.01},
            "close": {"it": 0.5, "es": 0.45},
            "wrong": {"es": 0.9, "it": 0.05},
        }
    )
    ctx.short = _Fixed({"close": {"es": 0.8, "it": 0.2}, "wrong": {"es": 0.7, "it": 0.3}})
    found = judge(
        ctx,
        [("sure", "it", "en", False), ("close", "it", "en", False), ("wrong", "it", "en", False)],
    )
    assert ctx.short.asked == ["close", "wrong"]  # fastText alone settles "sure"
    assert [v for v, _ in found] == [None, "langid:neighbour", "langid:neighbour"]
    assert found[0][1] == pytest.approx(0.99) and found[1][1] == pytest.approx((0.5 + 0.2) / 2)


def test_short_text_identifier_loads_on_first_use_and_answers_batches_like_single_texts():
    from plugdata.filters.langid import ShortTextLID

    lid = ShortTextLID(["en", "it", "es"])
    assert lid._built is None  # nothing loaded until a text comes
    words_ = ["la casa", "el perro", "the house", "il gatto nero", "los niños juegan", "a red car"]
    texts = [f"{w} {i}" for i in range(12) for w in words_]  # a batch large enough for threads
    batch = lid.distributions(texts)
    single = ShortTextLID(["en", "it", "es"])
    for text, found in zip(texts[:6], batch[:6], strict=True):
        assert single.distributions([text])[0] == pytest.approx(found)
    assert max(batch[3], key=batch[3].get) == "it" and max(batch[4], key=batch[4].get) == "es"
    assert ShortTextLID(["en", "xx"]).distributions(["la casa"]) == [{}]  # one known language: none


def test_a_source_instruction_not_in_the_pivot_language_is_caught_once_per_distinct_text():
    from .multilingual import pair

    fr = (
        "Résumez en une phrase la nouvelle concernant la nouvelle loi pour les lecteurs du journal."
    )
    rows = [pair("it", pivot_instruction=fr), pair("es", pivot_instruction=fr), pair("it", id="x")]
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, ["langid"])
    french_it, french_es, english = out.to_dicts()
    assert french_it["reasons"] == french_es["reasons"] == ["langid:pivot_not_pivot"]
    assert french_it["lid_pivot_instruction"] == french_es["lid_pivot_instruction"] < 0.05
    assert english["reasons"] == [] and english["lid_pivot_instruction"] is None  # settled
    assert stats["languages"]["it"]["reasons"] == {"langid:pivot_not_pivot": 1}


def test_verdicts_tags_and_scores_go_back_to_their_rows_around_rejected_ones():
    from .multilingual import pair

    code = "def add(a, b):\n    return a + b"
    rows = [
        pair("it", output=" ".join(TEXTS["de"][1])),
        pair("it", id="up"),
        pair(
            "it",
            id="code",
            pivot_instruction="Write a Python function that adds two numbers.",
            instruction="Scrivi una funzione Python che somma due numeri.",
            pivot_output=code,
            output=code,
        ),
        pair("it", id="none"),
    ]
    rows[1].update(kept=False, reasons=["invalid_json"])
    rows[3].update(target_output=None)
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, ["langid", "untranslated"])
    german, upstream, code_pair, missing = out.to_dicts()
    assert german["reasons"] == ["langid:wrong_language"] and not german["kept"]
    assert german["evidence"][0]["reason"] == "langid:wrong_language"
    assert upstream["reasons"] == ["invalid_json"] and upstream["evidence"] == []
    assert upstream["lid_target_output"] is None
    assert code_pair["kept"] and code_pair["tags"] == ["verbatim_expected"]
    assert code_pair["evidence"] == []
    assert missing["reasons"] == [] and missing["tags"] == []  # not checked
    assert stats["languages"]["it"]["checked"] == 2
    assert stats["languages"]["it"]["tags"] == {"verbatim_expected": 1}


def test_pivot_side_work_runs_once_per_distinct_pivot_record():
    from plugdata.filters.rows import PIVOT_ID, per_pivot

    texts = ["a1", "b22", "c333"]
    df = pl.DataFrame(
        {
            PIVOT_ID: [0, 1, 2, 0, 1, 2, 0, 1],
            "pivot_output": [texts[i] for i in [0, 1, 2, 0, 1, 2, 0, 1]],
            "target_output": list("qwertyui"),
        }
    )
    seen = []

    def work(frame):
        seen.append(frame.columns)
        seen.append(frame["pivot_output"].to_list())
        return frame.select(pl.col("pivot_output").str.len_chars().alias("n"))

    assert per_pivot(df, work)["n"].to_list() == [2, 3, 4, 2, 3, 4, 2, 3]
    assert seen == [["pivot_output"], texts]  # the three records once, pivot columns only
    seen.clear()
    assert per_pivot(df.head(3), work)["n"].to_list() == [2, 3, 4]
    assert per_pivot(df.drop(PIVOT_ID), work).height == 8


def test_the_accounting_on_its_own_thread_gives_the_same_verdicts(monkeypatch):
    import plugdata.filters.pair_filter as pair_filter

    from .multilingual import EN, pair

    half = TEXTS["es"][1][0] + " " + " ".join(EN[1:])
    rows = [
        pair("it"),
        pair("it", id="2", output=" ".join(TEXTS["es"][1])),
        pair("es", id="3", output=half),
        pair("it", id="4"),
    ]
    frame = pl.DataFrame(rows, schema_overrides={"reasons": pl.List(pl.String)})
    alone, alone_stats = filter_frame(frame)
    monkeypatch.setattr(pair_filter, "THREAD_MIN", 0)
    threaded, threaded_stats = filter_frame(frame)
    assert threaded.equals(alone) and threaded_stats == alone_stats
    reasons = threaded["reasons"].to_list()
    assert "langid:neighbour" in reasons[1] and "untranslated:copied_sentence" in reasons[2]
    assert reasons[0] == [] and reasons[3] == ["duplicate:same_instruction"]


def test_lingua_loads_only_for_languages_with_confusable_neighbours(monkeypatch):
    import plugdata.filters.pair_filter as pair_filter
    from plugdata.filters import PairFilter

    from .multilingual import pair

    monkeypatch.setattr(pair_filter, "THREAD_MIN", 0)
    with PairFilter() as pf:
        pf.apply(
            pl.DataFrame([pair("zh"), pair("ko")], schema_overrides={"reasons": pl.List(pl.String)})
        )
        assert pf._ctx.short is None  # zh and ko: no short-text neighbours, nothing built
        pf.apply(pl.DataFrame([pair("it")], schema_overrides={"reasons": pl.List(pl.String)}))
        assert pf._ctx.short is not None and {"it", "es", "fr", "en"} <= pf._short_langs


def test_prefetched_texts_come_back_from_the_worker_processes_as_identified_in_process(
    monkeypatch,
):
    import warnings

    from plugdata.filters import langid

    monkeypatch.setattr(langid, "PARALLEL_MIN", 2)
    sentences = [s for lang in ("it", "es", "de", "zh") for s in TEXTS[lang][1]]
    # several batches of some 300 KB each handed over before any answer is read: the pipes
    # must not fill up
    batches = [[f"{s} {i} {k}" for i in range(1500) for s in sentences[:2]] for k in range(3)]
    texts = [t for b in batches for t in b]
    here = langid.FastTextLID()
    expected = here.predict(texts[::97])
    lid = langid.FastTextLID()
    lid.prepare(10)
    assert len(lid._workers) > 1  # (two cores or more)
    try:
        for batch in batches:
            lid.prefetch(batch)
        assert lid.distributions(texts[::97]) == expected
        assert not lid._pending
        lid.prefetch(texts[:10])  # all known: nothing to hand over
        assert not lid._pending
        for worker in lid._workers:  # workers that end: identified in this process instead
            worker._proc.kill()
            worker._proc.wait()
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            lid.prefetch(["Dies ist ein deutscher Satz.", "Questa è una frase."])
            found = lid.distributions(["Dies ist ein deutscher Satz.", "Questa è una frase."])
        assert "identifying in this process" in str(said[0].message)
        assert max(found[0], key=found[0].get) == "de" and max(found[1], key=found[1].get) == "it"
    finally:
        lid.close()

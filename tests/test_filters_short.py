"""Short texts and copies on invented pairs: neighbours judged by fastText and lingua, and a copy
of the pivot that only changed its quote marks is still a copy."""

import pytest

from plugdata.filters import TAG_VERBATIM

from .test_filters_instructions import pair, reasons, run


def test_a_short_text_in_a_neighbouring_language_is_rejected_and_one_in_its_own_kept():
    p = "Earthquakes and tsunamis in Indonesia"
    assert reasons(pair("es", p, "Terremotos y tsunamis en Indonesia")) == []
    assert reasons(pair("it", p, "Terremoti e tsunami in Indonesia")) == []
    assert "langid:neighbour" in reasons(
        pair("it", "Who founded the company?", "¿Quién fundó la empresa?")
    )


def test_a_copy_that_only_changed_its_quote_marks_is_untranslated():
    p_ins = '"Stop, stop, stop it right now," said the teacher.'
    for quoted in (
        "“Stop, stop, stop it right now,” said the teacher.",
        "«Stop, stop, stop it right now», said the teacher.",
    ):
        assert "untranslated:exact_copy" in reasons(pair("it", p_ins, quoted))
    assert reasons(pair("it", p_ins, "«Basta, basta, smettila subito», disse l'insegnante.")) == []


def test_a_needed_copy_that_changed_its_quote_marks_is_kept_and_tagged():
    p_ins, t_ins = (
        "Correct the spelling of this French sentence.",
        "Correggi l'ortografia di questa frase francese.",
    )
    p_in, t_in = '"Il faut bien le faire."', "«Il faut bien le faire.»"
    (row,), _ = run(
        pair("it", p_ins, t_ins, "Il faut bien le faire.", "Il faut bien le faire.", p_in, t_in)
    )
    assert row["kept"], row["reasons"]
    assert row["tags"] == [TAG_VERBATIM]


def test_a_short_copy_of_a_pivot_text_in_a_neighbours_language_is_kept_and_tagged():
    p_ins = "Independent schools will continue to offer this choice, as the French say:"
    t_ins = "Le scuole indipendenti continueranno a offrire questa scelta, come dicono i francesi:"
    french = "Il faut bien le faire."  # French, a neighbour of Italian, copied from the pivot
    (row,), _ = run(pair("it", p_ins, t_ins, french, french))
    assert row["kept"], row["reasons"]
    assert row["tags"] == [TAG_VERBATIM]
    spanish = "Lo tenemos que hacer."  # not a copy: still a neighbour where Italian is expected
    (row,), _ = run(pair("it", p_ins, t_ins, "We have to do it.", spanish))
    assert row["reasons"] == ["langid:neighbour"]


def test_a_target_holding_the_whole_pivot_with_a_tag_or_label_is_untranslated():
    p_ins = "Antonym of 'ancient'?"
    for copy in (f"[zh] {p_ins}", f"Traduzione: {p_ins}"):
        lang = "zh" if copy.startswith("[zh]") else "it"
        assert "untranslated:exact_copy" in reasons(pair(lang, p_ins, copy)), copy
    # a translation that keeps a quoted word, or wraps a shorter part of the pivot, is kept
    assert reasons(pair("it", p_ins, "Contrario di 'ancient'?")) == []
    assert reasons(pair("zh", p_ins, "'ancient' 的反义词是什么？")) == []


@pytest.mark.parametrize("lang", ["it", "ko"])
def test_an_instruction_that_is_a_quote_in_another_language_may_stay_as_it_is(lang):
    # (for Korean, the script check too must let a quote in Latin letters stand)
    (row,), _ = run(pair(lang, "Ich verstehe nur Bahnhof", "Ich verstehe nur Bahnhof"))
    assert row["kept"], row["reasons"]
    assert row["tags"] == [TAG_VERBATIM]
    # a short English instruction the identifier is unsure of is still an untranslated echo
    for english in ("Write a sports-themed haiku.", "It tears us apart."):
        found = reasons(pair(lang, english, english))
        assert "untranslated:exact_copy" in found, english
        assert lang != "ko" or "script:low_share" in found


def test_a_short_instruction_quoting_a_neighbours_language_may_stay_as_it_is():
    # French is a neighbour of Spanish: the short-text judgement must let the quote stand too
    (row,), _ = run(pair("es", "Il faut bien le faire.", "Il faut bien le faire."))
    assert row["kept"], row["reasons"]
    assert row["tags"] == [TAG_VERBATIM]
    english = "I'll be with you soon."  # a short English instruction copied is still an echo
    assert "untranslated:exact_copy" in reasons(pair("es", english, english))

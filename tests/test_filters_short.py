"""Short texts and copies on invented pairs: a neighbour's own function words weigh for it,
and a copy of the pivot that only changed its quote marks is still a copy."""

import pytest

from plugdata.filters import TAG_VERBATIM, FilterConfig
from plugdata.filters.markers import contrasting

from .test_filters_instructions import pair, reasons, run


@pytest.mark.parametrize("text, lang, found", [
    ("Terremoti e tsunami in Indonesia", "es", {"it"}),  # "in": Italian, never Spanish
    ("Il sindaco della città", "es", {"it", "fr"}),
    ("Terremotos y tsunamis en Indonesia", "es", set()),  # Spanish words only
    ("Il gatto y el perro", "es", set()),  # Spanish words too: no contrast
    ("El año de la casa", "pt", {"es", "fr", "ca"}),
    ("Un año más", "it", set()),  # "año" holds no "o" (letters outside ASCII are no boundary)
    ("Terremoti e tsunami in", "ro", set()),  # an unlisted language
])  # fmt: skip
def test_a_neighbours_own_function_words_point_to_it(text, lang, found):
    assert contrasting(text, lang) == found


def test_a_short_text_holding_a_neighbours_own_function_words_is_rejected():
    p = "Earthquakes and tsunamis in Indonesia"
    assert reasons(pair("es", p, "Terremoti e tsunami in Indonesia")) == ["langid:neighbour"]
    assert reasons(pair("es", p, "Terremotos y tsunamis en Indonesia")) == []
    assert reasons(pair("it", p, "Terremoti e tsunami in Indonesia")) == []


def test_the_function_words_weight_is_a_threshold():
    assert FilterConfig().short_marker_weight == 0.5
    assert FilterConfig.parse("short_marker_weight=0").short_marker_weight == 0.0


def test_a_copy_that_only_changed_its_quote_marks_is_untranslated():
    p_ins = '"Stop, stop, stop it right now," said the teacher.'
    for quoted in ("“Stop, stop, stop it right now,” said the teacher.",
                   "«Stop, stop, stop it right now», said the teacher."):  # fmt: skip
        assert "untranslated:exact_copy" in reasons(pair("it", p_ins, quoted))
    assert reasons(pair("it", p_ins, "«Basta, basta, smettila subito», disse l'insegnante.")) == []


def test_a_needed_copy_that_changed_its_quote_marks_is_kept_and_tagged():
    p_ins, t_ins = "Translate into English.", "Traduci in inglese."
    p_in, t_in = '"Il faut bien le faire."', "«Il faut bien le faire.»"
    (row,), _ = run(pair("it", p_ins, t_ins, "It has to be done.", "Deve essere fatto.", p_in, t_in))
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

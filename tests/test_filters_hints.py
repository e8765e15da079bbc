"""The shortcuts the filters take for speed give the answers of the long way round: cheap
hints never miss what the costly pattern finds, counts by complement equal counts, searches
that stop at the n-th word agree with counting every word."""

import polars as pl
import pytest

from plugdata.filters import patterns as P
from plugdata.filters.accounting import ASIDE_HINT
from plugdata.filters.checks.langid import _words
from plugdata.filters.checks.untranslated import ASCII_LOWER, LOWER
from plugdata.filters.markers import likely_in
from plugdata.filters.prepare import set_aside
from plugdata.filters.segments import count_chars

from .multilingual import EN, TEXTS

CODE = [
    "def area(r):\n    return 3.14 * r * r",
    "Write it like this: def area (r) and call it",
    "function add(a, b) { return a + b; }",
    "SELECT name FROM users WHERE age > 30;",
    "body { color: red; }",
    "color: red;",
    '<div class="box">Hello</div>',
    "total = price * quantity",
    "x -> x + 1",
    "#include <stdio.h>",
    "if x > 3: print(x)",
    "for i in range(10):\n    total += i",
    "Use re.compile(pattern) here",
    "The regex ^[a-z]+$ matches words, and \\d+ matches digits",
    "print(len(items))",
    "import numpy as np",
    "while (n > 0) n--;",
    "public static void main(String[] args)",
    "const total = items.length",
]
PROSE = [*EN, *(text for lang, (ins, sentences) in TEXTS.items() for text in [ins, *sentences])]
QUOTED = [
    'He said "stay here" and left.',
    "«Restez ici», dit-il.",
    "他说「留在这里」。",
    "She called it 'the best day' twice.",
]


def _frame(texts):
    return pl.DataFrame({"t": texts})


@pytest.mark.parametrize("text", CODE + PROSE + QUOTED)
def test_no_code_is_found_where_the_hint_finds_nothing(text):
    frame = _frame([text])
    found = frame.select(pl.col("t").str.contains(P.VERBATIM)).item()
    hint = frame.select(pl.col("t").str.contains(P.VERBATIM_HINT)).item()
    assert hint or not found
    aside = frame.select(pl.col("t").str.contains(ASIDE_HINT)).item()
    changed = frame.select(set_aside(pl.col("t")) != pl.col("t")).item()
    assert aside or not changed


def test_code_is_hinted_and_plain_prose_mostly_is_not():
    frame = _frame(CODE)
    assert frame.select(pl.col("t").str.contains(P.VERBATIM_HINT).all()).item()
    prose = _frame(PROSE).select(pl.col("t").str.contains(P.VERBATIM_HINT).mean()).item()
    assert prose < 0.2


def test_character_counts_by_complement_equal_the_counts():
    frame = _frame([*PROSE, *CODE, "", "１２３ abc 中文 한국어 カタカナ"])
    for chars in [r"\p{L}", P.WIDE, *P.SCRIPTS.values()]:
        direct = frame.select(pl.col("t").str.count_matches(chars).cast(pl.Int64)).to_series()
        complement = frame.select(count_chars(pl.col("t"), chars)).to_series()
        assert direct.to_list() == complement.to_list(), chars


@pytest.mark.parametrize("n", [0, 1, 2, 3, 9, 17])
def test_word_thresholds_agree_with_counting_every_word(n):
    texts = [*PROSE, "", "one", "a b", "x, y; z!", *(" ".join(["word"] * k) for k in range(20))]
    frame = pl.DataFrame({"_trans_target_instruction": texts})
    counted = frame.select(pl.col("_trans_target_instruction").str.count_matches(r"\p{L}+") >= n)
    assert (
        frame.select(_words("instruction", n)).to_series().to_list()
        == counted.to_series().to_list()
    )


def test_ascii_word_bounds_find_every_ascii_word_unicode_bounds_find():
    odd = ["señora dice que the meeting was «great» today", "naïve café words, über cool"]
    texts = [*PROSE, *odd]
    frame = _frame(texts).select(
        pl.col("t").str.extract_all(LOWER).alias("u"),
        pl.col("t").str.extract_all(ASCII_LOWER).alias("a"),
    )
    for unicode_words, ascii_words in frame.iter_rows():
        assert {w for w in unicode_words if w.isascii()} <= set(ascii_words)


def _likely(texts, lang, margin):
    frame = pl.DataFrame({"t": texts})
    return likely_in(frame, pl.col("t"), lang, "en", 2, margin=margin).to_list()


def test_the_margin_settles_a_sentence_holding_a_neighbours_word_but_not_the_pivots():
    # "forma" is listed by Portuguese and Galician, not by Spanish
    es = (
        "El gobierno dijo que la nueva forma de la ley y los impuestos serán aprobados por el "
        "parlamento."
    )
    assert _likely([es], "es", margin=False) == [False]
    assert _likely([es], "es", margin=True) == [True]
    mixed = (
        "El gobierno dijo que los impuestos serán aprobados, and the law will be passed next week."
    )
    assert _likely([mixed], "es", margin=True) == [False]  # a word only English uses


@pytest.mark.parametrize("expected", ["es", "pt", "it", "fr", "de", "ru", "id"])
def test_the_margin_settles_no_text_of_another_language(expected):
    others = [
        text
        for lang, (ins, sentences) in TEXTS.items()
        if lang != expected
        for text in [ins, *sentences]
    ]
    assert not any(_likely([*others, *EN], expected, margin=True))


def test_the_margin_is_taken_against_each_rival_in_turn():
    # Each of its stopwords is listed by some rival (so none is Spanish's alone), but against
    # each rival in turn it holds two more Spanish words than words of that rival.
    es = (
        "Los vecinos del barrio dijeron que el grupo no estaba de acuerdo con la forma del "
        "proyecto."
    )
    assert _likely([es], "es", margin=False) == [False]
    assert _likely([es], "es", margin=True) == [True]
    pt = "Este desconcerto surge dos planos de mudar o nome da Assembleia para Parlamento."
    assert _likely([pt], "es", margin=True) == [False]


def test_letters_of_another_script_or_of_the_alphabet_do_not_block_russian():
    # (Russian's list spells no ф; a name in Latin letters says nothing of Belarusian)
    ru = "Компания Yandex объявила о финансировании, но это было не так, как все думали."
    be = "Урад заявіў, што новы закон будзе прыняты на наступным тыдні, але не ўсе згодныя."
    assert _likely([ru, be], "ru", margin=True) == [True, False]


def test_words_are_found_beside_elisions_and_punctuation_of_every_script():
    # (words are split at spaces once punctuation, digits and symbols are replaced by spaces)
    fr = "L'État a dit qu'il n'y aurait pas d'accord."
    ar = "قالت الحكومة، إن القانون الجديد سيطبق في الأسبوع المقبل، ولكن ليس قبل ذلك."
    assert _likely([fr], "fr", margin=True) == [True]
    assert _likely([ar], "ar", margin=True) == [True]
    assert _likely(["L'État a dit (qu'il), 2024."], "fr", margin=True) == [True]


def test_a_text_in_another_registered_script_is_never_settled_by_stopwords():
    korean = "디 자이트(Die Zeit) 신문에 따르면, 승인이 2019년 상반기로 연기됐다고 보도했습니다."
    assert _likely([korean], "de", margin=True) == [False]
    assert _likely(["Die Zeit berichtet, dass die Zulassung verschoben wurde."], "de", True) == [
        True
    ]

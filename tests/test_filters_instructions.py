"""Filters on instruction data: verbatim spans, language-bound answers, short texts, numbers
and lists (the examples of issue 12, and more)."""

import polars as pl
import pytest

from plugdata.filters import TAG_VERBATIM, filter_frame


def pair(lang, p_ins, t_ins, p_out="", t_out="", p_in="", t_in=""):
    return {
        "id": f"{lang}-{hash((p_ins, t_ins, p_out, t_out)) & 0xFFFF}",
        "source": "t",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": p_ins,
        "pivot_input": p_in,
        "pivot_output": p_out,
        "target_instruction": t_ins,
        "target_input": t_in,
        "target_output": t_out,
        "kept": True,
        "reasons": [],
    }


def run(*rows):
    frame = pl.DataFrame(list(rows), schema_overrides={"reasons": pl.List(pl.String)})
    out, stats = filter_frame(frame, [n for n in ("structure", "untranslated", "script", "langid")])
    return out.to_dicts(), stats


def reasons(row):
    return run(row)[0][0]["reasons"]


@pytest.mark.parametrize(
    "p, t, lang",
    [
        (
            "What is the difference between memory management in Python and Rust?",
            "Python和Rust的内存管理有什么不同？",
            "zh",
        ),
        ("Please explain useEffect in React.", "请解释React中的useEffect。", "zh"),
        (
            "What is the difference between Docker and Kubernetes?",
            "Docker와 Kubernetes의 차이점은 무엇인가요?",
            "ko",
        ),
        ('Write a definition of "photoshop".', "写出“photoshop”的定义。", "zh"),
        (
            "Make up a sentence using the following words: vegetable, powerful, unable",
            "用以下单词造句：vegetable、powerful、unable",
            "zh",
        ),
        (
            "Update the SQL query to return the names.\nSELECT * FROM Employees;",
            "更新 SQL 查询以仅返回名称。\nSELECT * FROM Employees;",
            "zh",
        ),
    ],
)
def test_names_code_and_quotes_copied_from_the_pivot_do_not_count_against_the_script(p, t, lang):
    assert reasons(pair(lang, p, t)) == []


def test_a_text_in_latin_script_where_hangul_is_expected_is_still_rejected():
    row = pair("ko", "Explain why the sky is blue.", "Explain why the sky looks blue to us.")
    assert "script:low_share" in reasons(row)


@pytest.mark.parametrize(
    "p_ins, t_ins, out",
    [
        (
            "Write a Python function that adds two numbers.",
            "Scrivi una funzione Python che somma due numeri.",
            "def add(a, b): return a + b",
        ),
        (
            "Write a SQL query that lists every customer.",
            "Scrivi una query SQL che elenca tutti i clienti.",
            "SELECT name FROM customers WHERE active = 1;",
        ),
        (
            "Give the CSS rule that moves a box to the right.",
            "Dai la regola CSS che sposta una scatola a destra.",
            "margin-left: 25px;",
        ),
        (
            "Sort these words alphabetically: apple, pear, fig.",
            "Ordina alfabeticamente queste parole: apple, pear, fig.",
            "apple, fig, pear",
        ),
        (
            "Write a regular expression that matches a year.",
            "Scrivi un'espressione regolare che trova un anno.",
            "^\\d{4}$",
        ),
    ],
)
def test_answers_that_must_stay_as_they_are_are_kept_and_tagged(p_ins, t_ins, out):
    (row,), stats = run(pair("it", p_ins, t_ins, out, out))
    assert row["kept"], row["reasons"]
    assert row["tags"] == [TAG_VERBATIM]
    assert stats["languages"]["it"]["tags"] == {TAG_VERBATIM: 1}


@pytest.mark.parametrize(
    "lang, p_ins, t_ins",
    [
        (
            "zh",
            "Rewrite this Python function description in plain words.",
            "用通俗的话改写这段 Python 函数说明。",
        ),
        ("zh", "Explain what this code does.", "解释这段代码的作用。"),
        (
            "it",
            "Write a function that explains why exercise is healthy.",
            "Scrivi una funzione che spieghi perché l'esercizio fa bene.",
        ),
        (
            "es",
            "Translate 'Guten Morgen' into English, and explain when people say it.",
            "Traduce 'Guten Morgen' al inglés y explica cuándo se dice.",
        ),
    ],
)
def test_words_of_the_instruction_are_no_evidence_for_a_copied_answer(lang, p_ins, t_ins):
    out = "Regular exercise strengthens the heart and improves your mood every single day."
    (row,), _ = run(pair(lang, p_ins, t_ins, out, out))
    assert "untranslated:exact_copy" in row["reasons"] and row["tags"] == []


def test_words_the_target_instruction_hands_over_are_evidence():
    p_ins = "Sort these words alphabetically: pear, apple, fig, banana."
    sorted_words = "apple, banana, fig, pear"
    kept = pair(
        "zh",
        p_ins,
        "按字母顺序排列这些单词：pear, apple, fig, banana。",
        sorted_words,
        sorted_words,
    )
    (row,), _ = run(kept)
    assert row["kept"] and row["tags"] == [TAG_VERBATIM]
    # the same words translated in the instruction: the English answer is no longer handed over
    translated = pair(
        "it", p_ins, "Ordina alfabeticamente: pera, mela, fico, banana.", sorted_words, sorted_words
    )
    (row,), _ = run(translated)
    assert row["tags"] == []


def test_a_copied_answer_to_an_ordinary_instruction_is_untranslated_and_not_tagged():
    out = "Regular exercise strengthens the heart and improves your mood every day."
    (row,), _ = run(
        pair("es", "Why is exercise good for you?", "¿Por qué es bueno el ejercicio?", out, out)
    )
    assert "untranslated:exact_copy" in row["reasons"] and row["tags"] == []


@pytest.mark.parametrize("lang", ["es", "it", "zh"])
def test_an_english_echo_of_a_short_instruction_is_untranslated(lang):
    assert "untranslated:exact_copy" in reasons(
        pair(lang, "Who founded Microsoft?", "Who founded Microsoft?")
    )


def test_names_and_titles_copied_exactly_are_not_echoes():
    assert reasons(pair("es", "Hotel California - Eagles", "Hotel California - Eagles")) == []
    assert (
        reasons(pair("it", "Compare them.", "Confrontali.", "Netflix vs Hulu", "Netflix vs Hulu"))
        == []
    )


def test_short_texts_in_a_neighbouring_language_are_rejected():
    assert "langid:neighbour" in reasons(
        pair("es", "Who founded Microsoft?", "Chi ha fondato Microsoft?")
    )
    assert "langid:neighbour" in reasons(
        pair("it", "Who founded the company?", "¿Quién fundó la empresa?")
    )
    assert reasons(pair("es", "Who founded Microsoft?", "¿Quién fundó Microsoft?")) == []
    assert reasons(pair("it", "Who founded Microsoft?", "Chi ha fondato Microsoft?")) == []


def test_code_may_have_its_comments_and_messages_translated_but_not_its_code():
    ask, chiedi = (
        "Write a function that halves a number.",
        "Scrivi una funzione che dimezza un numero.",
    )
    code = (
        '```python\ndef half(n):\n    # Halve the number\n    print("Halving")  # say so\n'
        "    return (n + 1) // 2\n```"
    )
    translated = (
        code.replace("Halve the number", "Dimezza il numero")
        .replace('"Halving"', '"Dimezzo"')
        .replace("say so", "lo dice")
    )
    assert reasons(pair("it", ask, chiedi, code, translated)) == []
    # the code itself changed: an operator, or the floor division read as a comment
    for broken in (translated.replace("n + 1", "n - 1"), translated.replace("// 2", "// 3")):
        assert "structure:code" in reasons(pair("it", ask, chiedi, code, broken)), broken
    c_code = "```c\nint half(int n) {\n    return n / 2; // halve it\n}\n```"
    c_translated = c_code.replace("halve it", "dimezzalo")
    assert reasons(pair("it", ask, chiedi, c_code, c_translated)) == []
    assert "structure:code" in reasons(
        pair("it", ask, chiedi, c_code, c_translated.replace("/ 2;", "/ 4;"))
    )


def test_times_and_decades_are_the_same_numbers_however_written():
    p = "He entered the market at 4.40 am and left at 11.15 am, as he had done since the 1980s."
    kept = "Entró en el mercado a las 4:40 y salió a las 11:15, como hacía desde los años 80."
    assert reasons(pair("es", "What did he do?", "¿Qué hizo?", p, kept)) == []
    lost = "Entró en el mercado de madrugada y salió por la mañana, como hacía desde los años 80."
    assert "structure:numbers" in reasons(pair("es", "What did he do?", "¿Qué hizo?", p, lost))
    # a year and a day are not a time
    p = "2004: A major quake struck Aceh province on December 26, killing 226,000 people."
    zh = "2004:12月26日，亚齐省发生大地震，造成226,000人死亡。"
    assert reasons(pair("zh", "What happened?", "发生了什么？", p, zh)) == []


def test_full_width_numbers_and_inline_lists_are_the_same_structure():
    p = "It costs 3,250 points and 1,400 coins in 2021."
    assert (
        reasons(pair("zh", "How much?", "多少钱？", p, "它需要3，250点和1,400枚硬币，2021年。"))
        == []
    )
    assert (
        reasons(pair("zh", "How much?", "多少钱？", p, "它需要３，２５０点和１４００枚硬币。"))
        == []
    )
    assert "structure:numbers" in reasons(
        pair("zh", "How much?", "多少钱？", p, "它需要很多点和硬币。")
    )
    listed = "1. Low cost\n2. Low emissions\n3. Easy to build"
    assert (
        reasons(
            pair("zh", "List the benefits.", "列出好处。", listed, "1.低成本 2.低排放 3.易于建造")
        )
        == []
    )
    assert "structure:list" in reasons(
        pair("zh", "List the benefits.", "列出好处。", listed, "低成本、低排放、易于建造")
    )


def test_a_list_is_judged_within_its_tolerance_both_ways():
    """One item of ten merged away is within ``list_tolerance``; three of four are not (fewer
    items than the pivot are counted as such, not as a wrapped-round unsigned difference)."""
    ten = "\n".join(f"{i}. Item number {i} of the list" for i in range(1, 11))
    nine = "\n".join(f"{i}. Elemento numero {i} della lista" for i in range(1, 10))
    ins, t_ins = "List ten things.", "Elenca dieci cose."
    assert "structure:list" not in reasons(pair("it", ins, t_ins, ten, nine + " e il decimo"))
    four = "1. Low cost\n2. Low emissions\n3. Easy to build\n4. Quiet"
    one = "1. Costo basso, emissioni basse, facile da costruire e silenzioso"
    assert "structure:list" in reasons(
        pair("it", "List the benefits.", "Elenca i vantaggi.", four, one)
    )


def test_a_copied_answer_that_is_not_in_the_pivot_language_is_kept_and_tagged():
    p_ins = "Independent schools will continue to offer this choice, as the French say:"
    t_ins = "Los colegios independientes seguirán ofreciendo esta opción, como dicen los franceses:"
    french = "Il faut bien le faire, et nous le ferons tous ensemble."
    (row,), stats = run(pair("es", p_ins, t_ins, french, french))
    assert row["kept"], row["reasons"]
    assert row["tags"] == [TAG_VERBATIM] and stats["languages"]["es"]["tags"] == {TAG_VERBATIM: 1}
    english = "Independent schools will keep offering this choice to all of their pupils."
    (row,), _ = run(pair("es", p_ins, t_ins, english, english))
    assert "untranslated:exact_copy" in row["reasons"] and row["tags"] == []

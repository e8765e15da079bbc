"""Stopwords as a cheap first pass before language identification.

The word lists are the Stopwords ISO collection (https://github.com/stopwords-iso, MIT,
through the ``stopwordsiso`` package): one list per ISO 639-1 code, for every registered
language and most of their neighbours. Only single words are used (lists for languages written
without spaces are left to the script rules).

A segment that holds at least ``k`` distinct stopwords that only the expected language uses
(none of its rivals lists them) and not one word that only a **rival** uses is taken as written
in the expected language, without running the identifier. (The lists are generous, Spanish
lists ``os`` and ``da``: a Portuguese sentence holds many Spanish stopwords, but none that only
Spanish uses.) A language's rivals are the pivot language, its confusable neighbours
(:mod:`~plugdata.filters.neighbour_table`, derived from the identifier) and every registered
language written in the same script. A rival without a list (Belarusian, Nepali) is ruled out
by letters instead: the segment may use no letter of the expected language's script that
neither its own list nor its alphabet (CLDR's exemplar letters, :data:`ALPHABETS`) spells
(Belarusian writes ``ў`` and ``і``, Russian does not; a name in Latin letters rules out
nothing).

The language accounting's segments are settled with a **margin** instead, taken against each
rival in turn: not one word that only the pivot uses (what is left untranslated is the pivot),
and against every rival, ``k`` more distinct words of the expected language's list that the
rival does not list than words of the rival's list that the expected language does not. Few
words belong to Spanish alone among ten Latin-script rivals (``los`` is Galician too, ``el``
Catalan), but against each one a Spanish sentence holds several (``los`` and ``el`` against
Portuguese, ``y`` and ``los`` against Catalan). The lists are uneven (Galician lists 160 words,
Portuguese 560; Spanish text holds ``forma``, ``grupo`` and ``caso``, which only Portuguese,
Galician or Italian list), so one such word need not send a Spanish sentence to the
identifier; text in a neighbour holds few or none of the expected language's own words. On
NTREX-128 (1,997 sentences in each of ten languages and English) the margin settles 69-85% of
each of the es, pt, it, fr, de, ru and ar sentences (46-83% with one margin against all rivals
together), and not one sentence of another of the ten (a text holding letters of a script
that another registered language writes and the expected one does not is never settled: a
Korean sentence naming the newspaper *Die Zeit* is no German one). ``bench/lid_samples`` holds
one Catalan sentence it settles as Spanish and one Galician as Portuguese (of ten each), which
the accounting then counts as the target language.

Words are looked up as written, in lower case or capitalised (lower-casing every text first is
slow for most scripts); a word in capitals is not looked up.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import polars as pl

from plugdata.filters.neighbour_table import NEIGHBOURS
from plugdata.languages import LANGUAGES

# A word: letters and the marks written on them (Devanagari and Thai vowel signs).
WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036f\u0900-\u109f\u1780-\u17ff])*")
# What separates words, for the whole-frame lookups: spaces, and the punctuation, digits and
# symbols of the registered scripts that stick to words ("país.", "(AM,", "l'hospital",
# "الحكومة،"). Replacing them all at once and splitting on spaces is about twice as fast as
# extracting runs of letters by pattern; a word next to a rarer sign is left unmatched.
SEPARATORS = [
    *"\t\n\r\xa0\u2009\u202f",
    *".,;:!?\"'`()[]{}<>/\\|%$*&#@+=~^_-",
    *"«»“”‘’„‚‹›—–…¿¡€£",
    *"0123456789",
    *"。、，！？：；（）「」『』《》【】·।॥،؛؟٪٫٬",
]
# The Unicode scripts each registered script (ISO 15924, as in plugdata.languages) writes in.
SCRIPT_CLASSES = {
    "Latn": ("Latin",),
    "Cyrl": ("Cyrillic",),
    "Arab": ("Arabic",),
    "Deva": ("Devanagari",),
    "Hans": ("Han",),
    "Jpan": ("Han", "Hiragana", "Katakana"),
    "Hang": ("Hangul",),
    "Thai": ("Thai",),
}
# The letters of the registered languages that have a rival without a stopword list: CLDR's
# main exemplar characters (letters only; for Hindi with the nukta letters of its auxiliary
# set). A stopword list alone misses some (Russian lists spell no ф or ъ, Arabic no ظ).
ALPHABETS = {
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "ar": "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىيـ",
    "hi": (
        "अआइईउऊऋएऐऑओऔ"  # vowels
        + "कखगघङचछजझञटठडढण"  # consonants
        + "तथदधनपफबभमयरलवशषसह"
        + "क़ख़ग़ज़ड़ढ़फ़य़"  # with a nukta
    ),
    "sw": "abcdefghijklmnoprstuvwyz",
}


@cache
def words(lang: str) -> frozenset[str]:
    """The language's stopwords (single words, lower case); empty where there is no list."""
    import stopwordsiso

    if not stopwordsiso.has_lang(lang):
        return frozenset()
    return frozenset(w.lower() for w in stopwordsiso.stopwords(lang) if WORD.fullmatch(w))


@cache
def rivals(lang: str, pivot: str) -> tuple[str, ...]:
    """The languages a text in ``lang`` must hold no word of before stopwords settle it."""
    script = LANGUAGES[lang].script if lang in LANGUAGES else None
    same = [c for c, x in LANGUAGES.items() if x.script == script]
    found = dict.fromkeys([pivot, *NEIGHBOURS.get(lang, ()), *same])
    return tuple(c for c in found if c != lang)


@cache
def _sets(lang: str, pivot: str) -> tuple[list[str], list[str], str | None] | None:
    """The words only the expected language uses, the words only its rivals use, and where a
    rival has no list, a pattern of the letters of the language's script that neither its list
    nor its alphabet (:data:`ALPHABETS`) spells (None where the language has no list). Letters
    of other scripts (a name in Latin letters in Russian text) say nothing of which Cyrillic
    language a text is in."""
    own = words(lang)
    if not own:
        return None
    listed = [r for r in rivals(lang, pivot) if words(r)]
    theirs = frozenset().union(*(words(r) for r in listed))
    alphabet = None
    if len(listed) < len(rivals(lang, pivot)):
        letters = "".join(sorted({c for w in own for c in w} | set(ALPHABETS.get(lang, ""))))
        script = "".join(f"\\p{{{name}}}" for name in _scripts(lang)) or "\\p{L}"
        alphabet = f"[\\p{{L}}&&[{script}]&&[^" + re.escape(letters).replace("]", "\\]") + "]]"
    return sorted(own - theirs), sorted(theirs - own), alphabet


def can_settle(lang: str, pivot: str) -> bool:
    """Whether stopwords can settle texts expected in ``lang`` (see the module docstring)."""
    return _sets(lang, pivot) is not None


def likely_in(
    df: pl.DataFrame, text: pl.Expr, lang: str, pivot: str, k: int, margin: bool = False
) -> pl.Series:
    """Per row of ``df``, whether ``text`` holds ``k`` or more distinct stopwords only ``lang``
    uses and no word only its rivals use, or with ``margin``, no word only the pivot uses and,
    against each other rival, ``k`` more distinct words of ``lang``'s list that the rival does
    not list than words of the rival's that ``lang`` does not (always false where the lists
    cannot settle ``lang`` or ``k`` is 0). The words of every row are looked up at once."""
    sets = _sets(lang, pivot)
    if sets is None or k <= 0:
        return pl.Series("likely", [False] * df.height, dtype=pl.Boolean)
    # Texts are not lower-cased (slow for most scripts): words are looked up as written, in
    # lower case or capitalised (see _forms), and counted once whatever their case.
    split = text.str.replace_many(SEPARATORS, [" "] * len(SEPARATORS)).str.split(" ")
    words = df.select(split.alias("form")).with_row_index("i")
    table = _pairwise(lang, pivot) if margin else _table(lang, pivot)
    hits = words.explode("form").join(table, on="form", how="inner").unique(["i", "w"])
    if margin:
        nets = [c for c in table.columns if c.startswith("net_")]
        per_row = hits.group_by("i").agg(pl.col("pivot").any(), *(pl.col(c).sum() for c in nets))
        settled = ~pl.col("pivot") & pl.min_horizontal(nets).ge(k)
    else:
        side = pl.col("side")
        per_row = hits.group_by("i").agg(
            (side == MINE).sum().alias("mine"),
            (side == OTHER).any().alias("other"),
            (side == PIVOT).any().alias("pivot"),
        )
        settled = (pl.col("mine") >= k) & ~pl.col("other") & ~pl.col("pivot")
    found = np.zeros(df.height, dtype=bool)
    found[per_row.filter(settled)["i"].to_numpy()] = True
    if found.any():  # (a Korean sentence naming "Die Zeit" is no German one)
        rows = np.flatnonzero(found)
        other = df[rows].select(text.str.contains(_other_scripts(lang)).fill_null(False))
        found[rows[other.to_series().to_numpy()]] = False
    likely = pl.Series("likely", found, dtype=pl.Boolean)
    if sets[2] is not None:  # a rival without a list: no letter the language never spells
        foreign = text.str.contains("(?i)" + sets[2])
        likely = likely & ~df.select(foreign).to_series().fill_null(False)
    return likely.alias("likely")


def _scripts(lang: str) -> tuple[str, ...]:
    """The Unicode scripts a registered language writes in (none for another)."""
    return SCRIPT_CLASSES.get(LANGUAGES[lang].script, ()) if lang in LANGUAGES else ()


@cache
def _other_scripts(lang: str) -> str:
    """A pattern of the letters of the scripts other registered languages write and ``lang``
    does not (Latin aside: names are written in it everywhere): text holding one is not
    settled by stopwords."""
    others = {name for code in LANGUAGES for name in _scripts(code)}
    others -= {*_scripts(lang), "Latin"}
    return "[" + "".join(f"\\p{{{name}}}" for name in sorted(others)) + "]"


MINE, PIVOT, OTHER = 0, 1, 2  # whose a deciding word is: lang's only, the pivot's, others'


@cache
def _table(lang: str, pivot: str) -> pl.DataFrame:
    """The words that decide: ``w``, and ``side``: only ``lang`` uses it, or only its rivals
    do, the pivot among them, or other rivals only."""
    own, foreign, _ = _sets(lang, pivot)
    pivots = words(pivot)
    sides = [MINE] * len(own) + [PIVOT if w in pivots else OTHER for w in foreign]
    table = pl.DataFrame(
        {"w": [*own, *foreign], "side": sides}, schema={"w": pl.String, "side": pl.Int8}
    )
    return _forms(table)


@cache
def _pairwise(lang: str, pivot: str) -> pl.DataFrame:
    """The words of ``lang``'s list and its listed rivals': ``w``; ``pivot``: only the pivot
    uses it (of the two); and per rival ``r`` (the pivot too), ``net_r``: 1 where only
    ``lang`` lists it, -1 where only ``r`` does, 0 where both do (a row's sum is its margin
    against ``r``)."""
    own = words(lang)
    listed = [r for r in rivals(lang, pivot) if words(r)]
    every = sorted(own.union(*(words(r) for r in listed)))
    pivots = words(pivot) - own
    columns = {f"net_{r}": [(w in own) - (w in words(r)) for w in every] for r in listed}
    frame = pl.DataFrame(
        {"w": every, "pivot": [w in pivots for w in every], **columns},
        schema={"w": pl.String, "pivot": pl.Boolean, **{c: pl.Int8 for c in columns}},
    )
    return _forms(
        frame.filter(pl.col("pivot") | pl.any_horizontal(pl.col(c) != 0 for c in columns))
    )


def _forms(table: pl.DataFrame) -> pl.DataFrame:
    """A word table (``w``, lower case) with ``form``: each word as written in lower case and
    capitalised ("los", "Los")."""
    title = table.with_columns(pl.col("w").str.to_titlecase().alias("form"))
    lower = table.with_columns(pl.col("w").alias("form"))
    return pl.concat([lower, title.filter(pl.col("form") != pl.col("w"))])

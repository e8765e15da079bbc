"""Function words: a cheap first pass before language identification.

A text that holds at least ``k`` distinct common function words of the expected language and
none of the other listed languages' is taken as written in the expected language, without
running the identifier (the only question the language checks ask of a long text is whether it
is in that language). Every other text is identified as before. Each list holds the most common
function words of its language, shared ones included (a word of the expected language never
counts against it); a text in another listed language always holds some of that language's
words, and so always goes to the identifier.
"""

from __future__ import annotations

import re

import polars as pl

# Lower-case ASCII words only (letters outside ASCII are read as "x", so that no accented word
# holds one: "año" holds no "os").
WORDS: dict[str, tuple[str, ...]] = {
    "en": ("the", "and", "of", "with", "that", "this", "what", "which", "who", "is", "are",
           "were", "have", "has", "been", "would", "should", "could", "from", "they", "their",
           "there", "your", "you", "its", "how", "why", "when", "not", "be", "by", "into",
           "about", "these", "those", "than", "then", "them", "our", "does", "did", "it", "to",
           "for", "on", "at", "an", "or", "was", "will", "in", "i", "no", "do", "son", "per",
           "come", "non"),
    "it": ("il", "gli", "della", "delle", "degli", "dello", "nella", "nelle", "negli", "nel",
           "alla", "alle", "agli", "allo", "dalla", "dalle", "dagli", "sulla", "sulle", "sul",
           "che", "sono", "anche", "questo", "questa", "questi", "queste", "quello", "quella",
           "essere", "stato", "stata", "hanno", "di", "dei", "molto", "loro", "ancora", "ed",
           "cui", "in", "le", "la", "per", "i", "un", "una", "con", "da", "non", "si", "ha",
           "lo", "del", "al", "come", "ma", "se", "tra", "fra", "ci", "e", "o", "su", "va", "no",
           "sua", "qui", "ce", "ne", "sa"),
    "es": ("el", "los", "las", "del", "y", "que", "por", "para", "una", "con", "como", "pero",
           "sus", "muy", "fue", "tiene", "cuando", "este", "esto", "estos", "estas", "esta",
           "han", "ser", "entre", "les", "es", "en", "la", "de", "un", "se", "no", "lo", "al",
           "su", "le", "ha", "mas", "sobre", "desde", "hay", "dos", "nos", "o", "e", "si", "da",
           "son", "va", "sur"),
    "pt": ("do", "da", "dos", "das", "os", "em", "no", "na", "nos", "nas", "um", "uma",
           "com", "que", "para", "por", "mais", "foi", "como", "ele", "ela", "seu", "sua", "tem",
           "pelo", "pela", "isso", "muito", "de", "o", "e", "se"),
    "fr": ("le", "les", "des", "et", "une", "dans", "pour", "que", "qui", "pas", "sur",
           "avec", "sont", "au", "aux", "du", "il", "ce", "cette", "ces", "nous", "vous", "ils",
           "elle", "mais", "ou", "la", "de", "un", "en", "ne", "se", "sa", "son", "on"),
    "ca": ("els", "les", "amb", "aquest", "aquesta", "dels", "als", "pel", "per", "va", "el",
           "la", "de", "del", "que", "i", "en", "un", "una", "no", "al", "es", "ha", "com"),
    "de": ("der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "von", "zu",
           "den", "dem", "auf", "sich", "auch", "sie", "im", "wie", "ich", "wir", "oder"),
}  # fmt: skip


# A listed word after one character that is not a letter (the text gets a leading space): a
# literal first character lets the regex engine skip ahead, where a word boundary would not.
_PATTERN = r"[^a-z](?:" + "|".join(sorted(set().union(*WORDS.values()), key=len, reverse=True)) + r")(?-u:\b)"


def own_words(lang: str) -> list[str]:
    """The expected language's function words."""
    return sorted(set(WORDS[lang]))


def apart_from(lang: str, other: str) -> list[str]:
    """The expected language's function words that ``other`` does not use."""
    return sorted(set(WORDS[lang]) - set(WORDS[other]))


def other_words(lang: str) -> list[str]:
    """The other listed languages' function words that the expected language does not use."""
    return sorted(_others(lang) - set(WORDS[lang]))


def _others(lang: str) -> set[str]:
    return set().union(*(set(w) for code, w in WORDS.items() if code != lang))


def likely_in(df: pl.DataFrame, text: pl.Expr, lang: str, k: int) -> pl.Series:
    """Per row of ``df``, whether ``text`` holds ``k`` or more distinct function words of
    ``lang``, for each other listed language one that it does not use, and none of the other
    languages' own words (always false for an unlisted language or a ``k`` of 0)."""
    if lang not in WORDS or k <= 0:
        return pl.Series("likely", [False] * df.height)
    # Letters outside ASCII become "x", so that "año" holds no "os" and "está" no "est".
    lower = text.str.to_lowercase().str.replace_all(r"[\p{L}&&[^\x00-\x7F]]+", "x")
    found = (" " + lower).str.extract_all(_PATTERN).list.eval(pl.element().str.slice(1))
    words = df.select(found.list.unique().alias("w"))  # listed words only: a few per text

    def holds(listed: list[str]) -> pl.Expr:
        return pl.col("w").list.eval(pl.element().is_in(pl.Series(listed).implode()))

    own = holds(own_words(lang)).list.sum() >= k
    # against each other language, one word it does not use ("con la del ha" is Italian too)
    apart = pl.all_horizontal([holds(apart_from(lang, x)).list.any() for x in WORDS if x != lang])
    other = holds(other_words(lang)).list.any()
    return words.select((own & apart & ~other).fill_null(False).alias("likely"))["likely"]


_FOREIGN_LETTERS = re.compile(r"(?:(?![\x00-\x7f])[^\W\d_])+")
_WORD = re.compile(r"[a-z]+")


def contrasting(text: str, lang: str) -> set[str]:
    """The listed languages whose own function words (ones ``lang`` does not use) ``text``
    holds, where it holds none of ``lang``'s function words that such a language does not
    use: ``"Terremoti e tsunami in"`` (``in``, no ``en``) points to Italian where Spanish is
    expected. For short texts, where identifiers are unsure."""
    if lang not in WORDS:
        return set()
    words = set(_WORD.findall(_FOREIGN_LETTERS.sub("x", text.lower())))
    if not words & _LISTED:
        return set()
    return {other for other in WORDS if other != lang and words & _APART[other, lang]
            and not words & _APART[lang, other]}  # fmt: skip


_LISTED = frozenset().union(*WORDS.values())
_APART = {(a, b): frozenset(apart_from(a, b)) for a in WORDS for b in WORDS if a != b}

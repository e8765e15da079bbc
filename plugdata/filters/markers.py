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


_PATTERN = r"(?-u:\b)(?:" + "|".join(sorted(set().union(*WORDS.values()), key=len, reverse=True)) + r")(?-u:\b)"


def own_words(lang: str) -> list[str]:
    """The expected language's function words."""
    return sorted(set(WORDS[lang]))


def own_only_words(lang: str) -> list[str]:
    """The expected language's function words that no other listed language uses."""
    return sorted(set(WORDS[lang]) - _others(lang))


def other_words(lang: str) -> list[str]:
    """The other listed languages' function words that the expected language does not use."""
    return sorted(_others(lang) - set(WORDS[lang]))


def _others(lang: str) -> set[str]:
    return set().union(*(set(w) for code, w in WORDS.items() if code != lang))


def likely_in(df: pl.DataFrame, text: pl.Expr, lang: str, k: int) -> pl.Series:
    """Per row of ``df``, whether ``text`` holds ``k`` or more distinct function words of
    ``lang``, one of them used by no other listed language, and none of the other languages'
    own words (always false for an unlisted language or a ``k`` of 0)."""
    if lang not in WORDS or k <= 0:
        return pl.Series("likely", [False] * df.height)
    # Letters outside ASCII become "x", so that "año" holds no "os" and "está" no "est".
    lower = text.str.to_lowercase().str.replace_all(r"[\p{L}&&[^\x00-\x7F]]+", "x")
    words = df.select(lower.str.extract_all(_PATTERN).list.unique().alias("w"))  # listed words only

    def holds(listed: list[str]) -> pl.Expr:
        return pl.col("w").list.eval(pl.element().is_in(pl.Series(listed).implode()))

    own = holds(own_words(lang)).list.sum() >= k
    only, other = holds(own_only_words(lang)).list.any(), holds(other_words(lang)).list.any()
    return words.select((own & only & ~other).fill_null(False).alias("likely"))["likely"]

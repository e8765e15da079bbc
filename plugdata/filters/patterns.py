"""Phrase lists and regular expressions shared by the checks (Rust-regex syntax for polars)."""

from __future__ import annotations

CODE_BLOCK = r"(?s)```.*?```|~~~.*?~~~"
INLINE_CODE = r"`[^`\n]+`"
URL = r"https?://[^\s<>()\"'`]*[^\s<>()\"'`.,;:!?]"
PLACEHOLDER = r"\{\{[^{}]*\}\}|\{[A-Za-z_][\w.]*\}|%\([A-Za-z_]\w*\)[sdif]|%[sd]"
# A number; a time (4:40) reads as one, as 4.40 does. (ASCII word boundaries: the regex engine's
# fast path cannot take Unicode ones in non-ASCII text, and 午後4:40 is a time too.)
NUMBER = r"(?-u:\b)\d{1,2}:\d{2}(?-u:\b)|\d+(?:[.,\u00a0 ]\d{3})*(?:[.,]\d+)?"
LIST_LINE = r"(?m)^\s*(?:[-*+•]|\d+[.)])\s+\S"
TABLE_LINE = r"(?m)^\s*\|.*\|\s*$"
MARKER = r"\[\[P\d+\]\]"
SPAN_HINT = r"[`~{%]|https?://"  # a text without these holds no code, URL or placeholder

EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# Unfenced code, recognised by its shape: a whole line that opens with a keyword and has code
# punctuation, ends in `;`, `{` or `}`, is a CSS declaration, an HTML tag, a SQL statement or
# an assignment; and, inside prose, calls like `print(x)` and HTML tags.
_KEYWORD = (
    r"(?:def|class|return|import|from|function|var|let|const|if|elif|else|for|while|"
    r"print|public|private|static|void|int|#include|SELECT|INSERT|UPDATE|DELETE|CREATE|"
    r"DROP|ALTER|WHERE)"
)
CODE_LINE = (
    "(?m)^[ \t]*(?:"
    + "|".join(
        [
            _KEYWORD + r"(?-u:\b)[^\n]*[(){}\[\]:=;*<>][^\n]*",
            r"[^\n]*[;{}][ \t]*",
            r"[\w.#:-]+[ \t]*\{[^\n]*",
            r"[\w-]+[ \t]*:[ \t]*[^\n;]+;[^\n]*",
            r"</?[A-Za-z][\w-]*(?:[ \t][^\n>]*)?>[^\n]*",
            r"[A-Za-z_][\w.\[\]]*[ \t]*(?:[-+*/%]?=|==|->|=>)[ \t]*[^\n]*[\w)\]\"'][ \t]*",
        ]
    )
    + ")$"
)
CODE_INLINE = "|".join(
    [
        r"(?-u:\b)(?:def|function)[ \t]+\w+[ \t]*\([^)\n]*\)[^\n]*",
        r"(?-u:\b)SELECT(?-u:\b)[^\n]*?(?-u:\b)FROM(?-u:\b)[^\n;]*;?",
        r"</?[A-Za-z][\w-]*(?:[ \t][^\n>]*)?>",
        r"[A-Za-z_][\w.]*\([^()\n]*\)",
        r"[\w-]+[ \t]*:[ \t]*[\w#.%-]+(?:[ \t]+[\w#.%-]+)*;",
        r"\^[^\s]*\$|\\[dws][^\s]*",  # regular expressions
    ]
)
QUOTED = "|".join(
    [
        r"\"[^\"\n]{1,200}\"",
        r"“[^”\n]{1,200}”",
        r"「[^」\n]{1,200}」",
        r"『[^』\n]{1,200}』",
        r"«[^»\n]{1,200}»",
        r"(?:^|[\s(:：,，])'[^'\n]{1,120}'(?:$|[\s.,;:!?)，。])",
    ]
)
# Names, titles and identifiers: tokens kept verbatim when copied from the pivot.
TOKEN = r"[\p{Latin}\d_](?:[\p{Latin}\d_+#]|['.-][\p{Latin}\d_])*"
NAME = r"[\p{Lu}\d_][\p{L}\d_+#]*|\p{Ll}+[\p{Lu}\d_][\p{L}\d_]*"  # capitalised or mixed

# Text to strip before identifying a language or comparing prose.
NON_PROSE = f"{CODE_BLOCK}|{INLINE_CODE}|{URL}|{EMAIL}|{PLACEHOLDER}|{MARKER}|\\d+"
# Also legitimately verbatim, removed before judging the script and the language.
VERBATIM = f"{CODE_LINE}|{CODE_INLINE}"
# What every match of VERBATIM holds (kept in step with it): a `;`, brace, `<`, `=`, `^` or
# backslash, an arrow, a call (`name(`), SELECT, def or function, or a line opening with a
# keyword. Texts without any hold no code, and are not searched for it.
VERBATIM_HINT = (
    r"[;{}<=\\^]|->|[\w.]\(|SELECT|(?:def|function)[ \t]"
    rf"|(?m)^[ \t]*{_KEYWORD}(?-u:\b)"
)
QUOTE_MARKS = " \t\"'“”‘’「」『』«»,.:;()：，。"

# Full-width digits and punctuation, read as their ASCII forms when comparing numbers.
WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "，": ",",
    "．": ".",
    "。": ".",
    "％": "%",
    "：": ":",
    "、": ",",
    "\u3000": " ",
}
# List items: bullets at the start of a line, numbered items anywhere (an inline "1.低成本").
LIST_ITEM = r"(?m)^[ \t]*[-*+•][ \t]*[^\s\-*]|(?:^|[\s:：,，;；])\d{1,2}[.)、．]\s*[^\d\s.]"

SCRIPTS = {
    "zh": r"\p{Han}",
    "ja": r"[\p{Han}\p{Hiragana}\p{Katakana}]",
    "ko": r"\p{Hangul}",
    "ru": r"\p{Cyrillic}",
    "ar": r"\p{Arabic}",
    "hi": r"\p{Devanagari}",
    "th": r"\p{Thai}",
}
KANA = r"[\p{Hiragana}\p{Katakana}]"
# Letters only one registered language writes (Unicode scripts): a segment holding them is in
# that language or in none of the others.
OWN_LETTERS = {"ko": r"\p{Hangul}", "ja": KANA, "th": r"\p{Thai}"}
# Sentence ends: Latin and Greek, CJK full width, Devanagari danda, Arabic and Urdu, Khmer,
# Myanmar, Ethiopic.
SENTENCE_MARKS = ".!?。！？…।॥؟۔។။።"
# A segment: text up to its sentence ends, or a line.
SEGMENT = f"[^\n{SENTENCE_MARKS}]+[{SENTENCE_MARKS}]*"
# Scripts with no full stop in use (Thai, Lao) or written without spaces between words
# (Khmer, Myanmar): a space between their letters ends a phrase, often a sentence.
SPACED_PHRASE = r"([\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}])[ \t]+"
NO_FULL_STOP = r"[\p{Thai}\p{Lao}]"  # a text may end on one of these letters
WIDE = r"[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}]"  # counts as 3 characters of length
# A sentence that ends properly, and a text that ends on punctuation or a closing quote.
SENTENCE_END = f"[{SENTENCE_MARKS}]['\"”’»」』)\\]）]*\\s*$"
TEXT_END = f"(?:[{SENTENCE_MARKS}'\"“”‘’»」』)\\]）]|{NO_FULL_STOP})\\s*$"
# A text cut inside brackets or quotes: more brackets opened than closed, or a text that ends
# a few characters after an opening quote (a curly or CJK one: ASCII quotes open and close
# alike), or on an opening quote. Quotes are not counted: translators mix their forms.
OPEN_BRACKET = r"[(（\[【]"
CLOSE_BRACKET = r"[)）\]】]"
OPEN_QUOTE_END = r'[“「『«][^“”「」『』«»"。！？.!?]{1,8}$|(?:^|[\s,，:：])[“「『«"]\s*$'

# Target length per English length for the same meaning, where a CJK or Hangul character
# counts as three: medians over NTREX-128 lines of 30+ characters for ko, it, es, ja, fr, de,
# pt, ru, ar (bench/calibrate_filters.py's data); zh 0.95 (median 0.90: the cut-text bounds
# were calibrated on 0.95); estimates for hi, vi, th, id, sw.
CHAR_RATIO = {
    "en": 1.0,
    "zh": 0.95,
    "ja": 1.26,
    "ko": 1.27,
    "th": 0.95,
    "ar": 0.92,
    "hi": 1.0,
    "ru": 1.1,
    "vi": 1.05,
    "id": 1.1,
    "sw": 1.1,
    "de": 1.19,
    "fr": 1.18,
    "es": 1.15,
    "it": 1.17,
    "pt": 1.12,
}

# Written in lower case, matched case-insensitively (``(?i)``, cheaper than lower-casing every
# text); `(?-u:\b)` is an ASCII word boundary (a Unicode one cannot use the fast path).
LEAKAGE = "|".join(
    [
        r"^\s*(?:sure|certainly|of course|okay)[,!.]",
        r"here(?:'s| is| are) (?:the|your|my) translat",
        r"(?-u:\b)translat(?:ion|ed text)\s*:",
        r"you are a professional translator",
        r"\"(?:instruction|input|output)\"\s*:",
        r"\[\[p\d+\]\]",
        r"以下是.{0,6}翻译|翻译如下|译文[:：]|翻译[:：]",
        r"以下は.{0,6}翻訳|翻訳[:：]",
        r"다음은.{0,6}번역|번역문?\s*[:：]",
        r"ecco la traduzione|traduzione\s*:",
        r"aqu[ií] (?:est[aá]|tienes) la traducci[oó]n|traducci[oó]n\s*:",
        r"voici la traduction|traduction\s*:",
        r"hier ist die [üu]bersetzung|[üu]bersetzung\s*:",
        r"aqui est[aá] a tradu[cç][aã]o|tradu[cç][aã]o\s*:",
        r"вот перевод|перевод\s*:",
        r"إليك الترجمة|الترجمة\s*:",
        r"यहाँ अनुवाद है|अनुवाद\s*:",
        r"đây là bản dịch|bản dịch\s*:",
        r"นี่คือคำแปล|คำแปล\s*:",
        r"berikut (?:adalah )?terjemahan|terjemahan\s*:",
        r"hii ndiyo tafsiri|tafsiri\s*:",
    ]
)

REFUSAL = "|".join(
    [
        r"i'?m sorry,? but i (?:can(?:no|')t|am unable)",
        r"(?-u:\b)i (?:cannot|can't|am unable to) (?:help|assist|comply|fulfil|provide|do that)",
        r"(?-u:\b)as an ai(?: language model)?(?-u:\b)",
        r"(?:抱歉|对不起)[，,]?\s*(?:我)?(?:无法|不能)",
        r"作为一个?(?:ai|人工智能)",
        r"죄송하지만|죄송합니다만|도와드릴 수 없",
        r"申し訳ありませんが",
        r"mi dispiace,? ma non posso|non posso aiutar",
        r"lo siento,? pero no puedo|no puedo ayudar",
        r"(?:je suis )?d[ée]sol[ée],? (?:mais )?je ne peux pas",
        r"es tut mir leid,? aber ich kann|ich kann (?:dabei )?nicht helfen",
        r"(?:desculpe|sinto muito),? mas n[aã]o posso",
        r"(?:извините|к сожалению),? (?:но )?я не могу",
    ]
)

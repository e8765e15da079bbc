"""Confusable neighbours of every registered language, derived from the language
identifier (fastText lid.176) by ``bench/derive_neighbours.py``: do not edit by hand.

Derived with --limit 1997 --min-top 0.01 --min-mass 0.01.
Per language, the labels lid.176 confuses with it on its own text (share of windows
the label came first on, mean probability it took), made symmetric among registered
languages:

- zh: ja 0.060/0.063
- ko: none
- it: es 0.008/0.014, fr 0.011/0.017
- es: ca 0.005/0.021, fr 0.008/0.015, gl 0.001/0.011, it 0.007/0.012, pt 0.011/0.029
- ja: zh 0.016/0.021
- fr: es 0.009/0.014
- de: none
- pt: ca 0.004/0.010, es 0.054/0.056, fr 0.010/0.011, gl 0.006/0.028, it 0.007/0.010
- ru: bg 0.002/0.011, uk 0.001/0.014
- ar: arz 0.001/0.012, fa 0.004/0.011
- hi: mr 0.033/0.069, ne 0.000/0.015
- vi: none
- th: none
- id: ca 0.000/0.014, it 0.017/0.015, ms 0.051/0.168
- sw: de 0.000/0.023, eo 0.017/0.025, es 0.000/0.018, eu 0.000/0.019, fi 0.017/0.008, id
  0.050/0.045, kw 0.000/0.014, la 0.033/0.023, ms 0.067/0.017, nl 0.000/0.010, pl 0.000/0.015,
  sl 0.117/0.036, sv 0.033/0.007
- be: cv 0.000/0.012, kk 0.000/0.017, ru 0.081/0.111, uk 0.027/0.053
- bg: mk 0.000/0.031, ru 0.132/0.140, sr 0.000/0.015, uk 0.000/0.019
- ca: ast 0.000/0.010, es 0.025/0.033, fr 0.050/0.078, oc 0.000/0.018
- gl: es 0.225/0.211, fr 0.000/0.012, is 0.025/0.014, pt 0.350/0.265, vi 0.000/0.013
- mr: gom 0.000/0.018, hi 0.194/0.203, ne 0.000/0.031
- ms: id 0.500/0.435
- ne: hi 0.194/0.228, mr 0.083/0.125
- uk: be 0.000/0.011, ru 0.000/0.010
"""

NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "zh": ("ja",),
    "ko": (),
    "it": ("es", "fr", "id", "pt"),
    "es": ("ca", "fr", "gl", "it", "pt", "sw"),
    "ja": ("zh",),
    "fr": ("ca", "es", "gl", "it", "pt"),
    "de": ("sw",),
    "pt": ("ca", "es", "fr", "gl", "it"),
    "ru": ("be", "bg", "uk"),
    "ar": ("arz", "fa"),
    "hi": ("mr", "ne"),
    "vi": ("gl",),
    "th": (),
    "id": ("ca", "it", "ms", "sw"),
    "sw": ("de", "eo", "es", "eu", "fi", "id", "kw", "la", "ms", "nl", "pl", "sl", "sv"),
}

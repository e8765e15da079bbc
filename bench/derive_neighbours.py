"""Derive each registered language's confusable neighbours from the language identifier itself.

For every registered language, real text in it (NTREX-128 human translations where the shared
data has them, else the sentences in ``bench/lid_samples/{code}.txt``, written for this) is cut
into windows of 3, 5 and 8 words and whole sentences, and fastText lid.176 (the model the
filters use) names the top five languages of each window. A label is a **neighbour** of the
language when, on that language's own text, it comes first on at least ``--min-top`` of the
windows or takes at least ``--min-mass`` of the probability on average: what the identifier
confuses with the expected language. Sample text in a few unregistered languages
(``bench/lid_samples``: uk, be, bg, gl, ca, ms, mr, ne) is read the same way, and a registered
language the identifier puts on it becomes its neighbour's neighbour. The pivot (English) is
left out: names and loanwords put it on every language's text, and the filters judge it as the
pivot, not as a neighbour. Neighbourhood is made symmetric among registered languages (if
Spanish text reads as Italian, Italian is a neighbour of Spanish and Spanish of Italian).

The result is written to ``plugdata/filters/neighbour_table.py`` (``--write``) with the figures
it came from, so that a change of identifier is one command away:

    python bench/derive_neighbours.py /work/shared/data/ntrex128 --write
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ntrex import FILES, lines

from plugdata.filters.langid import FastTextLID
from plugdata.languages import LANGUAGES

SAMPLES = Path(__file__).parent / "lid_samples"
TABLE = Path(__file__).parent.parent / "plugdata" / "filters" / "neighbour_table.py"
PIVOT = "en"
SPACELESS = {"zh", "ja", "th"}  # windows of characters, not words


def sentences(code: str, ntrex: Path, limit: int) -> list[str]:
    """Real sentences in the language: NTREX where the shared data has it, else the samples."""
    if code == "en" or code in FILES:
        return lines(ntrex, code, limit)
    return (SAMPLES / f"{code}.txt").read_text(encoding="utf-8").splitlines()


def windows(sentence: str, code: str) -> list[str]:
    """The whole sentence and its first windows of 3, 5 and 8 words (or 6, 10, 16 characters
    for languages written without spaces)."""
    out = [sentence]
    if code in SPACELESS:
        chars = sentence.replace(" ", "")
        out += [chars[:n] for n in (6, 10, 16) if len(chars) > n]
    else:
        words = sentence.split()
        out += [" ".join(words[:n]) for n in (3, 5, 8) if len(words) > n]
    return out


def confusions(code: str, texts: list[str], lid: FastTextLID) -> tuple[Counter, Counter, int]:
    """Per other label: windows it came first on, and its summed probability; windows."""
    top, mass = Counter(), Counter()
    n = 0
    for sentence in texts:
        for window in windows(sentence, code):
            found = lid.distributions([window])[0]
            n += 1
            if found:
                best = max(found, key=found.__getitem__)
                if best != code:
                    top[best] += 1
            for label, p in found.items():
                if label != code:
                    mass[label] += p
    return top, mass, n


def derive(ntrex: Path, limit: int, min_top: float, min_mass: float) -> tuple[dict, dict]:
    """Neighbours per registered language, and the figures behind each: the labels the
    identifier confuses with it on its text, and the sampled unregistered languages whose
    text it reads as that language."""
    lid = FastTextLID()
    found: dict[str, set[str]] = defaultdict(set)
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    others = sorted(p.stem for p in SAMPLES.glob("*.txt") if p.stem not in LANGUAGES)
    for code in [c for c in LANGUAGES if c != PIVOT] + others:
        top, mass, n = confusions(code, sentences(code, ntrex, limit), lid)
        figures[code] = {
            label: (top[label] / n, mass[label] / n)
            for label in {*top, *mass}
            if label != PIVOT and (top[label] / n >= min_top or mass[label] / n >= min_mass)
        }
        found[code] |= set(figures[code])
    for code, near in list(found.items()):  # symmetric, towards registered languages
        for other in near & set(LANGUAGES):
            if other != PIVOT:
                found[other].add(code)
    return {code: sorted(found[code]) for code in LANGUAGES if code != PIVOT}, figures


def write(table: dict[str, list[str]], figures: dict, args: argparse.Namespace) -> None:
    lines = [
        '"""Confusable neighbours of every registered language, derived from the language',
        "identifier (fastText lid.176) by ``bench/derive_neighbours.py``: do not edit by hand.",
        "",
        f"Derived with --limit {args.limit} --min-top {args.min_top} --min-mass {args.min_mass}.",
        "Per language, the labels lid.176 confuses with it on its own text (share of windows",
        "the label came first on, mean probability it took), made symmetric among registered",
        "languages:",
        "",
    ]
    for code, near in figures.items():
        cells = ", ".join(f"{k} {t:.3f}/{m:.3f}" for k, (t, m) in sorted(near.items()))
        lines += textwrap.wrap(f"- {code}: {cells or 'none'}", 96, subsequent_indent="  ")
    lines += ['"""', "", "NEIGHBOURS: dict[str, tuple[str, ...]] = {"]
    for code, near in table.items():  # as ruff formats it
        names = ", ".join(f'"{n}"' for n in near) + ("," if len(near) == 1 else "")
        lines.append(f'    "{code}": ({names}),')
    lines.append("}")
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ntrex", type=Path, help="the NTREX-128 folder")
    parser.add_argument("--limit", type=int, default=600, help="NTREX sentences per language")
    parser.add_argument("--min-top", type=float, default=0.01)
    parser.add_argument("--min-mass", type=float, default=0.01)
    parser.add_argument("--write", action="store_true", help=f"write {TABLE.name}")
    args = parser.parse_args()
    table, figures = derive(args.ntrex, args.limit, args.min_top, args.min_mass)
    for code in figures:
        near = table.get(code, [])
        shown = ", ".join(f"{k} {t:.3f}/{m:.3f}" for k, (t, m) in sorted(figures[code].items()))
        print(f"{code}: {' '.join(near) or '-':<24} {shown}")
    if args.write:
        write(table, figures, args)
        print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()

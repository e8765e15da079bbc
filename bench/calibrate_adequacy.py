"""Calibrate the adequacy threshold: pivot/target cosine of human translations against wrong
content, per language, on NTREX-128 (English news, professional translations, line-aligned).

Pairs per target language (``ntrex128.ref.{code}.txt`` against ``ntrex128.src.eng.txt``):

- ``real``: sentence i and its translation; ``real_3``: sentences i..i+2 and theirs (a
  paragraph, as instruction outputs are);
- ``neighbour``: sentence i against the translation of sentence i+1 (same story, other content);
- ``mismatch``: sentence i against the translation of a sentence from far away in the file;
- ``cut``: a three-sentence paragraph against the translation of its first sentence only;
- ``half_pivot``: the paragraph translated up to half way, the rest left in English (what
  language accounting, not this check, must catch; shown for reference).

The suggested threshold is the highest multiple of 0.05 that keeps at least ``--keep`` of the
``real`` and ``real_3`` pairs in every language; the table shows what each condition loses at it.

    python bench/calibrate_adequacy.py path/to/ntrex128 --model sentence-transformers/LaBSE
    python bench/calibrate_adequacy.py path/to/ntrex128 --use-onnx path/to/use_multilingual.onnx

``--model`` is any sentence-transformers model (Hub id or folder), scored by plugdata's own
encoder; ``--use-onnx`` scores with a Universal Sentence Encoder (multilingual) ONNX export
that takes strings (needs onnxruntime and onnxruntime-extensions), for machines with no access
to the Hub: its scores are not LaBSE's, so its threshold is not LaBSE's either.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from ntrex import load

REAL = ("real", "real_3")
CONDITIONS = ("real", "real_3", "neighbour", "mismatch", "cut", "half_pivot")
Scorer = Callable[[list[str], list[str]], np.ndarray]


def joiner(lang: str) -> str:
    return "" if lang in ("zh", "ja") else " "


def conditions(english: list[str], ref: list[str], lang: str) -> dict[str, list[tuple[str, str]]]:
    """(pivot, target) pairs for each condition."""
    n, glue = len(english), joiner(lang)
    para = [(" ".join(english[i : i + 3]), glue.join(ref[i : i + 3])) for i in range(0, n - 2, 3)]
    half = []
    for i in range(0, n - 3, 4):
        half.append(
            (
                " ".join(english[i : i + 4]),
                glue.join(ref[i : i + 2]) + " " + " ".join(english[i + 2 : i + 4]),
            )
        )
    return {
        "real": list(zip(english, ref, strict=True)),
        "real_3": para,
        "neighbour": [(english[i], ref[i + 1]) for i in range(n - 1)],
        "mismatch": [(english[i], ref[(i + n // 2) % n]) for i in range(n)],
        "cut": [
            (p, glue.join(ref[i : i + 1]))
            for i, (p, _) in zip(range(0, n - 2, 3), para, strict=True)
        ],
        "half_pivot": half,
    }


def st_scorer(model: str, device: str, batch_size: int) -> Scorer:
    """plugdata's own encoder (sentence-transformers)."""
    from plugdata.filters.encoder import Encoder

    encoder = Encoder(model, device, batch_size)
    return encoder.similarities


def onnx_scorer(path: Path, batch_size: int) -> Scorer:
    """A Universal Sentence Encoder ONNX export with a string input ``inputs``."""
    import onnxruntime as ort
    from onnxruntime_extensions import get_library_path

    options = ort.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def score(pivots: list[str], targets: list[str]) -> np.ndarray:
        texts = list(dict.fromkeys([*pivots, *targets]))
        parts = [
            session.run(None, {name: np.array(texts[i : i + batch_size], dtype=object)})[0]
            for i in range(0, len(texts), batch_size)
        ]
        vectors = np.concatenate(parts)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        where = {t: i for i, t in enumerate(texts)}
        left, right = vectors[[where[t] for t in pivots]], vectors[[where[t] for t in targets]]
        return np.einsum("ij,ij->i", left, right)

    return score


def suggest(scores: dict[str, dict[str, np.ndarray]], keep: float) -> float:
    """The highest multiple of 0.05 that keeps ``keep`` of the real pairs in every language."""
    worst = min(float(np.quantile(s[c], 1 - keep)) for s in scores.values() for c in REAL)
    return float(np.floor(worst / 0.05) * 0.05)


def report(scores: dict[str, dict[str, np.ndarray]], threshold: float) -> None:
    print("\ncosine quantiles p1 / p5 / p50 / p95 per condition (all languages)")
    for c in CONDITIONS:
        v = np.concatenate([s[c] for s in scores.values()])
        q = np.quantile(v, [0.01, 0.05, 0.5, 0.95])
        print(f"  {c:<11} n={v.size:6d}  " + " / ".join(f"{x:.3f}" for x in q))
    print(f"\nshare below {threshold:.2f} (real: wrongly rejected; others: caught)")
    print("lang  " + " ".join(f"{c:>11}" for c in CONDITIONS) + "   real p0.5")
    for lang, s in scores.items():
        cells = " ".join(f"{(s[c] < threshold).mean():11.4f}" for c in CONDITIONS)
        print(f"{lang:<5} {cells}   {np.quantile(s['real'], 0.005):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the ntrex128 folder")
    parser.add_argument("--model", default="sentence-transformers/LaBSE")
    parser.add_argument("--use-onnx", type=Path, help="score with this USE ONNX file instead")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=1997, help="lines per file")
    parser.add_argument("--keep", type=float, default=0.995, help="share of real pairs to keep")
    parser.add_argument("--threshold", type=float, help="report at this threshold instead")
    args = parser.parse_args()
    english, refs = load(args.data, args.limit)
    if args.use_onnx:
        scorer, name = onnx_scorer(args.use_onnx, args.batch_size), f"USE ONNX {args.use_onnx.name}"
    else:
        scorer, name = st_scorer(args.model, args.device, args.batch_size), args.model
    started = time.perf_counter()
    scores: dict[str, dict[str, np.ndarray]] = {}
    for lang, ref in refs.items():
        pairs = conditions(english, ref, lang)
        scores[lang] = {c: scorer([p for p, _ in v], [t for _, t in v]) for c, v in pairs.items()}
    print(
        f"{name}: {len(refs)} languages, {len(english)} lines, "
        f"{time.perf_counter() - started:.0f} s"
    )
    threshold = args.threshold if args.threshold is not None else suggest(scores, args.keep)
    if args.threshold is None:
        print(
            f"suggested threshold (keeps >= {args.keep:.1%} of real pairs everywhere): "
            f"{threshold:.2f}"
        )
    report(scores, threshold)


if __name__ == "__main__":
    main()

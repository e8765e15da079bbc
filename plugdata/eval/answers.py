"""Answer folders: ``<lang>.jsonl`` (or ``.json``) files of ``{id, instruction, answer, ...}``.

Folders written by other tools work too: only ``id``, ``instruction`` and ``answer`` are read
(``wrong_language`` too, when present). A null answer is an empty answer, never a skipped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plugdata.errors import InputError, PlugdataError
from plugdata.eval.benchmark import SUFFIXES, read_json_rows

_SHOWN = 10


@dataclass(frozen=True)
class Answer:
    """One system's answer to one benchmark item."""

    id: str
    instruction: str
    answer: str
    wrong_language: bool = False


def read_folder(folder: str | Path) -> dict[str, dict[str, Answer]]:
    """Answers per language (the file stem) and id."""
    path = Path(folder)
    if not path.is_dir():
        raise PlugdataError(f"answer folder {path} does not exist")
    files = sorted(
        p
        for p in path.iterdir()
        if p.suffix in SUFFIXES
        and p.is_file()
        and not p.name.startswith((".", "generation", "report"))
    )
    if not files:
        raise PlugdataError(f"no <lang>.jsonl answer files in {path}")
    out: dict[str, dict[str, Answer]] = {}
    for file in files:
        if file.stem in out:
            raise InputError(f"{path}: both {file.stem}.json and {file.stem}.jsonl; keep one")
        out[file.stem] = _read_file(file)
    return out


def _read_file(file: Path) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for line, row in read_json_rows(file):
        for key in ("id", "instruction", "answer"):
            if key not in row:
                raise InputError(f"{file}: record {line} has no field {key!r}")
        value = row["answer"]
        if value is not None and not isinstance(value, str):
            raise InputError(f"{file}: record {line}: 'answer' must be a string or null")
        item_id = str(row["id"])
        if item_id in answers:
            raise InputError(f"{file}: record {line}: id {item_id!r} appears twice")
        answers[item_id] = Answer(
            item_id, str(row["instruction"] or ""), value or "", bool(row.get("wrong_language"))
        )
    return answers


def _ids(ids: set[str]) -> str:
    ordered = sorted(ids, key=lambda i: (len(i), i))
    more = f" and {len(ordered) - _SHOWN} more" if len(ordered) > _SHOWN else ""
    return ", ".join(ordered[:_SHOWN]) + more


def align(
    a: dict[str, dict[str, Answer]],
    b: dict[str, dict[str, Answer]],
    *,
    intersect: bool = False,
    langs: list[str] | None = None,
) -> tuple[dict[str, list[tuple[Answer, Answer]]], dict[str, int]]:
    """Pairs (A's answer, B's answer) per language, in A's order, and ids dropped per language.

    Ids (and languages) present on one side only are an error naming them, unless
    ``intersect``.
    """
    wanted = langs or sorted(set(a) | set(b))
    pairs: dict[str, list[tuple[Answer, Answer]]] = {}
    dropped: dict[str, int] = {}
    problems: list[str] = []
    for lang in wanted:
        if (lang not in a or lang not in b) and not (intersect and not langs):
            side = "A" if lang not in a else "B"
            raise PlugdataError(f"{lang}: no answers in folder {side} (pass --langs to choose)")
        left, right = a.get(lang, {}), b.get(lang, {})
        only_a, only_b = set(left) - set(right), set(right) - set(left)
        if only_a:
            problems.append(f"{lang} missing from B: {_ids(only_a)}")
        if only_b:
            problems.append(f"{lang} missing from A: {_ids(only_b)}")
        shared = [left[i] for i in left if i in right]
        if shared:
            pairs[lang] = [(item, right[item.id]) for item in shared]
        dropped[lang] = len(only_a) + len(only_b)
    if problems and not intersect:
        raise PlugdataError(
            f"the answer ids differ ({'; '.join(problems)}); "
            "pass --intersect to judge the shared ids only"
        )
    if not pairs:
        raise PlugdataError("no shared ids to judge")
    return pairs, dropped

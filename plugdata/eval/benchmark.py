"""The benchmark: X-AlpacaEval from the Hub, or local JSON/JSONL files of the same shape.

X-AlpacaEval (``zhihz0535/X-AlpacaEval``, CC BY-NC 4.0) holds one file per language
(``zh.json``, ``ko.json``, ...), each a list of ``{id, dataset, instruction}``. It is downloaded
on use and never shipped with plugdata. ``--benchmark PATH`` takes a folder of such files, or
one file for one language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugdata.errors import InputError, PlugdataError, first_line

HUB_ID = "zhihz0535/X-AlpacaEval"
SUFFIXES = (".json", ".jsonl")


@dataclass(frozen=True)
class Item:
    """One benchmark instruction; ``id`` is a string, the same in every language."""

    id: str
    instruction: str


def read_items(path: Path) -> list[Item]:
    """Items of one JSON (a list) or JSON Lines file; bad rows are an :class:`InputError`."""
    rows = read_json_rows(path)
    items: list[Item] = []
    seen: set[str] = set()
    for line, row in rows:
        for key in ("id", "instruction"):
            if row.get(key) is None:
                raise InputError(f"{path}: record {line} has no field {key!r}")
        if not isinstance(row["instruction"], str):
            raise InputError(f"{path}: record {line}: 'instruction' must be a string")
        item_id = str(row["id"])
        if item_id in seen:
            raise InputError(f"{path}: record {line}: id {item_id!r} appears twice")
        seen.add(item_id)
        items.append(Item(item_id, row["instruction"]))
    return items


def read_json_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(record number, object) pairs from a JSON list or a JSON Lines file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        rows = list(enumerate(data, start=1))
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {number} is not valid JSON ({exc.msg})") from None
    for number, row in rows:
        if not isinstance(row, dict):
            raise InputError(f"{path}: record {number} is not a JSON object")
    return rows


def language_file(folder: Path, lang: str) -> Path | None:
    """``<lang>.json`` or ``<lang>.jsonl`` in ``folder`` (or its ``data/``), if there is one."""
    for base in (folder, folder / "data"):
        for suffix in SUFFIXES:
            if (base / f"{lang}{suffix}").is_file():
                return base / f"{lang}{suffix}"
    return None


def _from_hub(repo_id: str, lang: str) -> Path:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, f"{lang}.json", repo_type="dataset"))
    except Exception as exc:  # offline, unknown repo or file: many exception types
        raise PlugdataError(
            f"cannot load {lang}.json from the Hub dataset {repo_id!r}: {first_line(exc)} "
            "(give local files with --benchmark PATH)"
        ) from None


def load_benchmark(
    source: str, langs: list[str], limit: int | None = None
) -> dict[str, list[Item]]:
    """Items per language from a Hub dataset id or a local folder or file.

    One file serves only one language. ``limit`` keeps the first items of each language.
    """
    path = Path(source)
    files: dict[str, Path] = {}
    if path.is_file():
        if len(langs) != 1:
            raise PlugdataError(
                f"--benchmark {source} is one file: give one language (--langs), "
                "or a folder with one <lang>.json(l) per language"
            )
        files[langs[0]] = path
    elif path.is_dir():
        for lang in langs:
            found = language_file(path, lang)
            if found is None:
                raise PlugdataError(f"no {lang}.json or {lang}.jsonl in {path}")
            files[lang] = found
    elif source.count("/") == 1 and not source.startswith((".", "/")):
        files = {lang: _from_hub(source, lang) for lang in langs}
    else:
        raise PlugdataError(f"--benchmark {source}: no such file or folder")
    out = {
        lang: read_items(file)[:limit] if limit else read_items(file)
        for lang, file in files.items()
    }
    for lang, items in out.items():
        if not items:
            raise InputError(f"{files[lang]}: no items for {lang}")
    return out

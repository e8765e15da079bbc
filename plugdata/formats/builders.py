"""Training formats built from kept pair rows: PLUG and the paper's baselines.

Every formatted row is ``{id, format, pivot_lang, target_lang, messages}`` where
``messages`` is a list of ``{role, content}`` that TRL's SFTTrainer reads as is.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.languages import Language, get_language, mono_system_prompt, plug_system_prompt

Row = Mapping[str, Any]
Message = dict[str, str]


def _prompt(instruction: str, input_: str | None) -> str:
    """Instruction, then a blank line and the input when there is one."""
    return f"{instruction}\n\n{input_}" if input_ and input_.strip() else instruction


def _messages(system: str | None, user: str, assistant: str, no_system: bool) -> list[Message]:
    if system is None:
        return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    if no_system:  # templates without a system role: guidance leads the user turn
        return [
            {"role": "user", "content": f"{system}\n\n{user}"},
            {"role": "assistant", "content": assistant},
        ]
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": assistant},
    ]


def _system(custom: str | None, default: str, pivot: Language, target: Language) -> str | None:
    if custom is None:
        return default
    if custom == "":
        return None
    return custom.replace("{pivot}", pivot.name).replace("{target}", target.name)


def plug_blocks(pair: Row, pivot: Language, target: Language) -> list[str]:
    """The three labelled assistant blocks: pivot instruction, pivot response, target response."""
    return [
        pivot.label(
            pivot.instruction_label, _prompt(pair["pivot_instruction"], pair["pivot_input"])
        ),
        pivot.label(pivot.response_label, pair["pivot_output"]),
        target.label(target.response_label, pair["target_output"]),
    ]


def _plug(
    pair: Row,
    pivot: Language,
    target: Language,
    system: str | None,
    no_system: bool,
    target_first: bool = False,
) -> list[Message]:
    blocks = plug_blocks(pair, pivot, target)
    if target_first:
        blocks = [blocks[2], blocks[0], blocks[1]]
    user = _prompt(pair["target_instruction"], pair["target_input"])
    sys_text = _system(system, plug_system_prompt(pivot, target), pivot, target)
    return _messages(sys_text, user, "\n\n".join(blocks), no_system)


def _direct(
    pair: Row,
    pivot: Language,
    target: Language,
    system: str | None,
    no_system: bool,
    ask: str,
    answer: str,
    answer_lang: Language,
) -> list[Message]:
    user = _prompt(pair[f"{ask}_instruction"], pair[f"{ask}_input"])
    sys_text = _system(system, mono_system_prompt(answer_lang), pivot, target)
    return _messages(sys_text, user, pair[f"{answer}_output"], no_system)


Builder = Callable[[Row, Language, Language, "str | None", bool], list[Message]]

FORMATS: dict[str, Builder] = {
    "plug": _plug,
    "plug-target-first": lambda p, pv, t, s, n: _plug(p, pv, t, s, n, target_first=True),
    "mono": lambda p, pv, t, s, n: _direct(p, pv, t, s, n, "target", "target", t),
    "pivot-only": lambda p, pv, t, s, n: _direct(p, pv, t, s, n, "pivot", "pivot", pv),
    "code-switch": lambda p, pv, t, s, n: _direct(p, pv, t, s, n, "target", "pivot", pv),
}
MIXED_FORMATS = {"multilingual": ("pivot-only", "mono")}
DEFAULT_FORMATS = ("plug", "mono", "pivot-only")


def format_names() -> list[str]:
    """Every format name, single and mixed."""
    return [*FORMATS, *MIXED_FORMATS]


def format_rows(
    pairs: Iterable[Row],
    fmt: str,
    *,
    system_prompt: str | None = None,
    no_system: bool = False,
    seed: int = 0,
    shuffle: bool = True,
) -> list[dict[str, Any]]:
    """Build training rows of format ``fmt`` from kept pair rows (rejected ones are skipped).

    ``system_prompt`` replaces the default (``{pivot}`` and ``{target}`` are filled in; an
    empty string drops the system turn); ``no_system`` moves the guidance into the user turn.
    ``multilingual`` mixes pivot-only and mono rows, shuffled with ``seed`` (unless
    ``shuffle`` is False: a streaming build shuffles the whole set once at the end).
    """
    if fmt in MIXED_FORMATS:
        kept = [pair for pair in pairs if pair.get("kept", True)]
        mixed: list[dict[str, Any]] = []
        for part in MIXED_FORMATS[fmt]:
            mixed += [
                {**row, "format": fmt, "id": f"{row['id']}:{part}"}
                for row in format_rows(kept, part, system_prompt=system_prompt, no_system=no_system)
            ]
        if shuffle:
            random.Random(seed).shuffle(mixed)
        return mixed
    if fmt not in FORMATS:
        raise PlugdataError(f"unknown format {fmt!r}; known formats: {', '.join(format_names())}")
    build = FORMATS[fmt]
    out: list[dict[str, Any]] = []
    for pair in pairs:
        if not pair.get("kept", True):
            continue
        pivot, target = get_language(pair["pivot_lang"]), get_language(pair["target_lang"])
        out.append(
            {
                "id": pair["id"],
                "format": fmt,
                "pivot_lang": pivot.code,
                "target_lang": target.code,
                "messages": build(pair, pivot, target, system_prompt, no_system),
            }
        )
    return out

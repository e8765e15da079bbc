"""Render training rows with a model's chat template and count their tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from plugdata.errors import PlugdataError, first_line

ZWSP = "\u200b"


def load_tokenizer(name_or_path: str) -> Any:
    """A Hugging Face tokenizer that has a chat template (a Hub id or a local folder)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as exc:  # transformers raises many types for missing or offline models
        raise PlugdataError(
            f"cannot load a tokenizer from {name_or_path!r}: {first_line(exc)}"
        ) from None
    if not getattr(tokenizer, "chat_template", None):
        raise PlugdataError(f"the tokenizer of {name_or_path!r} has no chat template")
    return tokenizer


@dataclass
class ChatRenderer:
    """Renders ``messages`` into a ``text`` column with ``num_tokens``.

    Literal special-token strings inside message text (``<|im_end|>``, ``</s>``) are broken
    with a zero-width space so they can never act as control tokens. Templates without a
    system role get the system text folded into the first user turn.
    """

    tokenizer: Any
    max_tokens: int | None = None
    supports_system: bool = field(init=False)
    _specials: re.Pattern[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        specials = sorted(
            {t for t in self.tokenizer.all_special_tokens if t and len(t) > 1}
            | {
                t.content
                for t in self.tokenizer.added_tokens_decoder.values()
                if t.special and len(t.content) > 1
            },
            key=len,
            reverse=True,
        )
        self._specials = re.compile("|".join(map(re.escape, specials))) if specials else None
        probe = [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a"},
        ]
        try:  # without a system turn, every usable template must render
            self.tokenizer.apply_chat_template(probe[1:], tokenize=False)
        except Exception as exc:  # a missing jinja2, or a template that cannot render
            raise PlugdataError(f"cannot render with this chat template: {exc}") from None
        try:
            self.tokenizer.apply_chat_template(probe, tokenize=False)
            self.supports_system = True
        except Exception:  # jinja raises for "System role not supported"
            self.supports_system = False

    def scrub(self, text: str) -> str:
        """Break literal special-token strings so they stay plain text."""
        if self._specials is None:
            return text
        return self._specials.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1:], text)

    def prepare(self, messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        """Scrubbed messages, with the system turn folded in when the template has none."""
        clean = [{"role": m["role"], "content": self.scrub(m["content"])} for m in messages]
        if not self.supports_system and clean and clean[0]["role"] == "system":
            system, rest = clean[0]["content"], clean[1:]
            if rest and rest[0]["role"] == "user":
                rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
            clean = rest
        return clean

    def render(
        self, rows: Sequence[dict[str, Any]], chunk: int = 512
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows with ``messages`` (prepared), ``text`` and ``num_tokens``; over-long rows are
        dropped and counted. Token ids are counted ``chunk`` rows at a time and thrown away,
        so memory stays flat however many rows there are."""
        out: list[dict[str, Any]] = []
        dropped = 0
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            prepared = [self.prepare(row["messages"]) for row in part]
            texts = [self.tokenizer.apply_chat_template(m, tokenize=False) for m in prepared]
            encoded = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
            lengths = [len(ids) for ids in encoded]
            del encoded
            for row, messages, text, n in zip(part, prepared, texts, lengths, strict=True):
                if self.max_tokens is not None and n > self.max_tokens:
                    dropped += 1
                    continue
                out.append({**row, "messages": messages, "text": text, "num_tokens": n})
        return out, dropped


def token_stats(lengths: Sequence[int]) -> dict[str, float]:
    """Rows, mean, 95th percentile and maximum of token counts."""
    if not lengths:
        return {"rows": 0, "mean": 0.0, "p95": 0, "max": 0}
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "rows": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 1),
        "p95": p95,
        "max": ordered[-1],
    }

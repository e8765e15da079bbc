"""Tokenize chat rows for training with labels on the assistant turns only.

Two ways to find the assistant tokens: the chat template's ``{% generation %}`` markers (what
TRL's ``assistant_only_loss`` uses), or, for any template without them, rendering each turn
and mapping its character span to tokens through offsets. Either way the end-of-turn token is
trained and the assistant header is not, and an example with nothing to learn is an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from plugdata.errors import PlugdataError

# ChatML with generation markers: the default for base models without a chat template.
TRAINING_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)
IGNORE = -100
_GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")


def has_generation_markers(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return isinstance(template, str) and bool(_GENERATION.search(template))


def encode(
    tokenizer: Any, messages: Sequence[dict[str, str]], max_length: int | None = None
) -> dict[str, list[int]]:
    """``input_ids`` and ``labels`` (``-100`` outside assistant turns) for one conversation."""
    if has_generation_markers(tokenizer):
        out = tokenizer.apply_chat_template(
            list(messages), return_dict=True, return_assistant_tokens_mask=True, tokenize=True
        )
        ids, mask = list(out["input_ids"]), list(out["assistant_masks"])
    else:
        ids, mask = _encode_by_offsets(tokenizer, messages)
    if max_length is not None:
        ids, mask = ids[:max_length], mask[:max_length]
    labels = [t if m else IGNORE for t, m in zip(ids, mask, strict=True)]
    if all(label == IGNORE for label in labels):
        raise PlugdataError(
            "an example has no assistant tokens to learn from (empty mask, or truncated to nothing "
            f"by max_length={max_length}); first tokens: {tokenizer.decode(ids[:40])!r}"
        )
    return {"input_ids": ids, "labels": labels}


def _encode_by_offsets(
    tokenizer: Any, messages: Sequence[dict[str, str]]
) -> tuple[list[int], list[int]]:
    """Assistant spans found by rendering the conversation turn by turn."""
    messages = list(messages)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    spans: list[tuple[int, int]] = []
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(
            messages[:k], tokenize=False, add_generation_prompt=True
        )
        through = tokenizer.apply_chat_template(messages[: k + 1], tokenize=False)
        if not (
            full.startswith(before) and full.startswith(through) and len(through) > len(before)
        ):
            raise PlugdataError(
                "the chat template does not render turns as prefixes of the whole "
                "conversation; give it {% generation %} markers instead"
            )
        end = len(through.rstrip("\n"))  # the end-of-turn token, not the newline after it
        spans.append((len(before), end))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    mask = []
    for start, stop in enc["offset_mapping"]:
        inside = any(a <= start < b for a, b in spans) and stop > start
        mask.append(1 if inside else 0)
    return list(enc["input_ids"]), mask


def show_example(tokenizer: Any, input_ids: Sequence[int], labels: Sequence[int]) -> str:
    """The decoded example with trained spans wrapped in ⟦ ⟧, for a look before training."""
    parts: list[str] = []
    run: list[int] = []
    trained = None
    for token, label in zip(input_ids, labels, strict=True):
        now = label != IGNORE
        if trained is not None and now != trained:
            text = tokenizer.decode(run)
            parts.append(f"⟦{text}⟧" if trained else text)
            run = []
        run.append(token)
        trained = now
    if run:
        text = tokenizer.decode(run)
        parts.append(f"⟦{text}⟧" if trained else text)
    return "".join(parts)

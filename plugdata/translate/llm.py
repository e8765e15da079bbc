"""Translate records with an LLM, one JSON object per record.

Instruction, input and output travel together as one JSON object whose code, URLs and
placeholders are masked; the reply must have the same keys, string values and every marker
back. A reply that fails is retried (with a larger output budget when it was cut off), then the
fields are translated one by one (long ones paragraph by paragraph), and only then is the
record rejected, with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plugdata.languages import Language
from plugdata.translate.ask import ask
from plugdata.translate.base import Outcome
from plugdata.translate.chat import TRANSPORT_FAILURES, ChatClient
from plugdata.translate.pricing import estimate_tokens
from plugdata.translate.prompts import PromptTemplate, load_prompt
from plugdata.translate.protect import (
    mask,
    needs_translation,
    same_markers,
    split_paragraphs,
    unmask,
)

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def reply_budget(payload_tokens: int) -> int:
    """A translation's output budget: twice the payload (scripts differ in tokens per word)
    and a margin."""
    return 2 * payload_tokens + 256


def parse_reply(content: str, keys: Sequence[str]) -> dict[str, str] | str:
    """Validate a model reply: a JSON object with exactly ``keys``, all strings.

    Returns the fields, or a reason string (``invalid_json``, ``not_object``,
    ``missing_keys``, ``unexpected_keys``, ``non_string_value``).
    """
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return "invalid_json"
    if not isinstance(value, dict):
        return "not_object"
    if set(keys) - set(value):
        return "missing_keys"
    if set(value) - set(keys):
        return "unexpected_keys"
    if not all(isinstance(value[key], str) for key in keys):
        return "non_string_value"
    return {key: value[key] for key in keys}


@dataclass
class LLMTranslator:
    """Translates records through an OpenAI-compatible chat model (a :class:`Translator`).

    ``max_asks`` bounds how often one request is asked again when its reply does not
    validate (transport retries are the client's business);
    ``max_input_tokens`` is the size above which a record is sent field by field and a field
    paragraph by paragraph. ``context_tokens``, the server's context when known (a local
    server), gives every request a token budget that fits it (:func:`reply_budget` of the
    payload unless ``max_tokens`` says), and caps the larger budget of a re-ask.
    """

    client: ChatClient
    prompt: str = "translate/v1"
    temperature: float = 0.0
    max_tokens: int | None = None
    max_asks: int = 3
    max_input_tokens: int = 3000
    context_tokens: int | None = None
    template: PromptTemplate = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.template = load_prompt(self.prompt)

    @property
    def model(self) -> str:
        """The model name on the server."""
        return self.client.model

    @property
    def backend(self) -> str:
        """``openai`` for any OpenAI-compatible server."""
        return self.client.backend

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()

    @property
    def prompt_version(self) -> str:
        return self.template.version

    def messages(
        self, fields: Mapping[str, str], pivot: Language, target: Language
    ) -> list[dict[str, str]]:
        """The chat messages that ask for ``fields`` in ``target``."""
        return self.template.render(
            source_name=pivot.name,
            source_code=pivot.code,
            target_name=target.name,
            target_code=target.code,
            keys=", ".join(f'"{key}"' for key in fields),
            payload=json.dumps(dict(fields), ensure_ascii=False, indent=2),
        )

    async def translate(
        self, fields: Mapping[str, str], pivot: Language, target: Language
    ) -> Outcome:
        """Translate ``fields``; empty ones, and ones with nothing but code, are not sent."""
        masked = mask(dict(fields))
        send = {k: v for k, v in masked.texts.items() if v.strip() and needs_translation(v)}
        outcome = Outcome()
        done: dict[str, str] = {k: v for k, v in masked.texts.items() if k not in send}
        if send:
            whole = self._size(send) <= self.max_input_tokens
            got = await self._request(send, pivot, target, outcome) if whole else None
            retryable = outcome.reason not in TRANSPORT_FAILURES  # content problems only
            if got is None and retryable and (len(send) > 1 or not whole):
                got = {}
                for key, text in send.items():
                    part = await self._translate_long(key, text, pivot, target, outcome)
                    if part is None:
                        got = None
                        break
                    got[key] = part
            if got is None:
                outcome.reason = outcome.reason or "failed"
                return outcome
            done.update(got)
        # Every reply was checked for its markers, so putting the spans back cannot fail.
        outcome.fields = unmask(masked, {k: done[k] for k in fields})
        outcome.reason = None
        return outcome

    async def _translate_long(
        self, key: str, text: str, pivot: Language, target: Language, outcome: Outcome
    ) -> str | None:
        """One field alone, split at blank lines when it is still too long."""
        budget_chars = self.max_input_tokens * 3
        chunks = (
            split_paragraphs(text, budget_chars)
            if self._size({key: text}) > self.max_input_tokens
            else [text]
        )
        parts: list[str] = []
        for chunk in chunks:
            if not needs_translation(chunk):
                parts.append(chunk)
                continue
            got = await self._request({key: chunk}, pivot, target, outcome)
            if got is None:
                return None
            parts.append(got[key])
        return "\n\n".join(parts)

    async def _request(
        self, send: dict[str, str], pivot: Language, target: Language, outcome: Outcome
    ) -> dict[str, str] | None:
        """Ask for ``send`` up to ``attempts`` times; the fields, or None with a reason."""
        schema = {
            "type": "object",
            "properties": {key: {"type": "string"} for key in send},
            "required": list(send),
            "additionalProperties": False,
        }
        messages = self.messages(send, pivot, target)

        def validate(content: str) -> dict[str, str] | str:
            parsed = parse_reply(content, list(send))
            if isinstance(parsed, dict) and not all(same_markers(send[k], parsed[k]) for k in send):
                return "protected_span_lost"
            return parsed

        max_tokens, ceiling = self._budget(send, messages)
        return await ask(
            self.client,
            messages,
            outcome,
            validate,
            max_asks=self.max_asks,
            schema=schema,
            temperature=self.temperature,
            max_tokens=max_tokens,
            truncated="truncated",
            ceiling=ceiling,
        )

    def _budget(
        self, send: Mapping[str, str], messages: list[dict[str, str]]
    ) -> tuple[int | None, int | None]:
        """The reply's token budget and the most a re-ask may raise it to: with a known
        context, what it leaves after the prompt (estimated with room to spare)."""
        if self.context_tokens is None:
            return self.max_tokens, None
        prompt = sum(estimate_tokens(m["content"]) for m in messages)
        ceiling = max(64, self.context_tokens - int(prompt * 1.5) - 64)
        return min(self.max_tokens or reply_budget(self._size(send)), ceiling), ceiling

    @staticmethod
    def _size(fields: Mapping[str, str]) -> int:
        return sum(estimate_tokens(value) for value in fields.values())


def openai_translator(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    prompt: str = "translate/v1",
    temperature: float = 0.0,
    max_tokens: int | None = None,
    client: ChatClient | None = None,
    **client_options: Any,
) -> LLMTranslator:
    """An :class:`LLMTranslator` over an OpenAI-compatible server (keys from the environment).

    ``client_options`` go to :class:`~plugdata.translate.chat.ChatClient` (``rpm``, ``tpm``,
    ``cache``, ``retry``, ``price``, ``spend``, ``response_format``); or pass ``client`` to
    share one client (and its cache) between translators.
    """
    if client is None:
        client = ChatClient(model, base_url=base_url, api_key=api_key, **client_options)
    return LLMTranslator(client, prompt=prompt, temperature=temperature, max_tokens=max_tokens)

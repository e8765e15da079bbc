"""Translate source rows into pair rows with an LLM, one JSON object per record.

Instruction, input and output of a record travel together as one JSON object and must come
back with the same keys and string values; anything else rejects the pair with a reason.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plugdata.languages import Language, get_language
from plugdata.llm import ChatClient, RequestRejected, ResponseFormat
from plugdata.prompts import load_prompt
from plugdata.sources import FIELDS, as_rows

PAIR_COLUMNS = (
    "id", "source", "pivot_lang", "target_lang",
    "pivot_instruction", "pivot_input", "pivot_output",
    "target_instruction", "target_input", "target_output",
    "backend", "model", "prompt_version", "finish_reason",
    "prompt_tokens", "completion_tokens", "attempts", "kept", "reasons",
)  # fmt: skip
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


@dataclass
class Translation:
    """The outcome of translating one record: fields on success, a reason otherwise."""

    fields: dict[str, str] | None
    reason: str | None = None
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0


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
    """Translates records through an OpenAI-compatible chat model.

    ``attempts`` bounds how often a record is sent again when the reply does not validate.
    """

    client: ChatClient
    prompt: str = "translate/v1"
    temperature: float = 0.0
    max_tokens: int | None = None
    attempts: int = 2
    template: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.template = load_prompt(self.prompt)

    @property
    def model(self) -> str:
        return self.client.model

    @property
    def backend(self) -> str:
        return self.client.backend

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
    ) -> Translation:
        """Translate the non-empty ``fields``; empty ones stay empty and are not sent."""
        send = {key: value for key, value in fields.items() if value.strip()}
        result = Translation(None)
        if not send:
            result.fields = {key: "" for key in fields}
            return result
        schema = {
            "type": "object",
            "properties": {key: {"type": "string"} for key in send},
            "required": list(send),
            "additionalProperties": False,
        }
        messages = self.messages(send, pivot, target)
        while result.attempts < self.attempts:
            result.attempts += 1
            try:
                reply = await self.client.chat_json(
                    messages, schema, temperature=self.temperature, max_tokens=self.max_tokens
                )
            except RequestRejected as exc:
                result.reason = "request_rejected"
                result.finish_reason = str(exc)[:200]
                return result
            result.finish_reason = reply.finish_reason
            result.prompt_tokens += reply.prompt_tokens
            result.completion_tokens += reply.completion_tokens
            parsed = parse_reply(reply.content, list(send))
            if isinstance(parsed, dict) and reply.finish_reason != "length":
                result.fields = {key: parsed.get(key, "") for key in fields}
                result.reason = None
                return result
            result.reason = "truncated" if reply.finish_reason == "length" else parsed
        return result


def make_pair(
    row: Mapping[str, Any],
    pivot: Language,
    target: Language,
    translation: Translation,
    translator: LLMTranslator,
) -> dict[str, Any]:
    """One pair row: pivot fields, target fields and provenance side by side."""
    fields = translation.fields
    pair: dict[str, Any] = {
        "id": row["id"],
        "source": row.get("source", ""),
        "pivot_lang": pivot.code,
        "target_lang": target.code,
    }
    for name in FIELDS:
        pair[f"pivot_{name}"] = row[name]
    for name in FIELDS:
        pair[f"target_{name}"] = fields[name] if fields is not None else None
    pair.update(
        backend=translator.backend,
        model=translator.model,
        prompt_version=translator.prompt_version,
        finish_reason=translation.finish_reason,
        prompt_tokens=translation.prompt_tokens,
        completion_tokens=translation.completion_tokens,
        attempts=translation.attempts,
        kept=fields is not None,
        reasons=[] if fields is not None else [translation.reason or "failed"],
    )
    return pair


async def atranslate_rows(
    rows: Iterable[Mapping[str, Any]],
    targets: Sequence[str | Language],
    translator: LLMTranslator,
    *,
    pivot: str | Language = "en",
    concurrency: int = 8,
    on_pair: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Translate every row into every target language; returns pair rows grouped by target.

    Up to ``concurrency`` requests are in flight at once and a slow one never holds up the
    others. A :class:`~plugdata.errors.ServerError` stops the whole run.
    """
    source = as_rows(rows)
    pivot_lang = pivot if isinstance(pivot, Language) else get_language(pivot)
    langs = [t if isinstance(t, Language) else get_language(t) for t in targets]
    jobs = iter([(lang, index) for lang in langs for index in range(len(source))])
    results: dict[tuple[str, int], dict[str, Any]] = {}

    async def worker() -> None:
        for lang, index in jobs:
            row = source[index]
            fields = {name: row[name] for name in FIELDS}
            translation = await translator.translate(fields, pivot_lang, lang)
            pair = make_pair(row, pivot_lang, lang, translation, translator)
            results[(lang.code, index)] = pair
            if on_pair is not None:
                on_pair(pair)

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [results[(lang.code, index)] for lang in langs for index in range(len(source))]


def translate_rows(
    rows: Iterable[Mapping[str, Any]],
    targets: Sequence[str | Language],
    translator: LLMTranslator,
    *,
    pivot: str | Language = "en",
    concurrency: int = 8,
    on_pair: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Blocking form of :func:`atranslate_rows` for scripts and notebooks without a loop."""

    async def run() -> list[dict[str, Any]]:
        try:
            return await atranslate_rows(
                rows, targets, translator, pivot=pivot, concurrency=concurrency, on_pair=on_pair
            )
        finally:
            await translator.client.close()

    return asyncio.run(run())


def openai_translator(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    response_format: ResponseFormat = "auto",
    prompt: str = "translate/v1",
    temperature: float = 0.0,
    max_tokens: int | None = None,
) -> LLMTranslator:
    """An :class:`LLMTranslator` over an OpenAI-compatible server (keys from the environment)."""
    client = ChatClient(model, base_url=base_url, api_key=api_key, response_format=response_format)
    return LLMTranslator(client, prompt=prompt, temperature=temperature, max_tokens=max_tokens)

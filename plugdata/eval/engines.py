"""Where answers come from: a local model (transformers, or vLLM offline when installed) or any
OpenAI-compatible endpoint (through :class:`~plugdata.translate.chat.ChatClient`).

Every engine answers a list of chat prompts greedily and keeps each reply in the request cache
(SQLite in the output folder), so a re-run after a crash only generates what never finished.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from plugdata.errors import PlugdataError, first_line
from plugdata.translate.cache import CachedReply, RequestCache, request_key

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Reply:
    """One generated reply; ``error`` names why there is none (a request that failed for good)."""

    text: str
    finish_reason: str = "stop"
    error: str | None = None


class Engine(Protocol):
    name: str
    model: str

    def generate(self, prompts: Sequence[Messages]) -> list[Reply]:
        """Greedy replies, one per prompt, in order."""
        ...

    def close(self) -> None:
        """Release the model or the connections."""
        ...


class ApiEngine:
    """Any OpenAI-compatible chat endpoint, ``concurrency`` requests in flight."""

    name = "openai"

    def __init__(
        self,
        model: str,
        cache: RequestCache,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        max_new_tokens: int = 1024,
        rpm: float | None = None,
        tpm: float | None = None,
    ) -> None:
        from plugdata.translate.chat import ChatClient

        self.model = model
        self.client = ChatClient(
            model,
            base_url=base_url,
            api_key=api_key,
            response_format="none",
            cache=cache,
            rpm=rpm,
            tpm=tpm,
        )
        self.concurrency = max(1, concurrency)
        self.max_new_tokens = max_new_tokens

    def generate(self, prompts: Sequence[Messages]) -> list[Reply]:
        return asyncio.run(self._all(prompts))

    async def _all(self, prompts: Sequence[Messages]) -> list[Reply]:
        from plugdata.translate.chat import RequestRejected

        gate = asyncio.Semaphore(self.concurrency)

        async def one(messages: Messages) -> Reply:
            async with gate:
                try:
                    reply = await self.client.chat(
                        messages, temperature=0.0, max_tokens=self.max_new_tokens
                    )
                except RequestRejected as exc:
                    return Reply("", "error", exc.reason)
                return Reply(reply.content, reply.finish_reason)

        try:
            return await asyncio.gather(*(one(m) for m in prompts))
        finally:
            await self.client.close()

    def close(self) -> None:
        """Connections are closed after each :meth:`generate`."""


class _LocalEngine:
    """Shared by local engines: chat-template rendering and the request cache."""

    name = "local"

    def __init__(self, model: str, cache: RequestCache, max_new_tokens: int) -> None:
        from plugdata.formats import ChatRenderer, load_tokenizer

        self.model = model
        self.cache = cache
        self.max_new_tokens = max_new_tokens
        self.tokenizer = load_tokenizer(model)  # the tokenizer (and template) saved by training
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.renderer = ChatRenderer(self.tokenizer)

    def render(self, messages: Messages) -> str:
        """The prompt text: the training template, its special tokens scrubbed from the text."""
        prepared = self.renderer.prepare(messages)
        return self.tokenizer.apply_chat_template(
            prepared, tokenize=False, add_generation_prompt=True
        )

    def _key(self, text: str) -> str:
        params = {"max_new_tokens": self.max_new_tokens, "greedy": True}
        return request_key(self.name, self.model, [{"role": "prompt", "content": text}], params)

    def generate(self, prompts: Sequence[Messages]) -> list[Reply]:
        texts = [self.render(m) for m in prompts]
        replies: list[Reply | None] = []
        for text in texts:
            hit = self.cache.get(self._key(text))
            replies.append(Reply(hit.content, hit.finish_reason) if hit else None)
        todo = sorted((i for i, r in enumerate(replies) if r is None), key=lambda i: -len(texts[i]))
        for index, reply in self._run([texts[i] for i in todo]) if todo else ():
            i = todo[index]
            replies[i] = reply
            self.cache.put(self._key(texts[i]), CachedReply(reply.text, reply.finish_reason, 0, 0))
        return [r if r is not None else Reply("", "error", "not_generated") for r in replies]

    def _run(self, texts: list[str]) -> Any:
        """Yield (index into ``texts``, reply) as batches finish."""
        raise NotImplementedError

    def close(self) -> None:
        """Drop the model."""
        self.__dict__.pop("_model", None)


class TransformersEngine(_LocalEngine):
    """transformers ``generate``: batched, greedy, left-padded; a GPU when there is one."""

    name = "transformers"

    def __init__(
        self, model: str, cache: RequestCache, *, batch_size: int = 8, max_new_tokens: int = 1024
    ) -> None:
        super().__init__(model, cache, max_new_tokens)
        self.batch_size = max(1, batch_size)
        self._model = _load_causal_lm(model)

    def _run(self, texts: list[str]) -> Any:
        import torch

        model = self._model
        eos = model.generation_config.eos_token_id
        eos_ids = {*([eos] if isinstance(eos, int) else eos or []), self.tokenizer.eos_token_id}
        eos_ids.discard(None)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            enc = self.tokenizer(
                batch,
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
                return_token_type_ids=False,
            )  # generate() takes none before 5.0
            enc = {k: v.to(model.device) for k, v in enc.items()}
            with torch.inference_mode():
                out = model.generate(
                    **enc,
                    do_sample=False,
                    max_new_tokens=self.max_new_tokens,
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=sorted(eos_ids),
                )
            new = out[:, enc["input_ids"].shape[1] :]
            for offset, ids in enumerate(new.tolist()):
                ended = any(t in eos_ids for t in ids)
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                yield start + offset, Reply(text, "stop" if ended else "length")


class VLLMEngine(_LocalEngine):
    """vLLM's offline ``LLM``: one call for every prompt, greedy."""

    name = "vllm"

    def __init__(self, model: str, cache: RequestCache, *, max_new_tokens: int = 1024) -> None:
        super().__init__(model, cache, max_new_tokens)
        from vllm import LLM

        self._model = LLM(model=model)

    def _run(self, texts: list[str]) -> Any:
        from vllm import SamplingParams

        if not texts:
            return
        params = SamplingParams(temperature=0.0, max_tokens=self.max_new_tokens)
        for index, result in enumerate(self._model.generate(texts, params)):
            best = result.outputs[0]
            yield index, Reply(best.text, "length" if best.finish_reason == "length" else "stop")


def _load_causal_lm(model: str) -> Any:
    """A causal LM (or a LoRA adapter on its base, with peft) in eval mode, on a GPU if any."""
    import torch
    from transformers import AutoModelForCausalLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        if (Path(model) / "adapter_config.json").is_file():
            from peft import AutoPeftModelForCausalLM

            loaded = AutoPeftModelForCausalLM.from_pretrained(model, dtype="auto")
        else:
            loaded = AutoModelForCausalLM.from_pretrained(model, dtype="auto")
    except ImportError as exc:
        raise PlugdataError(f"cannot load {model!r}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise PlugdataError(f"cannot load the model {model!r}: {first_line(exc)}") from None
    return loaded.to(device).eval()


def make_engine(
    model: str,
    cache: RequestCache,
    *,
    engine: str = "auto",
    base_url: str | None = None,
    **options: Any,
) -> Engine:
    """``openai`` when ``base_url`` is given; else ``vllm`` when installed (``auto``) or named,
    else ``transformers``."""
    api_only = ("api_key", "concurrency", "rpm", "tpm")
    if base_url or engine == "openai":
        api = {k: v for k, v in options.items() if k in (*api_only, "max_new_tokens")}
        return ApiEngine(model, cache, base_url=base_url, **api)
    local = {k: v for k, v in options.items() if k not in api_only}
    if engine == "vllm" or (engine == "auto" and importlib.util.find_spec("vllm") is not None):
        if importlib.util.find_spec("vllm") is None:
            raise PlugdataError("--engine vllm: vLLM is not installed (pip install vllm)")
        local.pop("batch_size", None)
        return VLLMEngine(model, cache, **local)
    if engine not in ("auto", "transformers"):
        raise PlugdataError(f"unknown --engine {engine!r}; use auto, transformers, vllm or openai")
    return TransformersEngine(model, cache, **local)

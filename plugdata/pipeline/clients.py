"""The translator and optional generator of a build, sharing one retry policy and spend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from plugdata.config import BuildConfig
from plugdata.publish import BATCHES_DIR
from plugdata.translate import Translator, create_translator
from plugdata.translate.cache import RequestCache
from plugdata.translate.chat import ChatClient, RetryPolicy
from plugdata.translate.generate import LLMGenerator
from plugdata.translate.pricing import Spend, price_for


def make_clients(
    config: BuildConfig,
    spend: Spend,
    cache: RequestCache | None,
    *,
    staging: Path | None = None,
    notify: Callable[[str], None] | None = None,
) -> tuple[Translator, LLMGenerator | None]:
    """The build's translator and generator (a missing API key fails here, before any work).

    With ``batch_api`` their requests go through the Batch API, each with its ledger in
    ``staging/batches/<role>``; ``notify`` gets the batches' states.
    """
    retry = RetryPolicy(config.max_attempts, config.backoff, config.backoff_max, config.timeout)

    def client(model: str, role: str) -> ChatClient:
        return _chat_client(config, model, role, retry, spend, cache, staging, notify)

    if config.translator == "llm":
        assert config.model is not None
        translator: Translator = create_translator(
            "llm",
            model=config.model,
            client=client(config.model, "translate"),
            prompt=config.prompt,
            temperature=config.temperature,
            max_tokens=config.max_output_tokens,
        )
    elif config.translator == "vllm":
        translator = _vllm_translator(config, retry, spend, cache)
    else:
        translator = create_translator(config.translator, **local_options(config, cache))
    generator = None
    if config.generate:
        generator = LLMGenerator(
            client(config.generator_model or config.model or "", "generate"),
            temperature=config.generator_temperature,
            max_tokens=config.max_output_tokens,
        )
    return translator, generator


def _chat_client(
    config: BuildConfig,
    model: str,
    role: str,
    retry: RetryPolicy,
    spend: Spend,
    cache: RequestCache | None,
    staging: Path | None,
    notify: Callable[[str], None] | None,
) -> ChatClient:
    """The client for ``model`` in ``role`` (translate, generate): live, or through the Batch
    API with its ledger in ``staging/batches/<role>``."""
    options = dict(
        base_url=config.base_url,
        api_key=config.api_key,
        response_format=config.response_format,
        retry=retry,
        rpm=config.rpm,
        tpm=config.tpm,
        cache=cache,
        price=price_for(model, config.price_in, config.price_out),
        spend=spend,
    )
    if not config.batch_api:
        return ChatClient(model, **options)  # type: ignore[arg-type]
    from plugdata.translate.batch import BatchChatClient

    assert staging is not None, "the Batch API keeps its ledger in the staging folder"
    return BatchChatClient(
        model,
        folder=staging / BATCHES_DIR / role,
        max_requests=config.batch_max_requests,
        poll=config.batch_poll,
        detach=config.batch_detach,
        fallback=config.batch_fallback,
        notify=notify,
        enqueued_tokens=config.batch_max_tokens,
        output_expiry=config.batch_output_expiry,
        **options,  # type: ignore[arg-type]
    )


def _vllm_translator(
    config: BuildConfig, retry: RetryPolicy, spend: Spend, cache: RequestCache | None
) -> Translator:
    """The vllm backend: plugdata starts the server, then talks to it as to any other."""
    assert config.model is not None

    def served(base_url: str, api_key: str) -> ChatClient:
        return ChatClient(
            config.model or "",
            base_url=base_url,
            api_key=api_key,
            response_format=config.response_format,  # type: ignore[arg-type]
            retry=retry,
            cache=cache,
            price=price_for("", 0.0, 0.0),
            spend=spend,
        )

    return create_translator(
        "vllm",
        model=config.model,
        make_client=served,
        prompt=config.prompt,
        temperature=config.temperature,
        max_tokens=config.max_output_tokens,
        tensor_parallel=config.tensor_parallel,
        data_parallel=config.data_parallel,
        max_model_len=config.vllm_max_model_len,
        gpu_memory=config.vllm_gpu_memory,
        vllm_args=config.vllm_args or "",
    )


def local_options(config: BuildConfig, cache: RequestCache | None) -> dict[str, object]:
    """Options a local translator backend takes from the build config."""
    return {
        "model": config.model,
        "targets": list(config.targets),
        "pivot": config.pivot,
        "cache": cache,
        "engine": config.mt_engine,
        "device": None if config.mt_device == "auto" else config.mt_device,
        "batch_size": config.mt_batch_size or None,
        "allow_broken": config.mt_allow_broken,
    }

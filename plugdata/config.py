"""The typed build config: every option once, with its default, help and checks.

:class:`BuildConfig` takes real lists, dicts and paths (comma-separated strings are accepted
too) and is checked when it is made: a bad value raises :class:`ConfigError` naming the field.
The command line is generated from these fields (see :mod:`plugdata.cli`).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from plugdata.config_checks import check
from plugdata.errors import ConfigError
from plugdata.filters import DEFAULT_FILTERS
from plugdata.formats import DEFAULT_FORMATS, format_names

SRC, MODEL, ENGINE, FILTERS, OUT = "Source", "Model", "Engine and cost", "Filters", "Output"
SCALE = "Batch API and Ray"
# Fields that decide which requests a build sends: a staging folder is resumed only by a
# build that agrees on all of them.
IDENTITY = (
    "source",
    "targets",
    "model",
    "translator",
    "pivot",
    "limit",
    "seed",
    "columns",
    "split",
    "prompt",
    "temperature",
    "max_output_tokens",
    "generate",
    "generator_model",
)


def opt(
    help: str, panel: str, *, flag: str | None = None, required: bool = False
) -> dict[str, Any]:
    """Field metadata: help text, help panel, the CLI flag when it differs from the name."""
    return {"help": help, "panel": panel, "flag": flag, "required": required}


def option(
    default: Any,
    help: str,
    panel: str,
    *,
    flag: str | None = None,
    required: bool = False,
    secret: bool = False,
) -> Any:
    """A :class:`BuildConfig` field with its :func:`opt` metadata. A list or dict default is
    copied for each config; a secret field is left out of the config's repr."""
    metadata = opt(help, panel, flag=flag, required=required)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return field(default=default, repr=not secret, metadata=metadata)


@dataclass
class BuildConfig:
    """Everything a build needs; written to ``config.yaml`` (without the API key)."""

    source: str = option(
        "",
        "Named source (see `plugdata sources`), hf:OWNER/NAME, a .json/.jsonl/.parquet/.csv "
        "file or a dataset folder.",
        SRC,
        required=True,
    )
    targets: list[str] = option([], "Target languages, e.g. zh,ko,it,es.", SRC, required=True)
    model: str | None = option(
        None,
        "Translation model: the model's name on the server (llm, vllm), or for mt a Hub id or "
        "folder, or LANG=ID,... per language (default for mt: per-language models chosen by "
        "quality and licence).",
        MODEL,
    )
    translator: str = option(
        "auto",
        "Translation backend: llm (any OpenAI-compatible server), mt (local translation "
        "models, no key), vllm (plugdata starts `vllm serve MODEL`) or auto: llm when --model "
        "names a chat model, else mt.",
        MODEL,
    )
    mt_engine: str = option(
        "auto", "mt: ctranslate2, transformers or auto (CTranslate2 when installed).", MODEL
    )
    mt_device: str = option("auto", "mt: cpu, cuda or auto (a GPU when there is one).", MODEL)
    mt_batch_size: int = option(
        0, "mt: sentences per batch (0: auto, halved on out-of-memory).", MODEL
    )
    mt_allow_broken: bool = option(
        False,
        "mt: use a model whose Hugging Face export is known to be broken (refused otherwise, "
        "with the upstream issue named).",
        MODEL,
    )
    tensor_parallel: int = option(
        1, "vllm: GPUs per model replica (--tensor-parallel-size).", MODEL
    )
    data_parallel: int = option(1, "vllm: model replicas (--data-parallel-size).", MODEL)
    vllm_max_model_len: int | None = option(
        None,
        "vllm: the server's context (--max-model-len; default: what the translation budget "
        "needs, far less than a 32K model's own, so the KV cache fits).",
        MODEL,
    )
    vllm_gpu_memory: float = option(
        0.9, "vllm: share of GPU memory the server may take (--gpu-memory-utilization).", MODEL
    )
    vllm_args: str | None = option(
        None,
        "vllm: more `vllm serve` flags, as one string (e.g. '--enable-prefix-caching "
        "--max-num-seqs 128').",
        MODEL,
    )
    pivot: str = option("en", "Pivot language: the source's language.", SRC)
    limit: int | None = option(None, "Use at most this many source records.", SRC)
    seed: int | None = option(
        None, "With --limit: take a random sample chosen with this seed.", SRC
    )
    columns: dict[str, str] = option(
        {}, "Column mapping, e.g. instruction=question,input=context,output=answer.", SRC
    )
    split: str = option("train", "Split of a Hub dataset.", SRC)
    base_url: str | None = option(
        None, "OpenAI-compatible API base URL (default: $OPENAI_BASE_URL, else OpenAI).", MODEL
    )
    api_key: str | None = option(
        None, "API key (default: $OPENAI_API_KEY); never written to disk.", MODEL, secret=True
    )
    prompt: str = option("translate/v1", "Translation prompt version or a YAML file.", MODEL)
    temperature: float = option(0.0, "Sampling temperature for translation.", MODEL)
    max_output_tokens: int | None = option(None, "Output token budget of one model request.", MODEL)
    response_format: str = option(
        "auto", "Structured output: auto, json_schema, json_object or none.", MODEL
    )
    generate: str | None = option(
        None,
        "pivot: regenerate pivot responses with the generator model; target: answer target "
        "instructions directly.",
        MODEL,
    )
    generator_model: str | None = option(None, "Model for --generate (default: --model).", MODEL)
    generator_temperature: float = option(0.7, "Sampling temperature for --generate.", MODEL)
    concurrency: int | None = option(
        None,
        "Requests in flight at once (default: 16 for llm; 256 for mt and vllm, whose batches "
        "fill from them).",
        ENGINE,
    )
    rpm: float | None = option(None, "Requests-per-minute limit.", ENGINE)
    tpm: float | None = option(None, "Tokens-per-minute limit (estimated).", ENGINE)
    max_attempts: int = option(
        6, "Tries per request on 429, 5xx, timeouts and dropped connections.", ENGINE
    )
    timeout: float = option(120.0, "Seconds before a request times out.", ENGINE)
    backoff: float = option(
        1.0,
        "First retry wait in seconds; doubles each try (with jitter) unless the server sends "
        "Retry-After.",
        ENGINE,
    )
    backoff_max: float = option(60.0, "Longest retry wait in seconds.", ENGINE)
    max_cost: float | None = option(
        None, "Stop once the run has spent this many USD, counted across resumes.", ENGINE
    )
    price_in: float | None = option(
        None, "USD per million input tokens (overrides the price table).", ENGINE
    )
    price_out: float | None = option(None, "USD per million output tokens.", ENGINE)
    chunk_size: int = option(
        1024, "Source records per chunk: what is filtered, formatted and written at once.", ENGINE
    )
    log_interval: float = option(
        30.0, "Seconds between plain progress lines when stderr is not a terminal.", ENGINE
    )
    batch_api: bool = option(
        False,
        "Send the requests through the OpenAI Batch API (half price, results within 24 h); "
        "the same command resumes and never submits a request twice.",
        SCALE,
    )
    batch_max_requests: int = option(
        50_000, "Batch API: most requests in one batch (the API allows 50,000 and 200 MB).", SCALE
    )
    batch_inflight: int = option(
        100_000, "Batch API: most requests submitted and waiting at once (bounds memory).", SCALE
    )
    batch_fallback: str = option(
        "batch",
        "Batch API: requests that expired or failed go into a new batch (batch) or through "
        "the live API (live).",
        SCALE,
    )
    batch_poll: float = option(30.0, "Batch API: seconds between status checks.", SCALE)
    batch_detach: bool = option(
        False,
        "Batch API: submit, then exit; the same command collects (and submits what is left).",
        SCALE,
    )
    batch_max_tokens: int | None = option(
        None,
        "Batch API: the model's limit on enqueued prompt tokens (your tier's batch queue "
        "limit, e.g. 2000000 for gpt-4o-mini at tier 1): shards are sized under it and wait "
        "while running batches fill it (default: learned from the first "
        "token_limit_exceeded).",
        SCALE,
    )
    batch_output_expiry: int | None = option(
        None,
        "Batch API: seconds the result files are kept, 3600 to 2592000 (default: the API's "
        "30 days).",
        SCALE,
    )
    executor: str = option(
        "local",
        "local (this process) or ray (Ray Data: many GPUs or machines; pip install "
        "'plugdata[ray]').",
        SCALE,
    )
    ray_address: str | None = option(
        None, "ray: address of a running Ray cluster (default: start a local one).", SCALE
    )
    ray_actors: int = option(
        0, "ray: translation actors (0: one per GPU, or one on a machine without GPUs).", SCALE
    )
    filters: list[str] | None = option(
        None,
        "Checks to run (default: " + ", ".join(DEFAULT_FILTERS) + "); `default` names these, "
        "`+adequacy` adds the opt-in meaning check (pip install 'plugdata[adequacy]').",
        FILTERS,
    )
    adequacy_model: str | None = option(
        None,
        "adequacy filter: a sentence-transformers model, Hub id or folder (default "
        "sentence-transformers/LaBSE).",
        FILTERS,
    )
    lid_backend: str = option("fasttext", "Language ID: fasttext (lid.176) or langdetect.", FILTERS)
    thresholds: dict[str, float] = option(
        {}, "Filter thresholds, e.g. lid_min_prob=0.5,length_ratio_high=3.", FILTERS
    )
    out: Path | None = option(None, "Run directory (default: corpora/SOURCE-TIMESTAMP).", OUT)
    formats: list[str] = option(
        list(DEFAULT_FORMATS), "Formats to build: " + ", ".join(format_names()) + ".", OUT
    )
    system_prompt: str | None = option(
        None,
        "System prompt of the training rows ({pivot} and {target} are filled in; empty: none).",
        OUT,
    )
    no_system: bool = option(
        False, "Put the guidance in the user turn (for templates without a system role).", OUT
    )
    file_format: str = option("parquet", "parquet or jsonl.", OUT)
    chat_template: str | None = option(
        None,
        "Render rows with this model's chat template (Hub id or local folder) into a text "
        "column with token counts.",
        OUT,
    )
    max_row_tokens: int | None = option(
        None,
        "With --chat-template: drop (and count) training rows longer than this many tokens.",
        OUT,
    )
    push_to_hub: str | None = option(
        None, "Upload the run to this Hub dataset repo (OWNER/NAME) when done.", OUT
    )
    private: bool | None = option(
        None,
        "Hub visibility: --private or --public (default: an existing repo's own; for a new "
        "one, the Hub's default, which an organisation may set to private).",
        OUT,
        flag="private/--public",
    )
    change_visibility: bool = option(
        False,
        "Change an existing Hub repo to --private/--public (else a mismatch stops the build "
        "before anything is sent).",
        OUT,
    )
    overwrite: bool = option(False, "Replace an existing --out directory.", OUT)

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BuildConfig:
        """A config from plain data; unknown keys raise :class:`ConfigError`."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(key, f"not a build option (known: {', '.join(sorted(known))})")
        return cls(**dict(data))

    def validate(self) -> None:
        """Normalise strings into lists, dicts and paths, and check every value."""
        check(self)

    def recipe(self) -> dict[str, Any]:
        """The config as plain data (paths as strings), with the API key left out."""
        data = asdict(self)
        data.pop("api_key")
        data["out"] = str(self.out) if self.out is not None else None
        return data

    def identity(self) -> str:
        """A hash of the fields that decide what is sent (for finding a run to resume)."""
        data = {key: getattr(self, key) for key in IDENTITY}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def config_fields() -> list[Any]:
    """The fields of :class:`BuildConfig`, in order (what the CLI is generated from)."""
    return list(fields(BuildConfig))


def default_of(f: Any) -> Any:
    """A field's default value (calling a default factory)."""
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None

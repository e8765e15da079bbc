"""The checks behind :meth:`BuildConfig.validate`: turn strings into real values, refuse bad
ones with the field's name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugdata.errors import ConfigError, PlugdataError
from plugdata.filters import LID_BACKENDS, FilterConfig, parse_filters
from plugdata.formats import format_names
from plugdata.languages import get_language, parse_languages
from plugdata.schema import FIELDS
from plugdata.translate import TRANSLATORS

if TYPE_CHECKING:
    from plugdata.config import BuildConfig

CHOICES = {
    "response_format": ("auto", "json_schema", "json_object", "none"),
    "generate": (None, "pivot", "target"),
    "file_format": ("parquet", "jsonl"),
    "lid_backend": LID_BACKENDS,
    "mt_engine": ("auto", "ctranslate2", "transformers"),
    "mt_device": ("auto", "cpu", "cuda"),
    "batch_fallback": ("batch", "live"),
    "executor": ("local", "ray"),
}
LLM_CONCURRENCY, LOCAL_CONCURRENCY = 16, 256
AT_LEAST_ONE = (
    "concurrency",
    "max_attempts",
    "limit",
    "max_output_tokens",
    "max_row_tokens",
    "chunk_size",
    "tensor_parallel",
    "data_parallel",
    "batch_max_requests",
    "batch_inflight",
)
AT_LEAST_ONE += ("batch_max_tokens", "vllm_max_model_len")
POSITIVE = ("timeout", "rpm", "tpm", "max_cost", "log_interval", "batch_poll", "vllm_gpu_memory")
NOT_NEGATIVE = (
    "temperature",
    "generator_temperature",
    "backoff",
    "backoff_max",
    "price_in",
    "price_out",
    "mt_batch_size",
    "ray_actors",
)


def check(cfg: BuildConfig) -> None:
    """Normalise and check every field of ``cfg`` in place."""

    def guard(name: str, fn: Callable[[Any], Any]) -> None:
        try:
            setattr(cfg, name, fn(getattr(cfg, name)))
        except ConfigError:
            raise
        except (PlugdataError, ValueError, TypeError) as exc:
            raise ConfigError(name, str(exc)) from None

    if not isinstance(cfg.source, str) or not cfg.source.strip():
        raise ConfigError("source", "required: a named source, hf:OWNER/NAME or a file")
    guard("targets", _languages)
    guard("pivot", lambda v: get_language(v).code)
    if cfg.pivot in cfg.targets:
        raise ConfigError("targets", f"the pivot language {cfg.pivot!r} cannot also be a target")
    guard("formats", _formats)
    guard("columns", _columns)
    guard("filters", lambda v: None if v is None else parse_filters(",".join(_strings(v))))
    guard("thresholds", _thresholds)
    guard("out", lambda v: None if v in (None, "") else Path(v).expanduser())
    _check_numbers(cfg)
    for name, allowed in CHOICES.items():
        if getattr(cfg, name) not in allowed:
            shown = ", ".join(str(a) for a in allowed if a is not None)
            raise ConfigError(name, f"must be one of {shown}, not {getattr(cfg, name)!r}")
    _check_translator(cfg)
    _check_scale(cfg)
    if cfg.max_row_tokens is not None and not cfg.chat_template:
        raise ConfigError("max_row_tokens", "needs chat_template (tokens are counted with it)")
    if cfg.push_to_hub is not None and (
        cfg.push_to_hub.count("/") != 1 or not all(cfg.push_to_hub.split("/"))
    ):
        raise ConfigError("push_to_hub", f"must look like OWNER/NAME, not {cfg.push_to_hub!r}")
    if cfg.adequacy_model is not None and "adequacy" not in (cfg.filters or ()):
        raise ConfigError(
            "adequacy_model", "only used with the adequacy filter (--filters +adequacy)"
        )
    if cfg.generator_model and not cfg.generate:
        raise ConfigError("generator_model", "only used with generate (pivot or target)")


def _check_translator(cfg: BuildConfig) -> None:
    """Resolve ``auto`` (mt unless --model names a chat model) and check the backend's needs."""
    from plugdata.translate.mt.load import looks_like_mt

    if cfg.translator in ("mt", "vllm") or (cfg.translator == "auto" and not _server(cfg)):
        _check_model_folder(cfg.model)  # (on a server, a model's name may be its path there)
    if cfg.translator == "auto":
        cfg.translator = "mt" if not cfg.model or looks_like_mt(cfg.model) else "llm"
    if cfg.translator not in TRANSLATORS:
        known = ", ".join(["auto", *TRANSLATORS])
        raise ConfigError("translator", f"must be one of {known}, not {cfg.translator!r}")
    if cfg.concurrency is None:  # local backends batch what is in flight: give them plenty
        cfg.concurrency = LOCAL_CONCURRENCY if cfg.translator in ("mt", "vllm") else LLM_CONCURRENCY
    if cfg.translator in ("llm", "vllm") and not cfg.model:
        raise ConfigError(
            "model",
            f"required with the {cfg.translator} translator (the model's name on the server)",
        )
    if isinstance(cfg.mt_batch_size, int) and not isinstance(cfg.mt_batch_size, bool):
        return
    raise ConfigError("mt_batch_size", f"must be a whole number, not {cfg.mt_batch_size!r}")


def _server(cfg: BuildConfig) -> bool:
    """Whether a model server is named (by flag or environment)."""
    return bool(cfg.base_url or os.environ.get("OPENAI_BASE_URL"))


def _check_model_folder(model: str | None) -> None:
    """A --model written as a path (./x, ../x, /x, ~/x) must be a folder that exists."""
    if not model or "=" in model or not model.startswith(("./", "../", "/", "~", ".\\")):
        return
    if not Path(model).expanduser().is_dir():
        raise ConfigError("model", f"no such folder: {model}")


def _check_scale(cfg: BuildConfig) -> None:
    """The Batch API needs an OpenAI-compatible model; Ray and the Batch API do not mix."""
    if not 0 < cfg.vllm_gpu_memory <= 1:
        share = cfg.vllm_gpu_memory
        raise ConfigError("vllm_gpu_memory", f"must be above 0 and at most 1, not {share!r}")
    if cfg.batch_max_requests > 50_000:
        raise ConfigError(
            "batch_max_requests",
            f"the Batch API takes at most 50,000 requests per batch, not {cfg.batch_max_requests}",
        )
    expiry = cfg.batch_output_expiry
    whole = isinstance(expiry, int) and not isinstance(expiry, bool)
    if expiry is not None and not (whole and 3600 <= expiry <= 30 * 86400):
        raise ConfigError(
            "batch_output_expiry",
            f"must be whole seconds from 3600 (1 hour) to 2592000 (30 days), not {expiry!r}",
        )
    if not cfg.batch_api:
        return
    if cfg.translator != "llm":
        raise ConfigError(
            "batch_api",
            f"needs the llm translator (an OpenAI-compatible API), not {cfg.translator}",
        )
    if cfg.executor != "local":
        raise ConfigError("batch_api", "runs with the local executor (the batches do the scaling)")


def _check_numbers(cfg: BuildConfig) -> None:
    for name in (*AT_LEAST_ONE, *POSITIVE, *NOT_NEGATIVE):
        value = getattr(cfg, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"must be a number, not {value!r}")
        if name in AT_LEAST_ONE and (value < 1 or int(value) != value):
            raise ConfigError(name, f"must be a whole number of at least 1, not {value!r}")
        if name in POSITIVE and value <= 0:
            raise ConfigError(name, f"must be greater than 0, not {value!r}")
        if name in NOT_NEGATIVE and value < 0:
            raise ConfigError(name, f"must not be negative, not {value!r}")
    if cfg.seed is not None and (isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int)):
        raise ConfigError("seed", f"must be a whole number, not {cfg.seed!r}")


def _strings(value: Any) -> list[str]:
    """A list of non-empty strings from a list or a comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings or a comma-separated string, not {value!r}")
    return [v.strip() for v in value if v.strip()]


def _languages(value: Any) -> list[str]:
    return [lang.code for lang in parse_languages(_strings(value))]


def _formats(value: Any) -> list[str]:
    names = _strings(value)
    unknown = [f for f in names if f not in format_names()]
    if unknown or not names:
        raise ValueError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; "
            f"known formats: {', '.join(format_names())}"
        )
    return list(dict.fromkeys(names))


def _pairs(value: Any) -> dict[str, str]:
    """``{"a": "b"}`` or ``"a=b,c=d"`` as a dict of strings."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if not isinstance(value, str):
        raise ValueError(f"expected a dict or KEY=VALUE,... text, not {value!r}")
    out: dict[str, str] = {}
    for part in (p for p in value.split(",") if p.strip()):
        key, sep, item = (x.strip() for x in part.partition("="))
        if not sep or not key:
            raise ValueError(f"bad entry {part!r}: expected KEY=VALUE")
        out[key] = item
    return out


def _columns(value: Any) -> dict[str, str]:
    mapping = _pairs(value or {})
    for key in mapping:
        if key not in FIELDS:
            raise ValueError(
                f"bad entry {key!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}"
            )
    return mapping


def _thresholds(value: Any) -> dict[str, float]:
    pairs = _pairs(value or {})
    parsed = FilterConfig.parse(pairs)  # raises naming the threshold
    return {key: getattr(parsed, key) for key in pairs}

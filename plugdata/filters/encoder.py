"""The sentence encoder the ``adequacy`` check uses, and the checks made before money.

A sentence-transformers model (LaBSE by default; any model by Hub id or folder) is loaded on
first use, without remote code. :func:`preflight` runs before a build sends its first request:
sentence-transformers is installed, the model is a folder, in the Hugging Face cache or on a
reachable Hub, and the device exists; else one line says what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from plugdata.errors import PlugdataError, first_line
from plugdata.filters.config import FilterConfig

__all__ = ["Encoder", "check_model", "load_model", "preflight"]

HUB_TIMEOUT = 10  # seconds to ask the Hub whether a model exists


class Encoder:
    """A sentence-transformers model, loaded on first use."""

    def __init__(self, name: str, device: str = "auto", batch_size: int = 64) -> None:
        self.name, self.device, self.batch_size = name, device, batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.name, self.device)
        return self._model

    def similarities(self, pivots: list[str], targets: list[str]) -> np.ndarray:
        """Cosine similarity of each pivot text with its target text (each distinct text is
        encoded once)."""
        texts = list(dict.fromkeys([*pivots, *targets]))
        where = {text: i for i, text in enumerate(texts)}
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        left = vectors[[where[t] for t in pivots]]
        right = vectors[[where[t] for t in targets]]
        return np.einsum("ij,ij->i", left, right).astype(np.float64).clip(-1.0, 1.0)

    def close(self) -> None:
        """Free the model (and its GPU memory); it loads again if used again."""
        if self._model is None:
            return
        device = str(getattr(self._model, "device", "cpu"))
        self._model = None
        if device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()


def load_model(name: str, device: str = "auto") -> Any:
    """The sentence-transformers model ``name`` (Hub id or folder), without remote code."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise PlugdataError(_MISSING) from None
    try:
        return SentenceTransformer(
            str(Path(name).expanduser()) if _is_path(name) else name,
            device=None if device == "auto" else device,
            trust_remote_code=False,
        )
    except Exception as exc:  # unreadable folder, missing files, no network, bad device
        raise PlugdataError(f"adequacy_model {name}: cannot be loaded: {first_line(exc)}") from None


_MISSING = (
    "the adequacy filter needs sentence-transformers: pip install 'plugdata[adequacy]' "
    "(checked before any request is sent)"
)


def preflight(cfg: FilterConfig) -> None:
    """Before anything is paid for: sentence-transformers is installed, the device exists and
    the model can be loaded (:func:`check_model`); else one line saying what is wrong."""
    check_model(cfg.adequacy_model)
    device = cfg.adequacy_device
    if device in ("auto", "cpu"):
        return
    import torch

    if device.startswith("cuda"):
        found = torch.cuda.is_available()
    else:
        found = device == "mps" and torch.backends.mps.is_available()
    if not found:
        raise PlugdataError(f"adequacy_device {device}: no such device here (use auto or cpu)")


def check_model(name: str) -> None:
    """Before anything is paid for: sentence-transformers is installed and ``name`` is a model
    folder, a Hub model in the local cache, or a Hub model that can be downloaded now."""
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        raise PlugdataError(_MISSING) from None
    local = Path(name).expanduser()
    if local.is_dir():
        if not any((local / f).is_file() for f in ("modules.json", "config.json")):
            raise PlugdataError(
                f"adequacy_model {name}: {local} holds no model (no modules.json or config.json)"
            )
        return
    if _is_path(name):
        raise PlugdataError(f"adequacy_model {name}: no such folder")
    if _cached(name):
        return
    _on_hub(name)


def _is_path(name: str) -> bool:
    return (
        name.startswith((".", "/", "~")) or name.count("/") > 1 or Path(name).expanduser().exists()
    )


def _cached(repo: str) -> bool:
    """The model's config and weights are in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    def has(*files: str) -> bool:
        return any(isinstance(try_to_load_from_cache(repo, f), str) for f in files)

    return has("modules.json", "config.json") and has("model.safetensors", "pytorch_model.bin")


def _on_hub(repo: str) -> None:
    """The Hub can be reached and has the model; else one line saying what is wrong."""
    from huggingface_hub import HfApi
    from huggingface_hub import constants as hub

    where = f"adequacy_model {repo}: not a folder and not in the Hugging Face cache"
    if hub.HF_HUB_OFFLINE:
        raise PlugdataError(
            f"{where}, and HF_HUB_OFFLINE is set; download it first or pass a "
            "model folder (--adequacy-model PATH)"
        )
    try:
        HfApi().model_info(repo, timeout=HUB_TIMEOUT)
    except Exception as exc:  # httpx transport errors, 404, gated
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is None:
            raise PlugdataError(
                f"{where}, and the Hub cannot be reached ({first_line(exc)}); "
                "pass a model folder (--adequacy-model PATH)"
            ) from None
        raise PlugdataError(
            f"adequacy_model {repo}: not on the Hugging Face Hub (HTTP {status})"
        ) from None

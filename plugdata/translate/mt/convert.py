"""Convert a model for CTranslate2 once, into plugdata's cache folder."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from plugdata.translate.mt.load import ModelInfo, cache_root


def converted(info: ModelInfo, quantization: str = "int8") -> Path:
    """The CTranslate2 folder of ``info``'s model, converting it on first use.

    The folder name carries a hash of the model's config and weights' sizes, so a changed
    local model is converted again; conversion writes to a temporary folder that is renamed
    into place only when complete.
    """
    stamp = hashlib.sha256()
    for f in sorted(info.path.glob("*")):
        if f.is_file():
            stamp.update(f"{f.name}:{f.stat().st_size}".encode())
    stamp.update((info.path / "config.json").read_bytes())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", info.name.strip("/"))[-80:]
    dest = cache_root() / "ct2" / f"{slug}-{stamp.hexdigest()[:12]}-{quantization}"
    if (dest / "model.bin").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        _converter(info)(str(info.path)).convert(str(work / "model"), quantization=quantization)
        try:
            (work / "model").rename(dest)
        except OSError:  # converted meanwhile by another process
            if not (dest / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _converter(info: ModelInfo) -> Any:
    """CTranslate2's converter, told every language token of the tokenizer (recent
    transformers keep M2M100's language tokens out of ``get_vocab``)."""
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):  # type: ignore[misc]
        def load_tokenizer(self, tokenizer_class: Any, path: str, **kwargs: Any) -> Any:
            tokenizer = super().load_tokenizer(tokenizer_class, path, **kwargs)
            if info.family == "m2m100":
                full = {
                    tokenizer.convert_ids_to_tokens(i): i for i in range(len(tokenizer.encoder))
                }
                full.update(getattr(tokenizer, "lang_token_to_id", {}))
                tokenizer.get_vocab = lambda: dict(full)
            return tokenizer

    return Converter

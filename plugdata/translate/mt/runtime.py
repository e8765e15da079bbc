"""Where and how a translation model runs: the engine, the device and the precision.

One choice serves the dry run (which says what will happen), the engines (which do it) and the
records (which say what happened). T5-family models (MADLAD-400) overflow in float16 and write
``<unk>`` or NaN (CTranslate2 #1074, mlx-examples #980), so on a GPU they run in bfloat16
(``int8_bfloat16`` in CTranslate2) where the GPU has it, and in float32 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

T5_FAMILIES = ("madlad",)


@dataclass(frozen=True)
class Runtime:
    """An engine on a device at a precision: a torch dtype (transformers) or a CTranslate2
    compute type."""

    engine: str
    device: str
    precision: str

    @property
    def dtype(self) -> str | None:
        """The torch dtype (transformers), None for CTranslate2."""
        return self.precision if self.engine == "transformers" else None

    @property
    def compute_type(self) -> str | None:
        """The CTranslate2 compute type, None for transformers."""
        return self.precision if self.engine == "ctranslate2" else None

    def __str__(self) -> str:
        return f"{self.engine} on {self.device}, {self.precision}"


def precision_for(family: str, engine: str, device: str, bf16: bool) -> str:
    """The precision of a ``family`` model: float16 on a GPU, bfloat16 (or float32 without
    bf16) for T5 models, float32 (transformers) or int8 (CTranslate2) on a CPU."""
    t5 = family in T5_FAMILIES
    if engine == "ctranslate2":
        if device != "cuda":
            return "int8"
        if t5:
            return "int8_bfloat16" if bf16 else "int8"
        return "int8_float16"
    if device != "cuda":
        return "float32"
    if t5:
        return "bfloat16" if bf16 else "float32"
    return "float16"


@cache
def cuda_available(engine: str) -> bool:
    """Whether ``engine`` can use a GPU here."""
    if engine == "ctranslate2":
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@cache
def bf16_available(engine: str) -> bool:
    """Whether the GPU ``engine`` would use computes in bfloat16."""
    if not cuda_available(engine):
        return False
    if engine == "ctranslate2":
        import ctranslate2

        return "int8_bfloat16" in ctranslate2.get_supported_compute_types("cuda")
    import torch

    return bool(torch.cuda.is_bf16_supported())


def ctranslate2_installed() -> bool:
    """Whether CTranslate2 can be imported."""
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


def choose(family: str, engine: str = "auto", device: str | None = None) -> Runtime:
    """The runtime of a ``family`` model for an engine choice (``auto``: CTranslate2 when
    installed) and a device (None: the GPU when the engine can use one)."""
    if engine == "auto":
        engine = "ctranslate2" if ctranslate2_installed() else "transformers"
    device = device or ("cuda" if cuda_available(engine) else "cpu")
    bf16 = device == "cuda" and bf16_available(engine)
    return Runtime(engine, device, precision_for(family, engine, device, bf16))

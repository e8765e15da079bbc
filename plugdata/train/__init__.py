"""`plugdata train`: supervised fine-tuning on a built set, a thin layer over TRL's SFTTrainer.

    plugdata train --data corpora/my-run --format plug --langs zh,ko --model Qwen/Qwen2.5-0.5B \\
        --out runs/plug-zhko --lora
    accelerate launch --config_file $(plugdata accelerate-config fsdp2) -m plugdata.train ...

Modules: ``args`` (the options and their parser), ``data`` (loading, held-out split,
tokenizer set-up), ``masking`` (labels on assistant turns only), ``trainer`` (TRL's SFTTrainer
wired up, the fast path on GPUs), ``throughput`` (tokens/s and MFU after the warm-up) and the
bundled ``accelerate`` configs. Importing this package needs neither torch nor TRL.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from plugdata.errors import Interrupted, PlugdataError, stopped_by
from plugdata.train.args import PRESETS, TrainArgs, parse
from plugdata.train.data import held_out, prepare_tokenizer

__all__ = [
    "PRESETS",
    "TrainArgs",
    "held_out",
    "main",
    "parse",
    "prepare_tokenizer",
    "require_train_extra",
    "run",
]

TRAIN_MODULES = ("torch", "trl", "peft", "accelerate")


def require_train_extra() -> None:
    """Raise a one-line :class:`PlugdataError` with the install command if the extra is missing."""
    missing = [name for name in TRAIN_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        try:
            import torch  # noqa: F401
            import trl  # noqa: F401
        except ModuleNotFoundError as exc:  # a package the extra brings, or one of its own needs
            missing = [exc.name or str(exc)]
    if missing:
        raise PlugdataError(
            f"plugdata train needs the train extra ({', '.join(missing)} missing): "
            "pip install 'plugdata[train]'"
        )


def run(args: TrainArgs) -> Path:
    """Train as ``args`` say; returns the folder of the final model (see :mod:`.trainer`)."""
    require_train_extra()
    from plugdata.train.trainer import run as run_training

    return run_training(args)


def main(argv: list[str] | None = None) -> Any:
    """Entry point for `plugdata train`, `python -m plugdata.train` and `accelerate launch`."""
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the checkpoints saved so far stay
        words, code = stopped_by(exc)
        raise Interrupted(
            f"{words}; the checkpoints saved so far stay in {args.out}; run the "
            "same command with --resume to continue from the latest",
            code,
        ) from None

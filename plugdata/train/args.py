"""The options of `plugdata train`: one dataclass, its presets and a plain argparse parser.

The parser needs neither torch nor transformers, so `plugdata train --help` works (and stays
quiet) on an install without the train extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any

from plugdata.errors import PlugdataError

PRESETS: dict[str, dict[str, Any]] = {
    # The PLUG paper's published settings (full fine-tuning).
    "plug-paper": {
        "lora": False,
        "lr": 5e-6,
        "scheduler": "linear",
        "warmup_ratio": 0.03,
        "epochs": 4.0,
        "max_length": 4096,
        "global_batch": 64,
    },
    # A sensible LoRA default for one GPU.
    "lora": {
        "lora": True,
        "lr": 2e-4,
        "scheduler": "cosine",
        "warmup_ratio": 0.03,
        "epochs": 3.0,
        "max_length": 2048,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
    },
}


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class TrainArgs:
    """Options of `plugdata train`, one ``--flag`` a field (``--max-steps`` sets ``max_steps``)."""

    data: str = field(metadata={"help": "A run directory or a Hub dataset id."})
    model: str = field(metadata={"help": "Base model (Hub id or local folder)."})
    out: str = field(metadata={"help": "Output folder for checkpoints and the final model."})
    format: str = _opt("plug", "Training set to use: plug, mono, pivot-only, code-switch, ...")
    langs: str = _opt("", "Comma-separated target languages, e.g. zh,ko (required).")
    preset: str | None = _opt(None, "plug-paper or lora: defaults for the flags you do not set.")
    max_steps: int = _opt(-1, "Stop after this many optimizer steps (overrides --epochs).")
    epochs: float = _opt(3.0, "Passes over the training set.")
    lr: float = _opt(2e-5, "Peak learning rate.")
    scheduler: str = _opt("cosine", "Learning-rate schedule: cosine, linear, constant, ...")
    warmup_ratio: float = _opt(0.03, "Share of all steps spent warming the learning rate up.")
    batch_size: int = _opt(4, "Rows per device per step (packed rows when packing).")
    grad_accum: int = _opt(1, "Gradient accumulation steps.")
    global_batch: int | None = _opt(None, "Rows per optimizer step; sets --grad-accum from it.")
    max_length: int = _opt(2048, "Tokens per packed row; longer examples are truncated.")
    packing: bool = _opt(True, "Pack examples into full rows, kept apart in attention.")
    lora: bool = _opt(False, "Train a LoRA adapter instead of every weight.")
    qlora: bool = _opt(False, "LoRA on a 4-bit base model (needs bitsandbytes).")
    lora_r: int = _opt(16, "LoRA rank.")
    lora_alpha: int = _opt(32, "LoRA scaling numerator.")
    lora_dropout: float = _opt(0.05, "Dropout on the LoRA path.")
    gradient_checkpointing: bool = _opt(False, "Recompute activations to save GPU memory.")
    compile: bool | None = _opt(
        None,
        "torch.compile each decoder layer, with fixed-shape packed batches "
        "(default: on with a GPU and packing, off otherwise).",
    )
    resume: bool = _opt(False, "Continue from the latest checkpoint in --out.")
    save_steps: int = _opt(500, "Save a checkpoint (and evaluate) every this many steps.")
    logging_steps: int = _opt(10, "Log loss and throughput every this many steps.")
    eval_fraction: float = _opt(0.02, "Share of ids held out per language for evaluation.")
    seed: int = _opt(0, "Random seed.")
    bf16: bool | None = _opt(None, "bfloat16 training (default: on where the GPU supports it).")
    attn: str | None = _opt(
        None,
        "Attention backend (default: flash_attention_2 if installed, else "
        "flex_attention on a GPU, sdpa on the CPU).",
    )
    report_to: str = _opt("none", "Trackers to report to, comma-separated (wandb, tensorboard).")
    merge: bool = _opt(False, "Also save a merged model after LoRA.")

    def apply_preset(self, given: set[str]) -> None:
        """Fill preset values for every option the user did not set."""
        if self.preset is None:
            return
        if self.preset not in PRESETS:
            raise PlugdataError(f"unknown --preset {self.preset!r}; known: {', '.join(PRESETS)}")
        for key, value in PRESETS[self.preset].items():
            if key not in given:
                setattr(self, key, value)


def _base_type(name: str) -> type:
    """The type of a field, ``int`` for ``int | None`` (annotations are strings here)."""
    hint = typing.get_type_hints(TrainArgs)[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


class _Parser(argparse.ArgumentParser):
    """Usage errors become one-line :class:`PlugdataError` s instead of usage text and exit."""

    def error(self, message: str) -> typing.NoReturn:
        raise PlugdataError(f"plugdata train: {message} (see plugdata train --help)")


def build_parser(*, only_given: bool = False) -> argparse.ArgumentParser:
    """The `plugdata train` parser: dash flags, booleans as ``--x/--no-x``, help on every flag.

    ``only_given`` leaves out every flag the command line did not set (to tell a preset's
    values from the user's, however the flag was spelt: ``--max-len`` is ``--max-length``).
    """
    parser = _Parser(
        prog="plugdata train",
        description="Fine-tune a model on a built PLUG set with TRL's SFTTrainer.",
        epilog="Underscore spellings (--max_steps) are accepted too.",
        argument_default=argparse.SUPPRESS if only_given else None,
    )
    for f in fields(TrainArgs):
        flag = "--" + f.name.replace("_", "-")
        kind = _base_type(f.name)
        required = f.default is dataclasses.MISSING
        help_text = f.metadata["help"]
        default = argparse.SUPPRESS if only_given else f.default
        if kind is bool:
            parser.add_argument(
                flag,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=help_text,
            )
        else:
            if not required and f.default not in (None, ""):
                help_text += f" Default: {f.default}."
            parser.add_argument(
                flag,
                dest=f.name,
                type=kind,
                required=required,
                default=None if required and not only_given else default,
                help=help_text,
                metavar=f.name.upper(),
            )
    return parser


def _dashed(argv: list[str]) -> list[str]:
    """``--max_steps=3`` -> ``--max-steps=3``; values are left alone."""
    out = []
    for arg in argv:
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            arg = name.replace("_", "-") + eq + value
        out.append(arg)
    return out


def parse(argv: list[str]) -> TrainArgs:
    """Parse flags into :class:`TrainArgs`, applying ``--preset`` under explicit flags."""
    argv = _dashed(argv)
    namespace = build_parser().parse_args(argv)
    args = TrainArgs(**vars(namespace))
    given = set(vars(build_parser(only_given=True).parse_args(argv)))
    args.apply_preset(given)
    if args.epochs <= 0 or args.max_steps == 0:
        raise PlugdataError("nothing to train: set --epochs > 0 or --max-steps > 0")
    return args

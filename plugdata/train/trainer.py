"""`plugdata train`: supervised fine-tuning on a built set, a thin layer over TRL's SFTTrainer.

    plugdata train --data corpora/my-run --format plug --langs zh,ko --model Qwen/Qwen2.5-0.5B \
        --out runs/plug-zhko --lora
    accelerate launch --config_file $(plugdata-accelerate fsdp2) -m plugdata.train ...

Rows are tokenized here with labels on assistant turns only (end-of-turn token included),
packed without attention across examples (padding-free, position ids restart per example),
and trained with full fine-tuning, LoRA or QLoRA. Every run ends with a resumable checkpoint.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError

PRESETS: dict[str, dict[str, Any]] = {
    # The PLUG paper's published settings (full fine-tuning).
    "plug-paper": {"lora": False, "lr": 5e-6, "scheduler": "linear", "warmup_ratio": 0.03,
                   "epochs": 4.0, "max_length": 4096, "global_batch": 64},
    # A sensible LoRA default for one GPU.
    "lora": {"lora": True, "lr": 2e-4, "scheduler": "cosine", "warmup_ratio": 0.03, "epochs": 3.0,
             "max_length": 2048, "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05},
}  # fmt: skip
PEAK_TFLOPS = {
    "H100": 989.0,
    "H200": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "A10": 125.0,
    "4090": 165.0,
}


@dataclass
class TrainArgs:
    """Options of `plugdata train` (each is a --flag; dashes or underscores both work)."""

    data: str = field(metadata={"help": "A run directory or a Hub dataset id."})
    model: str = field(metadata={"help": "Base model (Hub id or local folder)."})
    out: str = field(metadata={"help": "Output folder for checkpoints and the final model."})
    format: str = field(default="plug", metadata={"help": "plug, mono, pivot-only, ..."})
    langs: str = field(default="", metadata={"help": "Comma-separated target languages."})
    preset: str | None = field(default=None, metadata={"help": "plug-paper or lora."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps."})
    epochs: float = 3.0
    lr: float = 2e-5
    scheduler: str = "cosine"
    warmup_ratio: float = field(default=0.03, metadata={"help": "Warm-up share of all steps."})
    batch_size: int = field(default=4, metadata={"help": "Per-device batch size."})
    grad_accum: int = 1
    global_batch: int | None = field(default=None, metadata={"help": "Sets grad_accum from it."})
    max_length: int = 2048
    packing: bool = True
    lora: bool = False
    qlora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    gradient_checkpointing: bool = False
    compile: bool = field(
        default=False, metadata={"help": "torch.compile the model (faster on GPUs)."}
    )
    resume: bool = field(
        default=False, metadata={"help": "Continue from the latest checkpoint in --out."}
    )
    save_steps: int = 500
    logging_steps: int = 10
    eval_fraction: float = field(
        default=0.02, metadata={"help": "Share of ids held out per language."}
    )
    seed: int = 0
    bf16: bool | None = field(
        default=None, metadata={"help": "Default: on where the GPU supports it."}
    )
    attn: str | None = field(
        default=None,
        metadata={
            "help": "Attention backend (default: flash_attention_2 if installed, else "
            "flex_attention on a GPU, sdpa on the CPU)."
        },
    )
    report_to: str = "none"
    merge: bool = field(default=False, metadata={"help": "Save a merged model after LoRA."})

    def apply_preset(self, given: set[str]) -> None:
        """Fill preset values for every option the user did not set."""
        if self.preset is None:
            return
        if self.preset not in PRESETS:
            raise PlugdataError(f"unknown --preset {self.preset!r}; known: {', '.join(PRESETS)}")
        for key, value in PRESETS[self.preset].items():
            if key not in given:
                setattr(self, key, value)


def held_out(row_id: str, fraction: float) -> bool:
    """Whether an id is in the evaluation split: the same ids in every format and language."""
    base = row_id.split(":")[0]
    return int(hashlib.sha1(base.encode()).hexdigest()[:8], 16) % 10_000 < fraction * 10_000


def load_rows(args: TrainArgs) -> tuple[Any, Any]:
    """Train and eval splits of the chosen format and languages (eval held out by id)."""
    import datasets

    langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    if not langs:
        raise PlugdataError("--langs is required, e.g. --langs zh,ko")
    parts = []
    for lang in langs:
        name = f"{args.format}-{lang}"
        try:
            parts.append(datasets.load_dataset(args.data, name, split="train"))
        except Exception as exc:  # datasets raises many types for missing configs/files
            raise PlugdataError(
                f"cannot load {name!r} from {args.data}: {str(exc).splitlines()[0]}"
            ) from None
    data = datasets.concatenate_datasets(parts).select_columns(["id", "messages"])
    is_eval = [held_out(i, args.eval_fraction) for i in data["id"]]
    train = data.select([i for i, e in enumerate(is_eval) if not e])
    evaluation = data.select([i for i, e in enumerate(is_eval) if e])
    return train, evaluation


def prepare_tokenizer(tokenizer: Any) -> list[str]:
    """Give the tokenizer a training chat template, end-of-turn and a pad distinct from EOS.

    Returns the tokens added (the model's embeddings must grow to match).
    """
    from plugdata.masking import TRAINING_TEMPLATE

    added: list[str] = []
    if not getattr(tokenizer, "chat_template", None):
        specials = [t for t in ("<|im_start|>", "<|im_end|>") if t not in tokenizer.get_vocab()]
        if specials:
            tokenizer.add_special_tokens({"additional_special_tokens": specials})
            added += specials
        tokenizer.chat_template = TRAINING_TEMPLATE
    if tokenizer.pad_token is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        # pad == eos is a known trap: collators that mask padding would mask every EOS too.
        if "<|pad|>" not in tokenizer.get_vocab():
            added.append("<|pad|>")
        tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
    return added


def align_special_tokens(model: Any, tokenizer: Any) -> None:
    """The same pad, EOS and end-of-turn ids in tokenizer, model config and generation config."""
    end_of_turn = (
        tokenizer.convert_tokens_to_ids("<|im_end|>")
        if "<|im_end|>" in tokenizer.get_vocab()
        else None
    )
    eos_ids = [i for i in (end_of_turn, tokenizer.eos_token_id) if i is not None]
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.eos_token_id = eos_ids[0] if len(eos_ids) == 1 else list(dict.fromkeys(eos_ids))
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = list(dict.fromkeys(eos_ids))


def latest_checkpoint(out: Path) -> Path | None:
    """The checkpoint with the highest step in ``out``."""
    found = [p for p in out.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def _attention() -> str:
    """flash-attn where installed; else flex attention on a GPU (it skips the blocks between
    packed examples: 43% MFU against 36% for SDPA with --compile on an H100, bench/train_gpu.py);
    SDPA on the CPU."""
    import torch

    if not torch.cuda.is_available():
        return "sdpa"
    try:
        import flash_attn  # noqa: F401

        return "flash_attention_2"
    except ImportError:
        return "flex_attention"


def _has_liger() -> bool:
    """Liger's fused kernels (RMSNorm, RoPE, SwiGLU, fused cross-entropy) when installed."""
    import importlib.util

    return importlib.util.find_spec("liger_kernel") is not None


def _peak_flops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, tflops in PEAK_TFLOPS.items():
        if key in name:
            return tflops * 1e12 * torch.cuda.device_count()
    return None


def build_trainer(args: TrainArgs) -> Any:
    """Tokenizer, model, data and an SFTTrainer configured from ``args``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from plugdata.masking import encode, show_example

    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    added = prepare_tokenizer(tokenizer)
    train_rows, eval_rows = load_rows(args)

    def tokenize(row: dict[str, Any]) -> dict[str, list[int]]:
        return encode(tokenizer, row["messages"], args.max_length)

    train_data = train_rows.map(tokenize, remove_columns=["id", "messages"], desc="tokenizing")
    eval_data = (
        eval_rows.map(tokenize, remove_columns=["id", "messages"]) if len(eval_rows) else None
    )
    first = train_data[0]
    print("One training example; the trained spans are in ⟦ ⟧:\n" + show_example(
        tokenizer, first["input_ids"], first["labels"]) + "\n", flush=True)  # fmt: skip

    cuda = torch.cuda.is_available()
    bf16 = args.bf16 if args.bf16 is not None else bool(cuda and torch.cuda.is_bf16_supported())
    model_kwargs: dict[str, Any] = {"attn_implementation": args.attn or _attention()}
    if bf16:
        model_kwargs["dtype"] = torch.bfloat16
    if args.qlora:
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError:
            raise PlugdataError("--qlora needs bitsandbytes (pip install bitsandbytes)") from None
        model_kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(args.model, **model_kwargs)
    if added:
        model.resize_token_embeddings(len(tokenizer))
    align_special_tokens(model, tokenizer)
    # Packed examples are kept apart only when there is no KV cache (transformers then reads
    # the example boundaries from the restarting position ids).
    model.config.use_cache = False

    peft_config = None
    if args.lora or args.qlora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                                 target_modules="all-linear", task_type="CAUSAL_LM")  # fmt: skip

    grad_accum = args.grad_accum
    if args.global_batch:
        world = max(1, torch.cuda.device_count()) if cuda else 1
        grad_accum = max(1, args.global_batch // (args.batch_size * world))
    config = SFTConfig(
        output_dir=args.out, max_steps=args.max_steps, num_train_epochs=args.epochs,
        learning_rate=args.lr, lr_scheduler_type=args.scheduler, warmup_steps=args.warmup_ratio,
        per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=args.batch_size,
        gradient_accumulation_steps=grad_accum, max_length=args.max_length,
        packing=args.packing, packing_strategy="bfd", padding_free=args.packing,
        gradient_checkpointing=args.gradient_checkpointing, bf16=bf16, seed=args.seed,
        torch_compile=args.compile, use_liger_kernel=_has_liger() and cuda,
        save_strategy="steps", save_steps=args.save_steps, logging_steps=args.logging_steps,
        eval_strategy="steps" if eval_data is not None else "no", eval_steps=args.save_steps,
        report_to=[] if args.report_to == "none" else args.report_to.split(","),
        optim="adamw_torch_fused" if cuda else "adamw_torch", use_cpu=not cuda,
        include_num_input_tokens_seen="non_padding",
    )  # fmt: skip
    n_params = sum(p.numel() for p in model.parameters())
    peak = _peak_flops()

    class Throughput(TrainerCallback):
        """Tokens/s and MFU (6 x parameters x tokens/s over the GPUs' peak), and a final checkpoint."""

        def __init__(self) -> None:
            self.started = time.perf_counter()
            self.tokens = 0

        def on_step_end(self, targs: Any, state: Any, control: Any, **kw: Any) -> Any:
            if state.max_steps and state.global_step >= state.max_steps:
                control.should_save = True  # every run ends with a resumable checkpoint
            return control

        def on_log(self, targs: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            tokens = getattr(state, "num_input_tokens_seen", 0) or 0
            seconds = time.perf_counter() - self.started
            if not tokens or seconds <= 0:
                return
            extra = {"tokens_per_second": round(tokens / seconds, 1)}
            if peak:
                extra["mfu"] = round(6 * n_params * tokens / seconds / peak, 4)
            for target in (logs, state.log_history[-1] if state.log_history else None):
                if target is not None:
                    target.update(extra)

    trainer = SFTTrainer(
        model=model, args=config, train_dataset=train_data, eval_dataset=eval_data,
        processing_class=tokenizer, peft_config=peft_config, callbacks=[Throughput()],
    )  # fmt: skip
    return trainer


def run(args: TrainArgs) -> Path:
    """Train, save model and tokenizer (with its chat template) in ``args.out``."""
    out = Path(args.out)
    resume = None
    if args.resume:
        resume = latest_checkpoint(out)
        if resume is None:
            raise PlugdataError(f"--resume: no checkpoint in {out}")
        print(f"Resuming from {resume} (step {resume.name.split('-')[-1]})", flush=True)
    trainer = build_trainer(args)
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    final = out / "final"
    model = trainer.model
    if (args.lora or args.qlora) and args.merge and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(final)
    trainer.processing_class.save_pretrained(final)
    print(f"Model and tokenizer saved to {final}", flush=True)
    return final


def parse(argv: list[str]) -> TrainArgs:
    """Parse flags into :class:`TrainArgs`, applying ``--preset`` under explicit flags."""
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(TrainArgs).parse_args_into_dataclasses(argv)
    given = {f.name for f in fields(TrainArgs)
             if any(a.split("=")[0] in (f"--{f.name}", f"--{f.name.replace('_', '-')}") for a in argv)}  # fmt: skip
    args.apply_preset(given)
    if args.epochs <= 0 or (args.max_steps == 0):
        raise PlugdataError("nothing to train: set --epochs > 0 or --max-steps > 0")
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point for `plugdata train` and `python -m plugdata.train`."""
    args = parse(sys.argv[1:] if argv is None else argv)
    run(args)


if __name__ == "__main__":
    try:
        main()
    except PlugdataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)

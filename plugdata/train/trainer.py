"""Wiring TRL's SFTTrainer: model, data, fast path on GPUs, a resumable run.

Rows are tokenized with labels on assistant turns only (end-of-turn token included), packed
without attention across examples (padding-free, position ids restart per example), and
trained with full fine-tuning, LoRA or QLoRA. Every run ends with a resumable checkpoint.

On a GPU the default is the fast path: flex attention (or flash-attn where installed), every
decoder layer compiled with ``torch.compile``, and each batch of packed rows padded to one
fixed length (batch size x max length), so the compiled code never meets a new shape.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError, first_line
from plugdata.train.args import TrainArgs


def attention_backend() -> str:
    """flash-attn where installed; else flex attention on a GPU (it skips the blocks between
    packed examples); SDPA on the CPU."""
    import torch

    if not torch.cuda.is_available():
        return "sdpa"
    if importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "flex_attention"


def use_compile(args: TrainArgs) -> bool:
    """``--compile`` as given; by default on with a GPU and packing, off for QLoRA."""
    import torch

    if args.compile is not None:
        return args.compile
    return bool(torch.cuda.is_available() and args.packing and not args.qlora)


def compile_layers(module: Any) -> int:
    """``torch.compile`` the outermost repeated blocks (the decoder layers) in place.

    Compiling the layers rather than the whole model keeps the compile short (the layers share
    one compiled graph) and leaves the loss, TRL's fused LM head and the optimizer as they are.
    Returns how many blocks were compiled.
    """
    import torch

    repeated = isinstance(module, torch.nn.ModuleList) and len({type(b) for b in module}) == 1
    if repeated and len(module) > 1:
        for block in module:
            block.compile(dynamic=False)
        return len(module)
    return sum(compile_layers(child) for child in module.children())


def load_model(args: TrainArgs, bf16: bool, vocab_size: int | None) -> Any:
    """The base model with the chosen attention, dtype and (for QLoRA) 4-bit weights."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"attn_implementation": args.attn or attention_backend()}
    if bf16:
        kwargs["dtype"] = torch.bfloat16
    if args.qlora:
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError:
            raise PlugdataError("--qlora needs bitsandbytes (pip install bitsandbytes)") from None
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    try:
        model = AutoModelForCausalLM.from_pretrained(args.model, **kwargs)
    except (OSError, ValueError) as exc:  # a missing folder or Hub id, a config it cannot read
        raise PlugdataError(
            f"--model {args.model}: cannot load the model: {first_line(exc)}"
        ) from None
    if vocab_size is not None:
        model.resize_token_embeddings(vocab_size)
    # Packed examples are kept apart only when there is no KV cache (transformers then reads
    # the example boundaries from the restarting position ids).
    model.config.use_cache = False
    return model


def sft_config(args: TrainArgs, bf16: bool, has_eval: bool, fixed: bool) -> Any:
    """TRL's SFTConfig from ``args``.

    With ``fixed`` (and packing), every batch of packed rows is padded to batch size x max
    length, so compiled code meets one shape only. The padding tokens get position 0 each: each
    is an example of its own that nothing attends to, with no label, and throughput counts only
    the real tokens.
    """
    import torch
    from trl import SFTConfig

    cuda = torch.cuda.is_available()
    grad_accum = args.grad_accum
    if args.global_batch:
        world = max(1, torch.cuda.device_count()) if cuda else 1
        grad_accum = max(1, args.global_batch // (args.batch_size * world))
    liger = cuda and importlib.util.find_spec("liger_kernel") is not None
    return SFTConfig(
        output_dir=args.out,
        max_steps=args.max_steps,
        num_train_epochs=args.epochs,
        learning_rate=args.lr,
        lr_scheduler_type=args.scheduler,
        warmup_steps=args.warmup_ratio,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        gradient_accumulation_steps=grad_accum,
        max_length=args.max_length,
        packing=args.packing,
        packing_strategy="bfd",
        padding_free=args.packing,
        pad_to_multiple_of=args.batch_size * args.max_length if fixed and args.packing else None,
        activation_checkpointing=args.gradient_checkpointing,
        bf16=bf16,
        seed=args.seed,
        use_liger_kernel=liger,
        save_strategy="steps",
        save_steps=args.save_steps,
        logging_steps=args.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=args.save_steps,
        report_to=[] if args.report_to == "none" else args.report_to.split(","),
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        use_cpu=not cuda,
        include_num_input_tokens_seen="non_padding",
    )


def build_trainer(args: TrainArgs) -> Any:
    """Tokenizer, model, data and an SFTTrainer configured from ``args``."""
    import torch
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    from plugdata.train.data import align_special_tokens, prepare_tokenizer, tokenize_splits
    from plugdata.train.masking import show_example
    from plugdata.train.throughput import peak_flops, throughput_callback

    torch.manual_seed(args.seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(args.model)
    except (OSError, ValueError) as exc:  # a missing folder or Hub id, no tokenizer files
        raise PlugdataError(
            f"--model {args.model}: cannot load its tokenizer: {first_line(exc)}"
        ) from None
    added = prepare_tokenizer(tokenizer)
    train_data, eval_data = tokenize_splits(args, tokenizer)
    first = train_data[0]
    print(
        "One training example; the trained spans are in ⟦ ⟧:\n"
        + show_example(tokenizer, first["input_ids"], first["labels"])
        + "\n",
        flush=True,
    )

    cuda = torch.cuda.is_available()
    bf16 = args.bf16 if args.bf16 is not None else bool(cuda and torch.cuda.is_bf16_supported())
    model = load_model(args, bf16, len(tokenizer) if added else None)
    align_special_tokens(model, tokenizer)
    peft_config = None
    if args.lora or args.qlora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=args.lora_r,
            lora_alpha=args.lora_alpha,
            lora_dropout=args.lora_dropout,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
    compiled = use_compile(args)
    n_params = sum(p.numel() for p in model.parameters())
    trainer = SFTTrainer(
        model=model,
        args=sft_config(args, bf16, eval_data is not None, fixed=compiled),
        train_dataset=train_data,
        eval_dataset=eval_data,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[throughput_callback(n_params, peak_flops()), _final_checkpoint()],
    )
    if compiled:
        layers = compile_layers(trainer.model)
        print(
            f"Compiling {layers} decoder layers with torch.compile (the first steps take "
            "longer; --no-compile turns it off).",
            flush=True,
        )
    return trainer


def _final_checkpoint() -> Any:
    """A callback that saves at the last step, so every run can be resumed."""
    from transformers import TrainerCallback

    class FinalCheckpoint(TrainerCallback):
        def on_step_end(self, targs: Any, state: Any, control: Any, **kw: Any) -> Any:
            if state.max_steps and state.global_step >= state.max_steps:
                control.should_save = True
            return control

    return FinalCheckpoint()


def latest_checkpoint(out: Path) -> Path | None:
    """The checkpoint with the highest step in ``out``."""
    found = [p for p in out.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


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
    _write_recipe(args, out)
    print(f"Model and tokenizer saved to {final}", flush=True)
    return final


def _write_recipe(args: TrainArgs, out: Path) -> None:
    """``plugdata_train.json``: the training set a model learnt from, so that ``plugdata eval``
    prompts it the same way (format, and through the run directory its system prompt)."""
    import json

    data = Path(args.data)
    recipe = {
        "format": args.format,
        "langs": args.langs,
        "model": args.model,
        "data": str(data.resolve()) if data.exists() else args.data,
    }
    (out / "plugdata_train.json").write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")

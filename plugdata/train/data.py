"""Training data: the chosen sets of a run directory, the held-out split, tokenizer set-up."""

from __future__ import annotations

import hashlib
from typing import Any

from plugdata.errors import PlugdataError, first_line
from plugdata.train.args import TrainArgs


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
                f"cannot load {name!r} from {args.data}: {first_line(exc)}"
            ) from None
    data = datasets.concatenate_datasets(parts).select_columns(["id", "messages"])
    is_eval = [held_out(i, args.eval_fraction) for i in data["id"]]
    train = data.select([i for i, e in enumerate(is_eval) if not e])
    evaluation = data.select([i for i, e in enumerate(is_eval) if e])
    return train, evaluation


def tokenize_splits(args: TrainArgs, tokenizer: Any) -> tuple[Any, Any]:
    """Tokenized train and eval sets (eval is None when nothing is held out)."""
    from plugdata.train.masking import encode

    train_rows, eval_rows = load_rows(args)

    def tokenize(row: dict[str, Any]) -> dict[str, list[int]]:
        return encode(tokenizer, row["messages"], args.max_length)

    columns = ["id", "messages"]
    train = train_rows.map(tokenize, remove_columns=columns, desc="tokenizing")
    evaluation = eval_rows.map(tokenize, remove_columns=columns) if len(eval_rows) else None
    return train, evaluation


def prepare_tokenizer(tokenizer: Any) -> list[str]:
    """Give the tokenizer a training chat template, end-of-turn and a pad distinct from EOS.

    Returns the tokens added (the model's embeddings must grow to match).
    """
    from plugdata.train.masking import TRAINING_TEMPLATE

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

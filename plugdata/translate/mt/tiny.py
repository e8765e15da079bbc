"""Tiny translation models built offline from configs, for tests and benchmarks.

The tokenizer is a sentencepiece model trained on the given texts, so the real loading code
(``from_pretrained`` on a folder) is exercised end to end. The weights are random: what the
model writes is noise, but the shapes, tokens and files are those of the real families.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def train_spm(texts: Iterable[str], folder: Path, vocab_size: int = 400) -> Path:
    """A unigram sentencepiece model trained on ``texts``; returns its path."""
    import sentencepiece as spm

    folder.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([t for t in texts if t.strip()]), model_prefix=str(folder / "spm"),
        vocab_size=vocab_size, model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
        pad_id=-1, bos_id=-1, eos_id=-1, unk_id=0, minloglevel=2,
    )  # fmt: skip
    return folder / "spm.model"


def _pieces(spm_path: Path) -> list[str]:
    import sentencepiece as spm

    proc = spm.SentencePieceProcessor(model_file=str(spm_path))
    return [proc.id_to_piece(i) for i in range(proc.get_piece_size())]


def _sizes(size: dict[str, int] | None) -> dict[str, int]:
    s = {"d_model": 32, "layers": 2, "heads": 2, "ffn": 64, **(size or {})}
    return {"d_model": s["d_model"], "encoder_layers": s["layers"], "decoder_layers": s["layers"],
            "encoder_attention_heads": s["heads"], "decoder_attention_heads": s["heads"],
            "encoder_ffn_dim": s["ffn"], "decoder_ffn_dim": s["ffn"], "max_position_embeddings": 512}  # fmt: skip


def tiny_marian(folder: Path, texts: Iterable[str], *, vocab_size: int = 400,
                size: dict[str, int] | None = None, seed: int = 0) -> Path:  # fmt: skip
    """An OPUS-MT-shaped Marian model (``source.spm``, ``target.spm``, ``vocab.json``)."""
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    spm_path = train_spm(texts, folder / "_spm", vocab_size)
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in _pieces(spm_path):
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)  # last, as in OPUS-MT vocabularies
    for name in ("source.spm", "target.spm"):
        shutil.copy(spm_path, folder / name)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(folder / "_spm")
    tokenizer = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"),
                                str(folder / "vocab.json"))  # fmt: skip
    config = MarianConfig(vocab_size=len(vocab), pad_token_id=vocab["<pad>"], eos_token_id=0,
                          decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0,
                          init_std=0.2, **_sizes(size))  # fmt: skip
    return _save(MarianMTModel, config, tokenizer, folder, seed, torch)


def tiny_m2m100(folder: Path, texts: Iterable[str], *, vocab_size: int = 400,
                size: dict[str, int] | None = None, seed: int = 0) -> Path:  # fmt: skip
    """An M2M100-shaped model with its 100 ``__xx__`` language tokens."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    spm_path = train_spm(texts, folder / "_spm", vocab_size)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in _pieces(spm_path):
        vocab.setdefault(piece, len(vocab))
    shutil.copy(spm_path, folder / "sentencepiece.bpe.model")
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(folder / "_spm")
    tokenizer = M2M100Tokenizer(str(folder / "vocab.json"), str(folder / "sentencepiece.bpe.model"),
                                src_lang="en", tgt_lang="it")  # fmt: skip
    total = len(tokenizer.encoder) + len(tokenizer.lang_code_to_id) + tokenizer.num_madeup_words
    config = M2M100Config(vocab_size=total, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                          decoder_start_token_id=2, init_std=0.2, **_sizes(size))  # fmt: skip
    return _save(M2M100ForConditionalGeneration, config, tokenizer, folder, seed, torch)


def _save(cls: Any, config: Any, tokenizer: Any, folder: Path, seed: int, torch: Any) -> Path:
    torch.manual_seed(seed)
    model = cls(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

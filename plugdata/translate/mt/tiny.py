"""Tiny translation models built offline from configs, for tests and benchmarks.

The tokenizer is a sentencepiece model trained on the given texts, so the real loading code
(``from_pretrained`` on a folder) is exercised end to end. The weights are random: what the
model writes is noise, but the shapes, tokens and files are those of the real families:
Marian (OPUS-MT), M2M100, NLLB-200 (M2M100 weights, ``eng_Latn``-style codes) and MADLAD-400
(T5, ``<2xx>`` tags in the vocabulary).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

NLLB_CODES = ["eng_Latn", "ita_Latn", "spa_Latn", "zho_Hans", "kor_Hang"]
MADLAD_TAGS = ["<2en>", "<2it>", "<2es>", "<2zh>", "<2ko>"]


def train_spm(
    texts: Iterable[str],
    folder: Path,
    vocab_size: int = 400,
    *,
    model_type: str = "unigram",
    ids: tuple[int, int, int, int] = (-1, -1, -1, 0),
    symbols: Iterable[str] = (),
) -> Path:
    """A sentencepiece model trained on ``texts``; returns its path. ``ids`` are the pad,
    bos, eos and unk ids; ``symbols`` are pieces kept whole (language tags)."""
    import sentencepiece as spm

    folder.mkdir(parents=True, exist_ok=True)
    pad, bos, eos, unk = ids
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([t for t in texts if t.strip()]),
        model_prefix=str(folder / "spm"),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        hard_vocab_limit=False,
        pad_id=pad,
        bos_id=bos,
        eos_id=eos,
        unk_id=unk,
        user_defined_symbols=list(symbols),
        minloglevel=2,
    )
    return folder / "spm.model"


def _pieces(spm_path: Path) -> list[str]:
    import sentencepiece as spm

    proc = spm.SentencePieceProcessor(model_file=str(spm_path))
    return [proc.id_to_piece(i) for i in range(proc.get_piece_size())]


def _sizes(size: dict[str, int] | None) -> dict[str, int]:
    """Bart-style sizes from ``d_model``, ``layers``, ``heads``, ``ffn`` and ``positions``."""
    s = {"d_model": 32, "layers": 2, "heads": 2, "ffn": 64, "positions": 512, **(size or {})}
    return {
        "d_model": s["d_model"],
        "encoder_layers": s["layers"],
        "decoder_layers": s["layers"],
        "encoder_attention_heads": s["heads"],
        "decoder_attention_heads": s["heads"],
        "encoder_ffn_dim": s["ffn"],
        "decoder_ffn_dim": s["ffn"],
        "max_position_embeddings": s["positions"],
    }


def tiny_marian(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    size: dict[str, int] | None = None,
    seed: int = 0,
    tags: Iterable[str] = (),
) -> Path:
    """An OPUS-MT-shaped Marian model (``source.spm``, ``target.spm``, ``vocab.json``); with
    ``tags`` (``>>ita<<``, ...) it is a multi-target model that needs one of them first."""
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    spm_path = train_spm(texts, folder / "_spm", vocab_size)
    vocab = {"</s>": 0, "<unk>": 1, **{tag: 2 + i for i, tag in enumerate(tags)}}
    for piece in _pieces(spm_path):
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)  # last, as in OPUS-MT vocabularies
    for name in ("source.spm", "target.spm"):
        shutil.copy(spm_path, folder / name)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(folder / "_spm")
    tokenizer = MarianTokenizer(
        str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json")
    )
    config = MarianConfig(
        vocab_size=len(vocab),
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=0,
        init_std=0.2,
        **_sizes(size),
    )
    return _save(MarianMTModel, config, tokenizer, folder, seed, torch)


def tiny_m2m100(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    size: dict[str, int] | None = None,
    seed: int = 0,
) -> Path:
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
    tokenizer = M2M100Tokenizer(
        str(folder / "vocab.json"),
        str(folder / "sentencepiece.bpe.model"),
        src_lang="en",
        tgt_lang="it",
    )
    total = len(tokenizer.encoder) + len(tokenizer.lang_code_to_id) + tokenizer.num_madeup_words
    config = M2M100Config(
        vocab_size=total,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        init_std=0.2,
        **_sizes(size),
    )
    return _save(M2M100ForConditionalGeneration, config, tokenizer, folder, seed, torch)


def _from_files(folder: Path, spm_path: Path, spm_name: str, settings: dict[str, Any]) -> Any:
    """The family's tokenizer loaded from a sentencepiece file and a tokenizer config, as
    ``from_pretrained`` reads a real model's folder (any transformers version converts it)."""
    from transformers import AutoTokenizer

    shutil.move(str(spm_path), folder / spm_name)
    shutil.rmtree(spm_path.parent)
    (folder / "tokenizer_config.json").write_text(json.dumps(settings), encoding="utf-8")
    return AutoTokenizer.from_pretrained(folder)


def tiny_nllb(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    size: dict[str, int] | None = None,
    seed: int = 0,
) -> Path:
    """An NLLB-200-shaped model: M2M100 weights, a BPE sentencepiece and ``eng_Latn``-style
    language codes (a few of the 202, enough for the registered test languages)."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    # unk, bos and eos first, as in fairseq's sentencepiece (the converters count on it)
    spm_path = train_spm(texts, folder / "_spm", vocab_size, model_type="bpe", ids=(-1, 1, 2, 0))
    tokenizer = _from_files(
        folder,
        spm_path,
        "sentencepiece.bpe.model",
        {
            "tokenizer_class": "NllbTokenizer",
            "src_lang": "eng_Latn",
            "additional_special_tokens": NLLB_CODES,
        },
    )
    config = M2M100Config(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        init_std=0.2,
        **_sizes(size),
    )
    return _save(M2M100ForConditionalGeneration, config, tokenizer, folder, seed, torch)


def tiny_madlad(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    size: dict[str, int] | None = None,
    seed: int = 0,
) -> Path:
    """A MADLAD-400-shaped model: T5 (gated GELU, untied head) with ``<2xx>`` language tags
    in its unigram sentencepiece."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    spm_path = train_spm(texts, folder / "_spm", vocab_size, ids=(0, -1, 1, 2), symbols=MADLAD_TAGS)
    tokenizer = _from_files(
        folder, spm_path, "spiece.model", {"tokenizer_class": "T5Tokenizer", "extra_ids": 0}
    )
    s = {"d_model": 32, "layers": 2, "heads": 2, "ffn": 64, "positions": 512, **(size or {})}
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=s["d_model"],
        d_kv=s["d_model"] // s["heads"],
        d_ff=s["ffn"],
        num_layers=s["layers"],
        num_decoder_layers=s["layers"],
        num_heads=s["heads"],
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        n_positions=s["positions"],
        initializer_factor=2.0,
    )
    return _save(T5ForConditionalGeneration, config, tokenizer, folder, seed, torch)


def _save(cls: Any, config: Any, tokenizer: Any, folder: Path, seed: int, torch: Any) -> Path:
    torch.manual_seed(seed)
    model = cls(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

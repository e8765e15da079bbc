"""Tiny tokenizers and models built offline from configs, for tests and benchmarks.

The weights are random, so what a model writes is noise, but the shapes, tokens and files are
those of the real models, and the real loading code (``from_pretrained`` on a folder) runs:

- a chat model: a byte-level BPE tokenizer trained here, with a ChatML chat template carrying
  TRL's ``{% generation %}`` markers, and a Llama from a small config;
- a translation model of each family plugdata loads, its sentencepiece model trained on the
  given texts: Marian (OPUS-MT), M2M100, NLLB-200 (M2M100 weights, ``eng_Latn``-style codes)
  and MADLAD-400 (T5, ``<2xx>`` tags in the vocabulary).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plugdata.train.masking import TRAINING_TEMPLATE

CHATML = TRAINING_TEMPLATE  # ChatML with generation markers, as plugdata train uses
# The same without a system role (like Gemma's), and without generation markers.
NO_SYSTEM = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{{ raise_exception('System role not supported') }}"
    "{%- endif -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
NLLB_CODES = ["eng_Latn", "ita_Latn", "spa_Latn", "zho_Hans", "kor_Hang"]
MADLAD_TAGS = ["<2en>", "<2it>", "<2es>", "<2zh>", "<2ko>"]
# The translation models' default shape: width, layers, heads, feed-forward width, positions.
SHAPE = {"d_model": 32, "layers": 2, "heads": 2, "ffn": 64, "positions": 512}


def tiny_tokenizer(texts: Iterable[str], vocab_size: int = 600, chat_template: str = CHATML) -> Any:
    """A fast byte-level BPE tokenizer trained on ``texts`` with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = chat_template
    return fast


def tiny_llama(
    tokenizer: Any, hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0
) -> Any:
    """A randomly initialised Llama sized for CPU tests, matching ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


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
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    first = ["</s>", "<unk>", *tags]
    # <pad> last, as in OPUS-MT vocabularies
    vocab = _vocab_files(folder, texts, vocab_size, first, ["<pad>"], ("source.spm", "target.spm"))
    tokenizer = MarianTokenizer(
        str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json")
    )
    config = MarianConfig(
        vocab_size=len(vocab),
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=0,
        **_bart_sizes(size),
    )
    return _save(MarianMTModel, config, tokenizer, folder, seed)


def tiny_m2m100(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    size: dict[str, int] | None = None,
    seed: int = 0,
) -> Path:
    """An M2M100-shaped model with its 100 ``__xx__`` language tokens."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    first = ["<s>", "<pad>", "</s>", "<unk>"]
    _vocab_files(folder, texts, vocab_size, first, [], ("sentencepiece.bpe.model",))
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
        **_bart_sizes(size),
    )
    return _save(M2M100ForConditionalGeneration, config, tokenizer, folder, seed)


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
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    # unk, bos and eos first, as in fairseq's sentencepiece (the converters count on it)
    spm_path = train_spm(texts, folder / "_spm", vocab_size, model_type="bpe", ids=(-1, 1, 2, 0))
    settings = {
        "tokenizer_class": "NllbTokenizer",
        "src_lang": "eng_Latn",
        "additional_special_tokens": NLLB_CODES,
    }
    tokenizer = _from_files(folder, spm_path, "sentencepiece.bpe.model", settings)
    config = M2M100Config(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        **_bart_sizes(size),
    )
    return _save(M2M100ForConditionalGeneration, config, tokenizer, folder, seed)


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
    from transformers import T5Config, T5ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    spm_path = train_spm(texts, folder / "_spm", vocab_size, ids=(0, -1, 1, 2), symbols=MADLAD_TAGS)
    settings = {"tokenizer_class": "T5Tokenizer", "extra_ids": 0}
    tokenizer = _from_files(folder, spm_path, "spiece.model", settings)
    s = {**SHAPE, **(size or {})}
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
    return _save(T5ForConditionalGeneration, config, tokenizer, folder, seed)


def _vocab_files(
    folder: Path,
    texts: Iterable[str],
    vocab_size: int,
    first: list[str],
    last: list[str],
    spm_names: tuple[str, ...],
) -> dict[str, int]:
    """A sentencepiece model trained on ``texts``, saved under ``spm_names``, and the
    ``vocab.json`` beside it: the ``first`` tokens, every piece, then the ``last`` tokens."""
    import sentencepiece as spm

    spm_path = train_spm(texts, folder / "_spm", vocab_size)
    proc = spm.SentencePieceProcessor(model_file=str(spm_path))
    vocab = {token: i for i, token in enumerate(first)}
    for piece in (proc.id_to_piece(i) for i in range(proc.get_piece_size())):
        vocab.setdefault(piece, len(vocab))
    for token in last:
        vocab[token] = len(vocab)
    for name in spm_names:
        shutil.copy(spm_path, folder / name)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(folder / "_spm")
    return vocab


def _from_files(folder: Path, spm_path: Path, spm_name: str, settings: dict[str, Any]) -> Any:
    """The family's tokenizer loaded from a sentencepiece file and a tokenizer config, as
    ``from_pretrained`` reads a real model's folder (any transformers version converts it)."""
    from transformers import AutoTokenizer

    shutil.move(str(spm_path), folder / spm_name)
    shutil.rmtree(spm_path.parent)
    (folder / "tokenizer_config.json").write_text(json.dumps(settings), encoding="utf-8")
    return AutoTokenizer.from_pretrained(folder)


def _bart_sizes(size: dict[str, int] | None) -> dict[str, Any]:
    """Bart-style config sizes (Marian, M2M100) from :data:`SHAPE` updated by ``size``."""
    s = {**SHAPE, **(size or {})}
    return {
        "d_model": s["d_model"],
        "encoder_layers": s["layers"],
        "decoder_layers": s["layers"],
        "encoder_attention_heads": s["heads"],
        "decoder_attention_heads": s["heads"],
        "encoder_ffn_dim": s["ffn"],
        "decoder_ffn_dim": s["ffn"],
        "max_position_embeddings": s["positions"],
        "init_std": 0.2,
    }


def _save(cls: Any, config: Any, tokenizer: Any, folder: Path, seed: int) -> Path:
    """A ``cls`` model of ``config``, its weights drawn from ``seed``, saved in ``folder``
    with ``tokenizer``."""
    import torch

    torch.manual_seed(seed)
    cls(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

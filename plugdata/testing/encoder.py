"""A sentence-transformers encoder built offline from a config, for tests and benchmarks.

The tokenizer (WordPiece, as LaBSE's) is trained on the given texts and the BERT weights are
random, so what the model says about meaning is noise; but the folder is a real
sentence-transformers model (``modules.json``, a Transformer module, mean pooling, a
normalisation), loaded by the same code that loads LaBSE. ``labse_shaped`` sizes it like LaBSE
(12 layers of 768), which is what its speed depends on.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

TINY = {"hidden": 32, "layers": 2, "heads": 2, "intermediate": 64}
LABSE_SHAPE = {"hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_encoder(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 500,
    size: dict[str, int] | None = None,
    max_seq_length: int = 256,
    seed: int = 0,
) -> Path:
    """Write a sentence-transformers model to ``folder`` (its tokenizer trained on ``texts``,
    BERT sized by ``size``, default :data:`TINY`) and return the folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    shape = {**TINY, **(size or {})}
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS)
    tok.train_from_iterator([t for t in texts if t.strip()], trainer=trainer)
    tokenizer = BertTokenizerFast(tokenizer_object=tok, do_lower_case=False)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=shape["hidden"],
        num_hidden_layers=shape["layers"],
        num_attention_heads=shape["heads"],
        intermediate_size=shape["intermediate"],
        max_position_embeddings=max(512, max_seq_length),
    )
    base = folder / "_bert"
    BertModel(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    modules = _modules(base, shape["hidden"], max_seq_length)
    SentenceTransformer(modules=modules, device="cpu").save(str(folder))
    for path in sorted(base.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    base.rmdir()
    return folder


def _modules(base: Path, hidden: int, max_seq_length: int) -> list[object]:
    """Transformer, mean pooling and normalisation, from wherever this version keeps them."""
    try:
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
            Transformer,
        )
    except ImportError:  # sentence-transformers before 6
        from sentence_transformers.models import Normalize, Pooling, Transformer
    transformer = Transformer(str(base), max_seq_length=max_seq_length)
    return [transformer, Pooling(hidden, "mean"), Normalize()]

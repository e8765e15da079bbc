"""Tiny tokenizers and models built offline, for tests and benchmarks.

The tokenizer is trained here (byte-level BPE) and carries a ChatML chat template with TRL's
``{% generation %}`` markers; the model is a randomly initialised Llama from a small config.
"""

from __future__ import annotations

from collections.abc import Iterable
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

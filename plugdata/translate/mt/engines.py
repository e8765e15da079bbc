"""Run a translation model on a list of sentences: transformers ``generate`` or CTranslate2.

Both engines share the recipe: sentences are encoded with the target's prefix (and cut to the
model's position limit), sorted by length and cut into batches (halved on out-of-memory),
decoded greedily with a length budget taken from the input and capped at the position limit,
and any output that loops or hits the budget is decoded again with repetition guards. A
sentence that was cut, or whose output hit the budget, is marked ``length`` (the filters reject
it as ``truncated:length_limit``). Calls are blocking: run them on a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugdata.languages import Language
from plugdata.translate.mt.families import Target, nllb_code
from plugdata.translate.mt.load import ModelInfo
from plugdata.translate.mt.runtime import Runtime

# greedy; budget 2x+16 tokens within the position limit; loops retried with no-repeat-4,
# penalty 1.2; inputs cut at the position limit
RECIPE = "mt/v2"


@dataclass(frozen=True)
class Result:
    """One translated sentence and what it took."""

    text: str
    in_tokens: int
    out_tokens: int
    finish: str = "stop"  # "length": the input was cut, or the output hit its budget


def budget(n_in: int, limit: int | None = None) -> int:
    """Output tokens allowed for an input of ``n_in`` tokens (the library defaults cut), within
    a decoder of ``limit`` positions: its start token, a forced language token and one token
    past the budget take three of them."""
    wanted = 2 * n_in + 16
    return wanted if limit is None else max(1, min(wanted, limit - 3))


def fit(ids: list[int], limit: int) -> list[int]:
    """``ids`` cut to ``limit`` tokens, keeping the last (end-of-sentence) token."""
    return ids if len(ids) <= limit else [*ids[: limit - 1], ids[-1]]


def looping(ids: Sequence[int]) -> bool:
    """Whether ``ids`` ends in the same 1–4 token n-gram repeated over and over."""
    n = len(ids)
    for size in range(1, 5):
        reps = 8 if size == 1 else 4
        if n < size * reps:
            continue
        tail = list(ids[n - size :])
        if all(list(ids[n - size * (k + 1) : n - size * k]) == tail for k in range(reps)):
            return True
    return False


def _is_oom(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower()


class Engine:
    """What both engines share: encoding, batching, loop retries and decoding."""

    name = "engine"

    def __init__(
        self, info: ModelInfo, pivot: Language, runtime: Runtime, batch_size: int | None
    ) -> None:
        self.info, self.tokenizer, self.runtime = info, info.tokenizer, runtime
        self.device, self.limit = runtime.device, info.max_positions
        self.batch_size = batch_size or (128 if self.device == "cuda" else 32)
        if info.family == "m2m100":
            self.tokenizer.src_lang = pivot.code
        elif info.family == "nllb":
            self.tokenizer.src_lang = nllb_code(pivot)
        special = (
            self.tokenizer.pad_token_id,
            self.tokenizer.eos_token_id,
            self.tokenizer.bos_token_id,
        )
        self._skip = {i for i in special if i is not None}

    def translate(self, texts: Sequence[str], lang: str) -> list[Result]:
        """Translate sentences into ``lang`` (one of the model's checked targets)."""
        target = self.info.targets[lang]
        whole = [self.tokenizer(target.source_prefix + t)["input_ids"] for t in texts]
        encoded = [fit(ids, self.limit) for ids in whole]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        outputs: list[list[int]] = [[] for _ in texts]
        pos = 0
        while pos < len(order):
            chunk = order[pos : pos + self.batch_size]
            try:
                got = self._decode_batch([encoded[i] for i in chunk], target, careful=False)
            except (RuntimeError, MemoryError) as exc:
                if not _is_oom(exc) or self.batch_size == 1:
                    raise
                self.batch_size = max(1, self.batch_size // 2)
                self._free()
                continue
            for i, ids in zip(chunk, got, strict=True):
                outputs[i] = ids
            pos += len(chunk)
        cut = [len(a) > len(b) for a, b in zip(whole, encoded, strict=True)]
        return self._retry_loops(encoded, outputs, target, cut)

    def _retry_loops(
        self, encoded: list[list[int]], outputs: list[list[int]], target: Target, cut: list[bool]
    ) -> list[Result]:
        results: list[Result] = []
        redo = [
            i
            for i, out in enumerate(outputs)
            if looping(out) or len(out) >= budget(len(encoded[i]), self.limit)
        ]
        for start in range(0, len(redo), self.batch_size):
            chunk = redo[start : start + self.batch_size]
            for i, ids in zip(
                chunk,
                self._decode_batch([encoded[i] for i in chunk], target, careful=True),
                strict=True,
            ):
                outputs[i] = ids
        for ids_in, ids_out, was_cut in zip(encoded, outputs, cut, strict=True):
            capped = was_cut or len(ids_out) >= budget(len(ids_in), self.limit)
            text = self.tokenizer.decode(ids_out, skip_special_tokens=True).strip()
            results.append(Result(text, len(ids_in), len(ids_out), "length" if capped else "stop"))
        return results

    def _decode_batch(
        self, batch: list[list[int]], target: Target, careful: bool
    ) -> list[list[int]]:
        """Output ids per input, without the forced language token and special tokens."""
        forced = (
            self.tokenizer.convert_tokens_to_ids(target.forced_token)
            if target.forced_token
            else None
        )
        # One token past the budget: a forced end-of-sentence at the limit then falls outside it.
        raw = self._generate(
            batch, target, budget(max(len(b) for b in batch), self.limit) + 1, careful
        )
        out = []
        for source, ids in zip(batch, raw, strict=True):
            ids = list(ids)
            while ids and (ids[0] in self._skip or ids[0] == forced):
                ids.pop(0)
            # Greedy decoding is causal: cutting at the row's own budget gives the same
            # output whatever else shares the batch.
            out.append([i for i in ids if i not in self._skip][: budget(len(source), self.limit)])
        return out

    def _generate(
        self, batch: list[list[int]], target: Target, max_new: int, careful: bool
    ) -> list[list[int]]:
        raise NotImplementedError

    def _free(self) -> None:
        """Release cached device memory after an out-of-memory error."""

    def close(self) -> None:
        """Drop the model."""


class TransformersEngine(Engine):
    """Greedy ``generate`` with transformers, at the runtime's dtype (see :mod:`.runtime`)."""

    name = "transformers"

    def __init__(
        self, info: ModelInfo, pivot: Language, runtime: Runtime, batch_size: int | None = None
    ) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM

        super().__init__(info, pivot, runtime, batch_size)
        dtype = getattr(torch, runtime.precision)
        model = AutoModelForSeq2SeqLM.from_pretrained(info.path, dtype=dtype)
        self.model: Any = model.to(self.device).eval()
        self._torch = torch

    def _generate(
        self, batch: list[list[int]], target: Target, max_new: int, careful: bool
    ) -> list[list[int]]:
        torch = self._torch
        pad = self.tokenizer.pad_token_id
        width = max(len(b) for b in batch)
        ids = torch.tensor([b + [pad] * (width - len(b)) for b in batch], device=self.device)
        mask = torch.tensor(
            [[1] * len(b) + [0] * (width - len(b)) for b in batch], device=self.device
        )
        options: dict[str, Any] = {"max_new_tokens": max_new, "num_beams": 1, "do_sample": False}
        if target.forced_token:
            options["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(
                target.forced_token
            )
        if careful:
            options.update(no_repeat_ngram_size=4, repetition_penalty=1.2)
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, **options)
        return out.tolist()

    def _free(self) -> None:
        if self.device == "cuda":
            self._torch.cuda.empty_cache()

    def close(self) -> None:
        self.model = None
        self._free()


class CT2Engine(Engine):
    """CTranslate2 on a model converted once (int8 weights), at the runtime's compute type."""

    name = "ctranslate2"

    def __init__(
        self, info: ModelInfo, pivot: Language, runtime: Runtime, batch_size: int | None = None
    ) -> None:
        import ctranslate2

        from plugdata.translate.mt.convert import converted

        size = batch_size or (256 if runtime.device == "cuda" else 32)
        super().__init__(info, pivot, runtime, size)
        folder = converted(info)
        self.translator: Any = ctranslate2.Translator(
            str(folder), device=self.device, compute_type=runtime.precision
        )

    def _generate(
        self, batch: list[list[int]], target: Target, max_new: int, careful: bool
    ) -> list[list[int]]:
        tokens = [self.tokenizer.convert_ids_to_tokens(b) for b in batch]
        prefix = [[target.forced_token] for _ in batch] if target.forced_token else None
        results = self.translator.translate_batch(
            tokens,
            target_prefix=prefix,
            beam_size=1,
            max_input_length=0,
            max_decoding_length=max_new + (1 if prefix else 0),
            repetition_penalty=1.2 if careful else 1.0,
            no_repeat_ngram_size=4 if careful else 0,
        )
        return [self.tokenizer.convert_tokens_to_ids(r.hypotheses[0]) for r in results]

    def close(self) -> None:
        self.translator = None

"""`plugdata train` on the CPU: masks, packing isolation, loss, LoRA, resume, presets."""

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from plugdata import BuildConfig, build  # noqa: E402
from plugdata.errors import PlugdataError  # noqa: E402
from plugdata.sources import load_source  # noqa: E402
from plugdata.testing import FakeOpenAIServer  # noqa: E402
from plugdata.testing.tiny import NO_SYSTEM, tiny_llama, tiny_tokenizer  # noqa: E402
from plugdata.train import held_out, parse, prepare_tokenizer, run  # noqa: E402
from plugdata.train.masking import (  # noqa: E402
    IGNORE,
    TRAINING_TEMPLATE,
    encode,
    has_generation_markers,
)

CONVERSATION = [
    {"role": "system", "content": "Answer in English, then Chinese."},
    {"role": "user", "content": "Name a colour."},
    {"role": "assistant", "content": "English response: Red.\n\n中文回复：红色。"},
]
# The same ChatML layout with no generation markers: the offsets fallback must agree.
PLAIN_CHATML = TRAINING_TEMPLATE.replace("{% generation %}", "").replace("{% endgeneration %}", "")


@pytest.fixture(scope="module")
def tokenizer():
    rows = load_source("seed").rows
    return tiny_tokenizer(
        [r["instruction"] + "\n" + r["output"] for r in rows] + ["中文回复：红色。"]
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tokenizer) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny"
    tiny_llama(tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "run"
    with FakeOpenAIServer() as srv:
        build(
            BuildConfig(
                source="seed",
                targets="zh,ko",
                model="m",
                base_url=srv.url,
                out=str(out),
                limit=40,
                filters=[],
                formats="plug,mono",
            )
        )
    return out


def trained_text(tok, enc) -> str:
    return tok.decode(
        [t for t, label in zip(enc["input_ids"], enc["labels"], strict=True) if label != IGNORE]
    )


@pytest.mark.parametrize("template", ["markers", "plain"])
def test_labels_cover_exactly_the_assistant_turn_and_its_end(tokenizer, template):
    tok = tokenizer
    tok.chat_template = TRAINING_TEMPLATE if template == "markers" else PLAIN_CHATML
    assert has_generation_markers(tok) == (template == "markers")
    enc = encode(tok, CONVERSATION)
    assert trained_text(tok, enc) == CONVERSATION[2]["content"] + "<|im_end|>"
    header = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    start = next(i for i, label in enumerate(enc["labels"]) if label != IGNORE)
    assert enc["input_ids"][start - len(header) : start] == header  # the header is not trained
    tok.chat_template = TRAINING_TEMPLATE


def test_two_assistant_turns_and_a_template_without_system(tokenizer):
    tok = tokenizer
    tok.chat_template = NO_SYSTEM  # no markers, no system role
    chat = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
        {"role": "assistant", "content": "Goodbye."},
    ]
    enc = encode(tok, chat)
    assert trained_text(tok, enc) == "Hello.<|im_end|>Goodbye.<|im_end|>"
    tok.chat_template = TRAINING_TEMPLATE


def test_an_example_with_nothing_to_learn_fails_loudly(tokenizer):
    with pytest.raises(PlugdataError, match="no assistant tokens"):
        encode(tokenizer, CONVERSATION, max_length=8)


def test_pad_never_equals_eos(tokenizer):
    tok = tiny_tokenizer(["some text here"] * 3, vocab_size=300)
    tok.pad_token = tok.eos_token
    tok.chat_template = None
    added = prepare_tokenizer(tok)
    assert tok.pad_token_id != tok.eos_token_id and tok.chat_template == TRAINING_TEMPLATE
    assert added == ["<|pad|>"] or added == []


def test_packed_examples_do_not_attend_to_each_other(tokenizer):
    model = tiny_llama(tokenizer).eval()
    model.config._attn_implementation = "sdpa"
    a = torch.tensor([[5, 17, 23, 42, 99, 7]])
    b = torch.tensor([[11, 12, 13, 14]])
    with torch.no_grad():
        alone_a = model(input_ids=a, use_cache=False).logits
        alone_b = model(input_ids=b, use_cache=False).logits
        # as in training: no cache, no attention mask, position ids restarting per example
        packed = model(
            input_ids=torch.cat([a, b], dim=1),
            use_cache=False,
            position_ids=torch.tensor([[0, 1, 2, 3, 4, 5, 0, 1, 2, 3]]),
        ).logits
    assert torch.allclose(packed[:, :6], alone_a, atol=1e-5)
    assert torch.allclose(packed[:, 6:], alone_b, atol=1e-5)


def test_ids_are_held_out_alike_in_every_format():
    ids = [f"{i:016x}" for i in range(2000)]
    held = [held_out(i, 0.05) for i in ids]
    assert 40 < sum(held) < 160
    assert held == [held_out(i + ":mono", 0.05) for i in ids]


def test_presets_fill_what_flags_do_not_set():
    args = parse(
        ["--data", "d", "--model", "m", "--out", "o", "--preset", "plug-paper", "--lr", "1e-5"]
    )
    assert (args.lr, args.epochs, args.max_length, args.global_batch, args.lora) == (
        1e-5,
        4.0,
        4096,
        64,
        False,
    )
    args = parse(["--data", "d", "--model", "m", "--out", "o", "--preset", "lora"])
    assert args.lora and args.lr == 2e-4
    with pytest.raises(PlugdataError, match="unknown --preset"):
        parse(["--data", "d", "--model", "m", "--out", "o", "--preset", "magic"])


def _log(out: Path) -> list[dict]:
    state = (
        sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[-1]
        / "trainer_state.json"
    )
    return json.loads(state.read_text())["log_history"]


def test_training_lowers_the_loss_then_resumes(run_dir, model_dir, tmp_path, capsys):
    out = tmp_path / "sft"
    common = [
        "--data",
        str(run_dir),
        "--format",
        "plug",
        "--langs",
        "zh,ko",
        "--model",
        str(model_dir),
        "--out",
        str(out),
        "--lr",
        "3e-3",
        "--batch-size",
        "4",
        "--max-length",
        "512",
        "--logging-steps",
        "1",
        "--save-steps",
        "6",
        "--eval-fraction",
        "0.1",
        "--seed",
        "1",
    ]
    final = run(parse([*common, "--max-steps", "12"]))
    printed = capsys.readouterr().out
    assert "⟦" in printed and "中文回复：" in printed  # the example with trained spans marked
    losses = [e["loss"] for e in _log(out) if "loss" in e]
    assert len(losses) == 12 and sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    assert (out / "checkpoint-12").is_dir() and (final / "config.json").is_file()
    assert (final / "tokenizer_config.json").is_file()
    recipe = json.loads((out / "plugdata_train.json").read_text())  # what plugdata eval reads
    assert recipe["format"] == "plug" and Path(recipe["data"]).is_dir()
    # throughput after the warm-up steps only, over a recent window of steps
    windows = [e for e in _log(out) if "window_tokens_per_second" in e]
    assert windows and all(e["step"] > 3 and e["window_tokens_per_second"] > 0 for e in windows)
    assert "Warm-up: the first 3 step(s) took" in printed
    run(parse([*common, "--max-steps", "14", "--resume"]))
    printed = capsys.readouterr().out
    assert f"Resuming from {out / 'checkpoint-12'} (step 12)" in printed
    steps = [e["step"] for e in _log(out) if "loss" in e]
    assert steps[-2:] == [13, 14] and steps.count(12) == 1  # continued, not restarted
    assert (out / "checkpoint-14").is_dir()


def test_lora_trains_an_adapter(run_dir, model_dir, tmp_path):
    out = tmp_path / "lora"
    final = run(
        parse(
            [
                "--data",
                str(run_dir),
                "--langs",
                "zh",
                "--model",
                str(model_dir),
                "--out",
                str(out),
                "--lora",
                "--lora-r",
                "4",
                "--max-steps",
                "2",
                "--batch-size",
                "2",
                "--max-length",
                "512",
                "--logging-steps",
                "1",
            ]
        )
    )
    assert (final / "adapter_config.json").is_file() and (out / "checkpoint-2").is_dir()


def test_train_command_errors_are_clear(tmp_path, model_dir):
    from .conftest import run_cli

    result = run_cli(
        "train",
        "--data",
        str(tmp_path),
        "--model",
        str(model_dir),
        "--out",
        str(tmp_path / "o"),
        "--langs",
        "zh",
        "--max-steps",
        "1",
    )
    assert result.returncode == 2 and "cannot load 'plug-zh'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_fast_path_compiles_layers_in_place_with_one_batch_shape(tokenizer, tmp_path):
    from plugdata.train.trainer import compile_layers, sft_config

    model = tiny_llama(tokenizer)
    keys = set(model.state_dict())
    assert compile_layers(model) == model.config.num_hidden_layers
    assert set(model.state_dict()) == keys  # checkpoints keep their names (no _orig_mod.)
    args = parse(
        [
            "--data",
            "d",
            "--model",
            "m",
            "--out",
            str(tmp_path),
            "--batch-size",
            "3",
            "--max-length",
            "256",
        ]
    )
    assert sft_config(args, False, False, fixed=True).pad_to_multiple_of == 3 * 256
    assert sft_config(args, False, False, fixed=False).pad_to_multiple_of is None

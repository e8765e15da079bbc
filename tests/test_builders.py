"""Chat templates, the run directory as a Hub dataset, the card, the chart, and the push."""

import json
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard, HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from plugdata import BuildConfig, build
from plugdata.formats.templates import ZWSP, ChatRenderer
from plugdata.publish import push_run
from plugdata.sources import load_source
from plugdata.testing.tiny import NO_SYSTEM, tiny_tokenizer

from .conftest import run_cli

FORMATS = "plug,plug-target-first,mono,pivot-only,code-switch,multilingual"


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    rows = load_source("seed").rows
    tok = tiny_tokenizer([r["instruction"] + "\n" + r["output"] for r in rows])
    path = tmp_path_factory.mktemp("tok") / "tiny"
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tokenizer_dir) -> Path:
    from plugdata.testing import FakeOpenAIServer

    out = tmp_path_factory.mktemp("runs") / "seed-run"
    with FakeOpenAIServer() as srv:
        build(
            BuildConfig(
                source="seed",
                targets="zh,ko",
                model="m",
                base_url=srv.url,
                out=str(out),
                formats=FORMATS,
                chat_template=str(tokenizer_dir),
                max_row_tokens=1500,
                filters=[],
            )
        )
    return out


def test_every_format_and_language_loads_with_load_dataset(run_dir):
    for fmt in FORMATS.split(","):
        for lang in ("zh", "ko"):
            ds = datasets.load_dataset(str(run_dir), f"{fmt}-{lang}", split="train")
            assert ds.num_rows > 0 and {"id", "messages", "text", "num_tokens"} <= set(
                ds.column_names
            )
    pairs = datasets.load_dataset(str(run_dir), "pairs", split="train")
    assert pairs.num_rows == 2 * 71 and "target_output" in pairs.column_names
    plug = datasets.load_dataset(str(run_dir), "plug-zh", split="train")
    mono = datasets.load_dataset(str(run_dir), "mono-zh", split="train")
    assert plug["id"] == mono["id"]  # aligned across formats


def test_rendered_text_and_token_counts(run_dir, tokenizer_dir):
    stats = json.loads((run_dir / "stats.json").read_text())
    rows = datasets.load_dataset(str(run_dir), "plug-zh", split="train")
    row = rows[0]
    assert row["text"].startswith("<|im_start|>system\n")
    assert row["text"].endswith("<|im_end|>\n")
    assert all(r <= 1500 for r in rows["num_tokens"])
    dropped = stats["dropped_too_long"]["plug"]["zh"]
    assert dropped >= 1 and rows.num_rows + dropped == 71  # the 584-word guide is too long
    t = stats["tokens"]["plug"]["zh"]
    assert t["rows"] == rows.num_rows and t["max"] <= 1500 and t["mean"] <= t["p95"] <= t["max"]
    # the record about "<|im_end|>" keeps the text but not the control token
    texts = [r for r in rows["text"] if "im_end|> is used" in r or "im_end|>` is" in r]
    assert texts and all(f"<{ZWSP}|im_end|>" in r for r in texts)


def test_special_tokens_in_text_never_become_control_tokens(tokenizer_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    renderer = ChatRenderer(tok)
    (row,), _ = renderer.render(
        [
            {
                "messages": [
                    {"role": "user", "content": "say <|im_end|> and <|im_start|>system"},
                    {"role": "assistant", "content": "ok"},
                ]
            }
        ]
    )
    ids = tok(row["text"], add_special_tokens=False)["input_ids"]
    assert ids.count(tok.convert_tokens_to_ids("<|im_end|>")) == 2  # the two real turn ends
    assert ids.count(tok.convert_tokens_to_ids("<|im_start|>")) == 2


def test_templates_without_a_system_role_fold_it_into_the_user_turn(tokenizer_dir):
    tok = tiny_tokenizer(["hello world"] * 5, vocab_size=300, chat_template=NO_SYSTEM)
    renderer = ChatRenderer(tok)
    assert not renderer.supports_system
    (row,), _ = renderer.render(
        [
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Yo"},
                ]
            }
        ]
    )
    assert row["messages"][0] == {"role": "user", "content": "Be brief.\n\nHi"}
    assert row["text"].startswith("<|im_start|>user\nBe brief.")


def test_card_metadata_and_body(run_dir):
    card = DatasetCard.load(run_dir / "README.md")
    meta = card.data.to_dict()
    assert meta["license"] == "apache-2.0" and meta["language"] == ["en", "zh", "ko"]
    assert set(meta["tags"]) >= {"synthetic", "plug", "multilingual", "translation"}
    assert meta["size_categories"] == ["n<1K"] and meta["task_categories"] == ["text-generation"]
    names = [c["config_name"] for c in meta["configs"]]
    assert "plug-zh" in names and "multilingual-ko" in names and "pairs" in names
    body = card.text
    for heading in (
        "## What PLUG is",
        "### Example: `plug-zh`",
        "## How it was built",
        "## Rejection funnel",
        "## Token statistics",
        "## Citation",
        "## Licence",
    ):
        assert heading in body
    assert "Zhang, Zhihan" in body and "funnel.png" in body
    assert (run_dir / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_push_dry_run_lists_files_without_the_cache(run_dir):
    result = run_cli("push", str(run_dir), "--repo", "me/plug-seed", "--dry-run")
    assert result.returncode == 0, result.stderr
    listed = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert "README.md" in listed and "funnel.png" in listed and "plug/zh.parquet" in listed
    assert "cache.sqlite" not in listed and "config.yaml" in listed


def test_push_makes_one_commit_with_exactly_the_run_files(run_dir, monkeypatch):
    calls: list[tuple[str, tuple, dict]] = []

    class Info:
        commit_url = "https://huggingface.co/datasets/me/plug-seed/commit/abc"

    def repo_info(self, repo_id, **kwargs):  # no such repo until create_repo made it
        if not any(name == "create_repo" for name, _, _ in calls):
            raise RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # no HTTP response here
        return type("Info", (), {"private": True})()

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", (repo_id,), kwargs))

    def create_commit(self, repo_id, operations, **kwargs):
        ops = sorted(op.path_in_repo for op in operations)
        calls.append(("create_commit", (repo_id, ops), kwargs))
        return Info()

    monkeypatch.setattr(HfApi, "repo_info", repo_info)
    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")
    result = push_run(run_dir, "me/plug-seed", private=True)
    expected = sorted(
        p.relative_to(run_dir).as_posix()
        for p in run_dir.rglob("*")
        if p.is_file() and p.name != "cache.sqlite"
    )
    assert calls == [
        (
            "create_repo",
            ("me/plug-seed",),
            {"repo_type": "dataset", "private": True, "exist_ok": True},
        ),
        (
            "create_commit",
            ("me/plug-seed", expected),
            {"commit_message": "Upload plugdata run seed-run", "repo_type": "dataset"},
        ),
    ]
    assert result.commit_url.endswith("/commit/abc")
    for path in run_dir.rglob("*"):  # the token is never written anywhere
        if path.is_file():
            assert b"hf_test_token_not_real" not in path.read_bytes()


def test_push_rejects_a_bad_repo_id_and_a_non_run(tmp_path, run_dir):
    assert "OWNER/NAME" in run_cli("push", str(run_dir), "--repo", "nope").stderr
    assert "not a plugdata run" in run_cli("push", str(tmp_path), "--repo", "a/b").stderr


def test_chat_template_errors_are_clear_and_early(server, tmp_path, jsonl_file):
    result = run_cli(
        "build",
        "--source",
        str(jsonl_file),
        "--targets",
        "zh",
        "--model",
        "m",
        "--base-url",
        server.url,
        "--out",
        str(tmp_path / "run"),
        "--chat-template",
        str(tmp_path / "nowhere"),
    )
    assert result.returncode == 2 and "cannot load a tokenizer" in result.stderr
    assert server.requests == []
    result = run_cli(
        "build",
        "--source",
        str(jsonl_file),
        "--targets",
        "zh",
        "--model",
        "m",
        "--base-url",
        server.url,
        "--max-row-tokens",
        "100",
    )
    assert result.returncode == 2 and "--max-row-tokens: needs chat_template" in result.stderr


def test_sft_trainer_trains_on_the_plug_set_with_assistant_only_loss(
    run_dir, tokenizer_dir, tmp_path
):
    pytest.importorskip("trl")
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from plugdata.testing.tiny import tiny_llama

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    dataset = datasets.load_dataset(str(run_dir), "plug-zh", split="train").select_columns(
        ["messages"]
    )
    args = SFTConfig(
        output_dir=str(tmp_path / "sft"),
        max_steps=4,
        per_device_train_batch_size=4,
        learning_rate=5e-3,
        assistant_only_loss=True,
        max_length=512,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
    )
    trainer = SFTTrainer(
        model=tiny_llama(tok), args=args, train_dataset=dataset, processing_class=tok
    )
    batch = trainer.data_collator([trainer.train_dataset[0]])
    labels, ids = batch["labels"][0], batch["input_ids"][0]
    trained = tok.decode(ids[labels != -100])
    assert "中文回复：" in trained and "<|im_start|>user" not in trained
    result = trainer.train()
    assert result.training_loss > 0

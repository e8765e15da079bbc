"""The keyless default before anything is downloaded: the dry run's table of models, and the
one line that says how to get the models onto a machine without internet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from plugdata import estimate
from plugdata.errors import PlugdataError
from plugdata.testing.tiny import tiny_m2m100, tiny_marian
from plugdata.translate.mt import mt_translator
from plugdata.translate.mt.defaults import CHECKED
from plugdata.translate.mt.preview import hub_size
from tests.conftest import run_cli

SEED = Path(__file__).resolve().parents[1] / "corpora" / "seed" / "seed.jsonl"
TEXTS = [
    v
    for line in SEED.read_text(encoding="utf-8").splitlines()
    for k, v in json.loads(line).items()
    if k in ("instruction", "input", "output") and v
]
DEFAULTS = {
    "zh": "facebook/m2m100_1.2B",
    "ko": "facebook/m2m100_1.2B",
    "it": "Helsinki-NLP/opus-mt-tc-big-en-it",
    "es": "Helsinki-NLP/opus-mt-tc-big-en-es",
}


@pytest.fixture(autouse=True)
def _ct2_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGDATA_CACHE", str(tmp_path / "plugdata-cache"))


def test_keyless_dry_run_names_every_model_licence_and_size(tmp_path):
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "zh,ko,it,es",
        "--limit",
        "6",
        "--dry-run",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    table = result.stdout
    for lang, model in DEFAULTS.items():
        row = next(line for line in table.splitlines() if f" {lang} " in line and model in line)
        licence = "MIT" if "m2m100" in model else "CC-BY-4.0"
        assert licence in row and "unknown" in row and " no " in row  # size unknown: Hub offline
        assert "ctranslate2, cpu, int8" in row
    assert "prompt" not in table and "cost" not in table.lower()
    assert "zh, ko: facebook/m2m100_1.2B (MIT), default because" in table
    assert not list(tmp_path.iterdir())  # nothing written, nothing downloaded
    plan = estimate({"source": "seed", "targets": "zh,ko,it,es", "limit": 6})
    assert plan["translator"] == "mt" and plan["records"] == 6
    assert [m["model"] for m in plan["models"]] == list(dict.fromkeys(DEFAULTS.values()))
    assert all(m["download_bytes"] is None and not m["cached"] for m in plan["models"])
    assert all(
        row["sentences"] > 0 and row["input_tokens"] > 0 and row["seconds"] is None
        for row in plan["languages"].values()
    )


def test_dry_run_of_a_model_that_is_here_counts_its_tokens_and_measures_time(tmp_path):
    folder = tiny_marian(tmp_path / "marian", TEXTS)
    plan = estimate({"source": "seed", "targets": "it", "model": str(folder), "limit": 6})
    (model,) = plan["models"]
    on_disk = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    assert (
        model["cached"] and 0 < model["download_bytes"] <= on_disk and model["tokens"] == "counted"
    )
    row = plan["languages"]["it"]
    assert row["seconds"] is not None and row["seconds"] > 0
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "it",
        "--model",
        str(folder),
        "--limit",
        "6",
        "--dry-run",
    )
    assert result.returncode == 0 and " yes " in result.stdout and "~" in result.stdout


def test_download_size_counts_only_what_a_build_fetches(monkeypatch):
    import huggingface_hub

    files = {
        "config.json": 909,
        "pytorch_model.bin": 4_960_000_000,
        "rust_model.ot": 4_960_000_000,
        "sentencepiece.bpe.model": 2_420_000,
        "vocab.json": 3_710_000,
        "README.md": 4_600,
        "tokenizer_config.json": 271,
        "special_tokens_map.json": 1_140,
        "generation_config.json": 233,
    }
    siblings = [SimpleNamespace(rfilename=name, size=size) for name, size in files.items()]
    monkeypatch.setattr(
        huggingface_hub.HfApi,
        "model_info",
        lambda self, name, **kw: SimpleNamespace(siblings=siblings),
    )
    assert set(CHECKED["facebook/m2m100_1.2B"].files) <= set(files)
    assert hub_size("facebook/m2m100_1.2B") == sum(files.values()) - files["rust_model.ot"]
    # An unchecked model: configs, tokenizers, and the .bin only when there is no safetensors.
    assert hub_size("someone/m2m100-finetune") == sum(files.values()) - files["rust_model.ot"]
    siblings.append(SimpleNamespace(rfilename="model.safetensors", size=4_960_000_000))
    assert (
        hub_size("someone/m2m100-finetune")
        == sum(files.values()) - 2 * 4_960_000_000 + 4_960_000_000
    )


def test_offline_failure_names_the_way_out_and_the_way_works(tmp_path, monkeypatch):
    with pytest.raises(PlugdataError) as caught:
        mt_translator(None, targets=["zh", "ko", "it"])
    line = str(caught.value)
    assert "\n" not in line and "not reachable" in line
    m2m = CHECKED["facebook/m2m100_1.2B"]
    assert (
        f"`hf download facebook/m2m100_1.2B {' '.join(m2m.files)} --local-dir models/m2m100_1.2B`"
        in line
    )
    assert "rust_model.ot" not in line and "hf download Helsinki-NLP/opus-mt-tc-big-en-it" in line
    spec = "zh=models/m2m100_1.2B,ko=models/m2m100_1.2B,it=models/opus-mt-tc-big-en-it"
    assert f"--model {spec} " in line
    # Folders where the line says (tiny stand-ins here) and its --model value make a build run.
    tiny_m2m100(tmp_path / "models" / "m2m100_1.2B", TEXTS)
    shutil.copytree(
        tiny_marian(tmp_path / "marian", TEXTS), tmp_path / "models" / "opus-mt-tc-big-en-it"
    )
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "zh,ko,it",
        "--model",
        spec,
        "--limit",
        "2",
        "--no-filter",
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "pairs.parquet").is_file()

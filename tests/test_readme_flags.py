"""Every flag the README names belongs to a command, and reaches that command's config or call
through the command line (the parsing layer, in process: the work itself is stood in for)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from plugdata.cli import app
from plugdata.train import parse
from plugdata.train.args import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FLAGS = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", README))
# Flags the README gives to other programs: the bundled test server, accelerate, benchmarks.
ELSEWHERE = {
    "--port": "plugdata/testing/serve.py",
    "--judge": "plugdata/testing/serve.py",
    "--batch-delay": "plugdata/testing/serve.py",
    "--batch-errors": "plugdata/testing/serve.py",
    "--batch-expire": "plugdata/testing/serve.py",
    "--gpu-tokens-s": "bench/ray_build.py",
    "--instructions": "bench/calibrate_filters.py",
    "--config": "README.md (--config_file)",
    "--num": "README.md (--num_processes)",
    "--help": "every command",
    "--batch-token-limit": "plugdata/testing/serve.py",
    "--only": "bench/batch.py",
    "--fresh-outputs": "bench/filters.py",
    "--repeat": "bench/filters.py",
    "--use-onnx": "bench/calibrate_adequacy.py",
    "--write": "bench/derive_neighbours.py",
    # vllm serve's own flags (passed through --vllm-args), pip's, uv's and hf download's
    "--enable-prefix-caching": "README.md (vllm serve)",
    "--max-num-seqs": "README.md (vllm)",
    "--gpu-memory-utilization": "README.md (vllm)",
    "--max-model-len": "README.md (vllm)",
    "--index-url": "README.md (pip)",
    "--resolution": ".ci/lowest (uv)",
    "--local-dir": "README.md (hf download)",
}


class Called(Exception):
    """Raised by the stand-ins: what the command line passed on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("called")
        self.args_, self.kwargs = args, kwargs


def _stand_in(*args: Any, **kwargs: Any) -> Any:
    raise Called(*args, **kwargs)


def _options() -> dict[str, set[str]]:
    """Every command's long options (``eval judge`` for sub-commands; train's own parser)."""
    found: dict[str, set[str]] = {}

    def collect(name: str, command: Any) -> None:
        if hasattr(command, "commands"):
            for sub, child in command.commands.items():
                collect(f"{name} {sub}".strip(), child)
            return
        found[name] = {
            o
            for p in command.params
            for o in [*p.opts, *getattr(p, "secondary_opts", [])]
            if o.startswith("--")
        }

    collect("", typer.main.get_command(app))
    found["train"] = {
        o for a in build_parser()._actions for o in a.option_strings if o.startswith("--")
    }
    return found


def test_every_flag_in_the_readme_belongs_to_a_command():
    options = set().union(*_options().values())
    unknown = sorted(f for f in FLAGS if f not in options and f not in ELSEWHERE)
    assert not unknown, f"the README names flags no command has: {unknown}"
    for flag, where in ELSEWHERE.items():
        path = ROOT / where.split(" ")[0]
        if flag in FLAGS and path.suffix == ".py":
            assert flag in path.read_text(encoding="utf-8"), (flag, where)


BASE = ["build", "--source", "seed", "--targets", "zh", "--model", "m"]
BATCH = ["--batch-api"]
# README flag of `plugdata build` -> (more arguments, the config field, the value it must get)
BUILD: dict[str, tuple[list[str], str, Any]] = {
    "--api-key": (["--api-key", "sk-test"], "api_key", "sk-test"),
    "--backoff": (["--backoff", "0.5"], "backoff", 0.5),
    "--base-url": (["--base-url", "http://127.0.0.1:9/v1"], "base_url", "http://127.0.0.1:9/v1"),
    "--batch-api": (BATCH, "batch_api", True),
    "--batch-detach": ([*BATCH, "--batch-detach"], "batch_detach", True),
    "--batch-fallback": ([*BATCH, "--batch-fallback", "live"], "batch_fallback", "live"),
    "--batch-inflight": ([*BATCH, "--batch-inflight", "500"], "batch_inflight", 500),
    "--batch-max-requests": ([*BATCH, "--batch-max-requests", "100"], "batch_max_requests", 100),
    "--batch-poll": ([*BATCH, "--batch-poll", "2"], "batch_poll", 2.0),
    "--chat-template": (["--chat-template", "models/tok"], "chat_template", "models/tok"),
    "--chunk-size": (["--chunk-size", "64"], "chunk_size", 64),
    "--columns": (
        ["--columns", "instruction=q,output=a"],
        "columns",
        {"instruction": "q", "output": "a"},
    ),
    "--concurrency": (["--concurrency", "8"], "concurrency", 8),
    "--data-parallel": (["--data-parallel", "2"], "data_parallel", 2),
    "--executor": (["--executor", "ray"], "executor", "ray"),
    "--file-format": (["--file-format", "jsonl"], "file_format", "jsonl"),
    "--filters": (["--filters", "langid,structure"], "filters", ["langid", "structure"]),
    "--formats": (["--formats", "plug,mono"], "formats", ["plug", "mono"]),
    "--generate": (["--generate", "pivot"], "generate", "pivot"),
    "--generator-model": (
        ["--generate", "pivot", "--generator-model", "g"],
        "generator_model",
        "g",
    ),
    "--lid-backend": (["--lid-backend", "langdetect"], "lid_backend", "langdetect"),
    "--limit": (["--limit", "10"], "limit", 10),
    "--log-interval": (["--log-interval", "5"], "log_interval", 5.0),
    "--max-attempts": (["--max-attempts", "3"], "max_attempts", 3),
    "--max-cost": (["--max-cost", "40"], "max_cost", 40.0),
    "--max-row-tokens": (
        ["--chat-template", "t", "--max-row-tokens", "2048"],
        "max_row_tokens",
        2048,
    ),
    "--model": (["--model", "gpt-4o-mini"], "model", "gpt-4o-mini"),
    "--mt-batch-size": (["--mt-batch-size", "32"], "mt_batch_size", 32),
    "--mt-device": (["--mt-device", "cpu"], "mt_device", "cpu"),
    "--mt-engine": (["--mt-engine", "transformers"], "mt_engine", "transformers"),
    "--no-filter": (["--no-filter"], "filters", []),
    "--no-system": (["--no-system"], "no_system", True),
    "--out": (["--out", "corpora/x"], "out", Path("corpora/x")),
    "--overwrite": (["--overwrite"], "overwrite", True),
    "--pivot": (["--pivot", "es"], "pivot", "es"),
    "--price-in": (["--price-in", "0.15"], "price_in", 0.15),
    "--price-out": (["--price-out", "0.6"], "price_out", 0.6),
    "--private": (["--private"], "private", True),
    "--prompt": (["--prompt", "my-prompt.yaml"], "prompt", "my-prompt.yaml"),
    "--push-to-hub": (["--push-to-hub", "me/set"], "push_to_hub", "me/set"),
    "--ray-actors": (["--ray-actors", "4"], "ray_actors", 4),
    "--ray-address": (["--ray-address", "ray://head:10001"], "ray_address", "ray://head:10001"),
    "--rpm": (["--rpm", "5000"], "rpm", 5000.0),
    "--seed": (["--seed", "3"], "seed", 3),
    "--source": (["--source", "alpaca"], "source", "alpaca"),
    "--split": (["--split", "validation"], "split", "validation"),
    "--system-prompt": (["--system-prompt", "Be brief."], "system_prompt", "Be brief."),
    "--targets": (["--targets", "zh,ko"], "targets", ["zh", "ko"]),
    "--tensor-parallel": (["--tensor-parallel", "2"], "tensor_parallel", 2),
    "--thresholds": (
        ["--thresholds", "lid_min_prob=0.5,length_ratio_high=3"],
        "thresholds",
        {"lid_min_prob": 0.5, "length_ratio_high": 3.0},
    ),
    "--tpm": (["--tpm", "100000"], "tpm", 100000.0),
    "--translator": (["--translator", "vllm"], "translator", "vllm"),
    "--adequacy-model": (
        ["--filters", "+adequacy", "--adequacy-model", "m/e"],
        "adequacy_model",
        "m/e",
    ),
    "--batch-max-tokens": (
        [*BATCH, "--batch-max-tokens", "2000000"],
        "batch_max_tokens",
        2_000_000,
    ),
    "--batch-output-expiry": (
        [*BATCH, "--batch-output-expiry", "86400"],
        "batch_output_expiry",
        86400,
    ),
    "--change-visibility": (
        ["--push-to-hub", "me/set", "--public", "--change-visibility"],
        "change_visibility",
        True,
    ),
    "--public": (["--push-to-hub", "me/set", "--public"], "private", False),
    "--mt-allow-broken": (["--translator", "mt", "--mt-allow-broken"], "mt_allow_broken", True),
    "--vllm-args": (
        ["--translator", "vllm", "--vllm-args", "--max-num-seqs 8"],
        "vllm_args",
        "--max-num-seqs 8",
    ),
    "--vllm-gpu-memory": (
        ["--translator", "vllm", "--vllm-gpu-memory", "0.8"],
        "vllm_gpu_memory",
        0.8,
    ),
    "--vllm-max-model-len": (
        ["--translator", "vllm", "--vllm-max-model-len", "8192"],
        "vllm_max_model_len",
        8192,
    ),
}


def test_every_build_flag_in_the_readme_is_checked_here():
    build = _options()["build"]
    untested = sorted(
        f for f in FLAGS & build if f not in BUILD and f != "--dry-run" and f != "--help"
    )
    assert not untested, f"README build flags without a case here: {untested}"


@pytest.mark.parametrize("flag", sorted(BUILD))
def test_a_build_flag_reaches_the_config(flag, monkeypatch):
    monkeypatch.setattr("plugdata.pipeline.build", _stand_in)
    extra, field, expected = BUILD[flag]
    result = CliRunner().invoke(app, [*BASE, *extra], standalone_mode=False)
    assert isinstance(result.exception, Called), (result.output, result.exception)
    assert getattr(result.exception.args_[0], field) == expected


def test_dry_run_estimates_and_builds_nothing(monkeypatch):
    monkeypatch.setattr("plugdata.pipeline.build", _stand_in)
    monkeypatch.setattr("plugdata.pipeline.estimate", lambda config: _stand_in(config, dry=True))
    result = CliRunner().invoke(app, [*BASE, "--dry-run"], standalone_mode=False)
    assert isinstance(result.exception, Called) and result.exception.kwargs == {"dry": True}


# README flag of `plugdata train` -> (arguments, the TrainArgs field, the value)
TRAIN: dict[str, tuple[list[str], str, Any]] = {
    "--batch-size": (["--batch-size", "8"], "batch_size", 8),
    "--compile": (["--compile"], "compile", True),
    "--no-compile": (["--no-compile"], "compile", False),
    "--data": ([], "data", "corpora/run"),
    "--epochs": (["--epochs", "2"], "epochs", 2.0),
    "--eval-fraction": (["--eval-fraction", "0.05"], "eval_fraction", 0.05),
    "--format": (["--format", "mono"], "format", "mono"),
    "--global-batch": (["--global-batch", "64"], "global_batch", 64),
    "--grad-accum": (["--grad-accum", "4"], "grad_accum", 4),
    "--gradient-checkpointing": (["--gradient-checkpointing"], "gradient_checkpointing", True),
    "--langs": (["--langs", "zh,ko"], "langs", "zh,ko"),
    "--lora": (["--lora"], "lora", True),
    "--lr": (["--lr", "1e-4"], "lr", 1e-4),
    "--max-length": (["--max-length", "1024"], "max_length", 1024),
    "--max-steps": (["--max-steps", "5"], "max_steps", 5),
    "--merge": (["--merge"], "merge", True),
    "--model": ([], "model", "m"),
    "--no-packing": (["--no-packing"], "packing", False),
    "--out": ([], "out", "runs/x"),
    "--preset": (["--preset", "lora"], "lora", True),
    "--qlora": (["--qlora"], "qlora", True),
    "--report-to": (["--report-to", "tensorboard"], "report_to", "tensorboard"),
    "--resume": (["--resume"], "resume", True),
    "--save-steps": (["--save-steps", "50"], "save_steps", 50),
    "--scheduler": (["--scheduler", "linear"], "scheduler", "linear"),
    "--seed": (["--seed", "7"], "seed", 7),
    "--warmup-ratio": (["--warmup-ratio", "0.1"], "warmup_ratio", 0.1),
}


def test_every_train_flag_in_the_readme_is_checked_here():
    train = _options()["train"]
    untested = sorted(f for f in FLAGS & train if f not in TRAIN and f != "--help")
    assert not untested, f"README train flags without a case here: {untested}"


@pytest.mark.parametrize("flag", sorted(TRAIN))
def test_a_train_flag_reaches_its_option(flag, monkeypatch):
    import plugdata.train as train

    monkeypatch.setattr(train, "run", _stand_in)
    extra, field, expected = TRAIN[flag]
    args = [
        "train",
        "--data",
        "corpora/run",
        "--model",
        "m",
        "--out",
        "runs/x",
        "--langs",
        "zh",
        *extra,
    ]
    result = CliRunner().invoke(app, args, standalone_mode=False)
    assert isinstance(result.exception, Called), (result.output, result.exception)
    assert getattr(result.exception.args_[0], field) == expected
    assert getattr(parse(args[1:]), field) == expected


# README flags of the other commands -> (command line, the function it calls, keyword, value)
GEN, ANSWER = ["eval", "generate", "m", "--out", "a"], "plugdata.eval.generate.generate_answers"
JUDGE, FOLDERS = (
    ["eval", "judge", "a", "b", "--judge-model", "j", "--out", "o"],
    "plugdata.eval.compare.judge_folders",
)
OTHERS: dict[str, tuple[list[str], str, str, Any]] = {
    "eval generate --engine": ([*GEN, "--engine", "vllm"], ANSWER, "engine", "vllm"),
    "eval generate --benchmark": ([*GEN, "--benchmark", "xae"], ANSWER, "benchmark", "xae"),
    "eval generate --lid-threshold": ([*GEN, "--lid-threshold", "0.7"], ANSWER, "threshold", 0.7),
    "eval generate --max-new-tokens": (
        [*GEN, "--max-new-tokens", "24"],
        ANSWER,
        "max_new_tokens",
        24,
    ),
    "eval generate --batch-size": ([*GEN, "--batch-size", "2"], ANSWER, "batch_size", 2),
    "eval generate --limit": ([*GEN, "--limit", "5"], ANSWER, "limit", 5),
    "eval judge --intersect": ([*JUDGE, "--intersect"], FOLDERS, "intersect", True),
    "eval judge --max-asks": ([*JUDGE, "--max-asks", "5"], FOLDERS, "max_asks", 5),
    "eval judge --wrong-language": (
        [*JUDGE, "--wrong-language", "loss"],
        FOLDERS,
        "wrong_language",
        "loss",
    ),
    "eval judge --prompt": ([*JUDGE, "--prompt", "p.yaml"], FOLDERS, "prompt", "p.yaml"),
    "eval judge --langs": ([*JUDGE, "--langs", "zh"], FOLDERS, "langs", ["zh"]),
    "push --repo --private --dry-run": (
        ["push", "run", "--repo", "me/set", "--private", "--dry-run"],
        "plugdata.publish.push_run",
        "private",
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(OTHERS))
def test_a_flag_of_the_other_commands_reaches_the_call(case, monkeypatch):
    args, target, keyword, expected = OTHERS[case]
    monkeypatch.setattr(target, _stand_in)
    if target.startswith("plugdata.eval.generate"):  # no recipe on disk: flags and defaults
        monkeypatch.setattr("plugdata.eval.recipe.resolve_recipe", lambda *a, **k: _Recipe())
    result = CliRunner().invoke(app, args, standalone_mode=False)
    assert isinstance(result.exception, Called), (result.output, result.exception)
    assert result.exception.kwargs[keyword] == expected


class _Recipe:
    def __init__(self) -> None:
        self.format = "plug"
        self.sources = {"format": "flag"}

"""What a new user hits: usage errors, pre-flight checks, progress without a terminal,
notebooks, the card of odd runs (issue 13)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import yaml

from plugdata import (
    BuildConfig,
    ConfigError,
    PlugdataError,
    build,
    openai_translator,
    translate_rows,
)
from plugdata.testing import FakeOpenAIServer
from tests.conftest import one_line_error, run_cli, seed_args


def _one_line(result, code=2) -> str:
    return one_line_error(result, code)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build", "--source", "seed", "--model", "any"], "--targets"),
        (
            ["build", "--source", "seed", "--targets", "zh", "--model", "m", "--concurency", "4"],
            "--concurency",
        ),
        (
            ["build", "--source", "seed", "--targets", "zh", "--model", "m", "--limit", "abc"],
            "--limit",
        ),
        (["bild"], "bild"),
        (
            ["build", "--source", "seed", "--targets", "zh,xx", "--model", "m"],
            "--targets: unknown language 'xx'",
        ),
        (
            ["build", "--source", "seed", "--targets", "zh", "--model", "m", "--limit", "0"],
            "--limit: must be a whole number of at least 1",
        ),
        (
            [
                "build",
                "--source",
                "seed",
                "--targets",
                "zh",
                "--model",
                "m",
                "--response-format",
                "bogus",
            ],
            "--response-format: must be one of",
        ),
        (
            ["build", "--source", "seed", "--targets", "zh", "--translator", "llm"],
            "--model: required",
        ),
        # no model and no key: the keyless default (a local MT model), which offline cannot load
        (
            ["build", "--source", "seed", "--targets", "zh"],
            "(for zh): the Hugging Face Hub is not reachable",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, expected):
    line = _one_line(run_cli(*args))
    assert expected in line


def test_bare_command_prints_help_and_exits_0():
    result = run_cli()
    assert result.returncode == 0 and "Traceback" not in result.stderr + result.stdout
    assert "build" in result.stdout + result.stderr


def test_config_errors_name_the_field_not_a_flag():
    with pytest.raises(ConfigError) as caught:
        BuildConfig(source="seed", targets=["zh"], model="m", response_format="bogus")
    assert caught.value.field == "response_format" and "--" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"^limit: "):
        BuildConfig(source="seed", targets=["zh"], model="m", limit=0)
    with pytest.raises(ConfigError, match=r"^thresholds: "):
        BuildConfig(source="seed", targets=["zh"], model="m", thresholds={"nope": 1})
    with pytest.raises(ConfigError, match=r"^wrong_name: not a build option"):
        BuildConfig.from_dict({"source": "seed", "targets": ["zh"], "model": "m", "wrong_name": 1})
    config = BuildConfig(source="seed", targets=["zh", "ko"], model="m", formats="plug,mono")
    assert config.targets == ["zh", "ko"] and config.formats == ["plug", "mono"]


def test_concurrency_defaults_per_backend_and_an_explicit_value_wins():
    assert BuildConfig(source="seed", targets=["zh"], model="gpt-4o-mini").concurrency == 16
    assert BuildConfig(source="seed", targets=["zh"]).concurrency == 256  # mt batches need plenty
    assert BuildConfig(source="seed", targets=["zh"], concurrency=8).concurrency == 8
    with pytest.raises(ConfigError, match=r"^concurrency: "):
        BuildConfig(source="seed", targets=["zh"], model="m", concurrency=0)


def test_progress_lines_when_stderr_is_not_a_terminal(server, tmp_path):
    result = run_cli(
        *seed_args(server.url, str(tmp_path / "run"), targets="zh,ko"),
        "--no-filter",
        "--limit",
        "20",
        "--log-interval",
        "0.001",
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "en→zh" in line]
    assert lines and lines[-1].split("en→zh: ")[1].startswith("20/20 pairs")


def test_translate_rows_inside_a_running_loop_points_to_the_async_form(server):
    translator = openai_translator("m", base_url=server.url)

    async def notebook_cell():
        return translate_rows([{"instruction": "Hi.", "output": "Hi."}], ["zh"], translator)

    with pytest.raises(PlugdataError, match="await atranslate_rows"):
        asyncio.run(notebook_cell())


def test_unwritable_out_fails_before_any_request(server, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    line = _one_line(
        run_cli(
            *seed_args(server.url, str(blocker / "run")),
        )
    )
    assert line.startswith("error: --out:") and server.requests == []


def test_hub_login_is_checked_before_any_request(server, tmp_path):
    line = _one_line(
        run_cli(
            *seed_args(server.url, str(tmp_path / "run")),
            "--push-to-hub",
            "me/data",
            env={"HF_TOKEN": "hf_fake"},
        )
    )
    assert "cannot log in to the Hugging Face Hub" in line and server.requests == []
    assert not (tmp_path / "run").exists() and not (tmp_path / ".run.partial").exists()


def test_push_without_network_is_one_line(server, tmp_path):
    build(
        BuildConfig(
            source="seed",
            targets=["zh"],
            model="m",
            base_url=server.url,
            limit=3,
            out=tmp_path / "run",
            filters=[],
        )
    )
    line = _one_line(
        run_cli("push", str(tmp_path / "run"), "--repo", "me/data", env={"HF_TOKEN": "hf_fake"})
    )
    assert "cannot reach the Hugging Face Hub" in line and "plugdata push" in line


def test_a_failed_rename_keeps_the_finished_run(server, tmp_path, monkeypatch):
    import os

    real = os.replace

    def refuse(src, dst):
        if str(dst).endswith("run"):
            raise PermissionError(1, "Operation not permitted")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(
        PlugdataError, match=r"cannot move the finished run .* complete in .*\.run\.partial"
    ):
        build(
            BuildConfig(
                source="seed",
                targets=["zh"],
                model="m",
                base_url=server.url,
                limit=3,
                out=tmp_path / "run",
                filters=[],
            )
        )
    assert (tmp_path / ".run.partial" / "README.md").is_file()


def test_card_declares_only_configs_with_rows_and_says_when_filters_were_skipped(server, tmp_path):
    # The tagged fake translations are English: every zh pair is rejected by the filters.
    filtered = build(
        BuildConfig(
            source="seed",
            targets=["zh"],
            model="m",
            base_url=server.url,
            limit=5,
            out=tmp_path / "filtered",
        )
    )
    meta = yaml.safe_load((filtered.out / "README.md").read_text().split("---")[1])
    names = [c["config_name"] for c in meta["configs"]]
    assert filtered.stats["formats"]["plug"]["zh"] == 0 and "plug-zh" not in names
    assert names == ["pairs"] or meta["configs"][0].get("default")
    unfiltered = build(
        BuildConfig(
            source="seed",
            targets=["zh"],
            model="m",
            base_url=server.url,
            limit=5,
            out=tmp_path / "unfiltered",
            filters=[],
        )
    )
    card = (unfiltered.out / "README.md").read_text()
    assert "were **not** run" in card
    import datasets

    assert len(datasets.load_dataset(str(unfiltered.out), "plug-zh", split="train")) == 5


def test_test_server_starts_without_warnings():
    proc = subprocess.Popen(
        [sys.executable, "-m", "plugdata.testing.server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "fake OpenAI-compatible server" in proc.stdout.readline()
    finally:
        proc.terminate()
        _, errors = proc.communicate(timeout=10)
    assert "Warning" not in errors


def test_server_listens_on_loopback_only():
    with FakeOpenAIServer() as srv:
        assert srv.url.startswith("http://127.0.0.1:")


def test_named_hub_source_without_network_fails_at_once_with_one_line(tmp_path):
    offline_env = {
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "HF_HOME": str(tmp_path / "hf"),
    }
    line = one_line_error(
        run_cli(
            "build",
            "--source",
            "alpaca",
            "--targets",
            "zh",
            "--model",
            "m",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--out",
            str(tmp_path / "r"),
            env=offline_env,
        )
    )
    assert "cannot be reached" in line and "tatsu-lab/alpaca" in line

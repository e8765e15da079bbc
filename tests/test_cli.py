import json
import socket
import sys
from pathlib import Path

import polars as pl
import pytest

from plugdata import BuildConfig, build
from plugdata.sources import load_source
from plugdata.testing import FakeOpenAIServer
from plugdata.translate.protect import mask, needs_translation

from .conftest import one_line_error, run_cli

TARGETS = ["zh", "ko", "it", "es"]
LABELS = {
    "zh": "中文回复：",
    "ko": "한국어 응답:",
    "it": "Risposta in italiano:",
    "es": "Respuesta en español:",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_run_left(tmp_path: Path) -> None:
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".run", "run"))]
    assert leftovers == []


def test_build_end_to_end_on_the_seed_corpus(server, tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        ",".join(TARGETS),
        "--model",
        "m",
        "--base-url",
        server.url,
        "--out",
        str(out),
        "--api-key",
        "sk-secret-value",
        "--no-filter",
    )
    assert result.returncode == 0, result.stderr
    assert "Run directory" in result.stdout
    seed = load_source("seed").rows
    pairs = pl.read_parquet(out / "pairs.parquet")
    assert pairs.height == len(seed) * 4 and pairs["kept"].all()
    for lang in TARGETS:
        plug = pl.read_parquet(out / "plug" / f"{lang}.parquet").to_dicts()
        assert [r["id"] for r in plug] == [r["id"] for r in seed]  # aligned across languages
        for row, src in zip(plug, seed, strict=True):
            roles = [m["role"] for m in row["messages"]]
            assert roles == ["system", "user", "assistant"]
            answer = row["messages"][2]["content"]
            a = answer.index(f"English instruction: {src['instruction']}")
            b = answer.index(f"English response: {src['output']}")
            c = answer.index(LABELS[lang])
            assert a < b < c
            masked = mask({"output": src["output"]}).texts["output"]
            tagged = f"[{lang}] {src['output']}" if needs_translation(masked) else src["output"]
            assert answer.endswith(f"{LABELS[lang]}{'' if lang == 'zh' else ' '}{tagged}")
        for fmt in ("mono", "pivot-only"):
            assert pl.read_parquet(out / fmt / f"{lang}.parquet").height == len(seed)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["totals"]["pairs"] == len(seed) * 4 and stats["totals"]["rejected"] == 0
    assert stats["languages"]["ko"]["requests"] == len(seed)
    config = (out / "config.yaml").read_text()
    assert "sk-secret-value" not in config and "source: seed" in config
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_build_local_file_with_jsonl_output_and_all_formats(server, tmp_path, jsonl_file):
    out = tmp_path / "run"
    formats = "plug,plug-target-first,mono,pivot-only,code-switch,multilingual"
    result = run_cli(
        "build",
        "--source",
        str(jsonl_file),
        "--targets",
        "ko",
        "--model",
        "m",
        "--base-url",
        server.url,
        "--out",
        str(out),
        "--formats",
        formats,
        "--file-format",
        "jsonl",
        "--no-filter",
    )
    assert result.returncode == 0, result.stderr
    for fmt in formats.split(","):
        rows = [json.loads(line) for line in (out / fmt / "ko.jsonl").read_text().splitlines()]
        assert len(rows) == (6 if fmt == "multilingual" else 3)


def test_existing_output_is_refused_then_overwritten(server, tmp_path, jsonl_file):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    args = [
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
        str(out),
        "--no-filter",
    ]
    refused = run_cli(*args)
    assert refused.returncode != 0 and "already exists" in refused.stderr
    assert run_cli(*args, "--overwrite").returncode == 0
    assert not (out / "keep.txt").exists() and (out / "plug" / "zh.parquet").exists()


def _bad(result) -> str:
    return one_line_error(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "nope"], "unknown source 'nope'"),
        (["--targets", "zh,xx"], "unknown language 'xx'"),
        (["--formats", "plug,fancy"], "unknown format(s) fancy"),
        (["--pivot", "zh"], "cannot also be a target"),
    ],
)
def test_bad_options(server, tmp_path, jsonl_file, args, message):
    base = {
        "--source": str(jsonl_file),
        "--targets": "zh",
        "--model": "m",
        "--base-url": server.url,
        "--out": str(tmp_path / "run"),
    }
    base.update(dict(zip(args[::2], args[1::2], strict=False)))
    line = _bad(run_cli("build", *[x for kv in base.items() for x in kv], cwd=tmp_path))
    assert message in line
    _no_run_left(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"instruction": "a", "output": "b"}\n{"instruction": ', "line 2: invalid JSON"),
        (
            '{"instruction": "a", "input": 5, "output": "b"}\n',
            "line 1: field input must be a string",
        ),
        ('{"instruction": "a"}\n', "line 1: field 'output' is missing"),
        ("", "file is empty"),
    ],
)
def test_bad_input_files(server, tmp_path, content, message):
    path = tmp_path / "in.jsonl"
    path.write_text(content, encoding="utf-8")
    line = _bad(
        run_cli(
            "build",
            "--source",
            str(path),
            "--targets",
            "zh",
            "--model",
            "m",
            "--base-url",
            server.url,
            "--out",
            str(tmp_path / "run"),
        )
    )
    assert str(path) in line and message in line
    _no_run_left(tmp_path)
    assert server.requests == []


def test_unreachable_server(tmp_path, jsonl_file):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    line = _bad(
        run_cli(
            "build",
            "--source",
            str(jsonl_file),
            "--targets",
            "zh",
            "--model",
            "m",
            "--base-url",
            url,
            "--out",
            str(tmp_path / "run"),
        )
    )
    assert f"cannot reach the model server at {url}" in line
    _no_run_left(tmp_path)


def test_rejected_api_key(tmp_path, jsonl_file):
    with FakeOpenAIServer(api_key="good") as srv:
        line = _bad(
            run_cli(
                "build",
                "--source",
                str(jsonl_file),
                "--targets",
                "zh",
                "--model",
                "m",
                "--base-url",
                srv.url,
                "--api-key",
                "bad-key",
                "--out",
                str(tmp_path / "run"),
            )
        )
    assert "rejected the API key (401)" in line and "bad-key" not in line
    _no_run_left(tmp_path)


def test_missing_api_key_for_openai(tmp_path, jsonl_file):
    line = _bad(
        run_cli(
            "build",
            "--source",
            str(jsonl_file),
            "--targets",
            "zh",
            "--model",
            "m",
            "--out",
            str(tmp_path / "run"),
        )
    )
    assert "no API key" in line


def test_environment_supplies_base_url_and_key(tmp_path, jsonl_file):
    with FakeOpenAIServer(api_key="env-key") as srv:
        result = run_cli(
            "build",
            "--source",
            str(jsonl_file),
            "--targets",
            "zh",
            "--model",
            "m",
            "--out",
            str(tmp_path / "run"),
            env={"OPENAI_BASE_URL": srv.url, "OPENAI_API_KEY": "env-key"},
        )
    assert result.returncode == 0, result.stderr
    assert "env-key" not in (tmp_path / "run" / "config.yaml").read_text()


def test_version_help_and_listings():
    script = Path(sys.executable).with_name("plugdata")
    import subprocess

    version = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("plugdata ")
    help_text = run_cli("build", "--help").stdout
    for option in (
        "--source",
        "--targets",
        "--model",
        "--base-url",
        "--api-key",
        "--out",
        "--limit",
        "--seed",
        "--columns",
        "--formats",
        "--concurrency",
    ):
        assert option in help_text
    assert "gpt4-alpaca" in run_cli("sources").stdout
    listing = run_cli("languages").stdout
    assert "中文回复：" in listing and "sw" in listing


def test_library_build_matches_the_cli(server, tmp_path, jsonl_file):
    result = build(
        BuildConfig(
            source=str(jsonl_file),
            targets="it,es",
            model="m",
            base_url=server.url,
            out=str(tmp_path / "lib"),
            filters=[],
        )
    )
    assert result.out == tmp_path / "lib"
    assert result.stats["languages"]["it"]["kept"] == 3
    assert pl.read_parquet(result.out / "plug" / "es.parquet").height == 3

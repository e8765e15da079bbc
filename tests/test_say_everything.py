"""Flags that do what the README says, one line where a traceback was, output that fits an
80-column terminal or a log file, and the PLUG paper's own win rate."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from plugdata.testing import FakeOpenAIServer

from .conftest import one_line_error, run_cli, seed_args

NARROW = {"COLUMNS": "80"}


def _build(url: str, out: Path, *extra: str, env: dict[str, str] | None = None):
    return run_cli(
        *seed_args(url, str(out)),
        *extra,
        env=env,
    )


def _fits(text: str) -> list[str]:
    """The lines of ``text``: none wider than 80 columns (but a path, printed whole so that it
    can be copied), none cut short with an ellipsis."""
    lines = text.splitlines()
    path = re.compile(r"^[A-Z][a-z ]+: \S+$")
    assert all(len(line.rstrip()) <= 80 or path.match(line) for line in lines), text
    assert "…" not in text, text
    return lines


# 5. --thresholds from the command line


def test_build_thresholds_flag_reaches_the_filters(tmp_path):
    with FakeOpenAIServer() as srv:
        result = _build(
            srv.url,
            tmp_path / "run",
            "--filters",
            "length_ratio,script",
            "--thresholds",
            "lid_min_prob=0.5,length_ratio_high=3",
        )
        assert result.returncode == 0, result.stderr
        bad = _build(srv.url, tmp_path / "bad", "--thresholds", "lid_min_prob=high")
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    assert stats["filters"]["thresholds"]["lid_min_prob"] == 0.5
    assert stats["filters"]["thresholds"]["length_ratio_high"] == 3.0
    assert "length_ratio_high: 3.0" in (tmp_path / "run" / "config.yaml").read_text()
    assert one_line_error(bad, 2).startswith(
        "error: --thresholds: threshold lid_min_prob needs a float"
    )
    assert "--thresholds <float>" not in run_cli("build", "--help").stdout


# 6. plugdata filter re-judges what a build's filters rejected


def test_filter_command_can_keep_what_the_build_rejected(tmp_path):
    with FakeOpenAIServer() as srv:
        built = _build(srv.url, tmp_path / "run", "--filters", "script")
        assert built.returncode == 0, built.stderr
    pairs = pl.read_parquet(tmp_path / "run" / "pairs.parquet")
    assert pairs["kept"].sum() < 71  # the tagged "translations" are English: script rejects them
    # One pair whose translation failed: no filter may keep it.
    first = pl.col("id") == pairs["id"][0]
    failed = pairs.with_columns(
        pl.when(first).then(None).otherwise(pl.col("target_output")).alias("target_output"),
        pl.when(first).then(pl.lit(["bad_request"])).otherwise(pl.col("reasons")).alias("reasons"),
        pl.when(first).then(False).otherwise(pl.col("kept")).alias("kept"),
    )
    failed.write_parquet(tmp_path / "pairs.parquet")
    loose = run_cli(
        "filter",
        str(tmp_path / "pairs.parquet"),
        "--filters",
        "empty",
        "--out",
        str(tmp_path / "loose"),
    )
    assert loose.returncode == 0, loose.stderr
    kept = pl.read_parquet(tmp_path / "loose" / "pairs.parquet")
    rejected = pl.read_parquet(tmp_path / "loose" / "rejected.parquet")
    assert kept.height == 70 and rejected["reasons"].to_list() == [["bad_request"]]
    strict = run_cli(
        "filter",
        str(tmp_path / "pairs.parquet"),
        "--filters",
        "script",
        "--out",
        str(tmp_path / "strict"),
    )
    assert strict.returncode == 0, strict.stderr
    again = pl.read_parquet(tmp_path / "strict" / "rejected.parquet")
    assert again.height == 71 - pairs["kept"].sum()  # the same verdicts as the build's, no more
    assert again.filter(pl.col("reasons").list.len() != 1).height == 0  # reasons not doubled


# 7. train presets and abbreviated flags


def test_a_preset_never_overrides_a_flag_however_it_is_spelt():
    from plugdata.train import parse

    base = ["--data", "d", "--model", "m", "--out", "o", "--langs", "zh", "--preset", "plug-paper"]
    assert parse(base).max_length == 4096
    assert parse([*base, "--max-len", "1024"]).max_length == 1024
    assert parse([*base, "--max_len=512"]).max_length == 512
    assert parse([*base, "--glob", "8"]).global_batch == 8
    lora = ["--data", "d", "--model", "m", "--out", "o", "--langs", "zh", "--preset", "lora"]
    assert parse([*lora, "--no-lor"]).lora is False and parse(lora).lora is True


# 8. progress counts what the filters reject


def test_progress_counts_the_pairs_the_filters_reject(tmp_path):
    with FakeOpenAIServer() as srv:
        result = _build(srv.url, tmp_path / "run", "--filters", "script")
    assert result.returncode == 0, result.stderr
    rejected = json.loads((tmp_path / "run" / "stats.json").read_text())["languages"]["zh"][
        "rejected"
    ]
    progress = [line for line in result.stderr.splitlines() if "en→zh:" in line]
    assert rejected > 0 and progress[-1].split(", ")[2] == f"{rejected} rejected", progress


# 9. one line where a traceback was


@pytest.mark.parametrize("text", ["- a list\n- of lines\n", "version: v\nsystem: [unclosed\n", ""])
def test_a_bad_prompt_file_is_one_line_in_build_and_judge(tmp_path, text):
    prompt = tmp_path / "prompt.yaml"
    prompt.write_text(text)
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "zh.jsonl").write_text('{"id": "1", "instruction": "说", "answer": "好"}\n')
    with FakeOpenAIServer() as srv:
        built = _build(srv.url, tmp_path / "run", "--prompt", str(prompt))
        judged = run_cli(
            "eval",
            "judge",
            str(answers),
            str(answers),
            "--judge-model",
            "j",
            "--base-url",
            srv.url,
            "--out",
            str(tmp_path / "j"),
            "--prompt",
            str(prompt),
        )
    for result in (built, judged):
        line = one_line_error(result, 2)
        assert f"prompt file {prompt}" in line
        assert re.search(r"mapping|not valid YAML at line \d+", line), line


def test_ray_that_cannot_start_is_one_line(tmp_path):
    pytest.importorskip("ray")
    result = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "zh",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--executor",
        "ray",
        "--ray-address",
        "localhost:notaport",
        "--out",
        str(tmp_path / "run"),
    )
    line = one_line_error(result, 2)
    assert line.startswith(
        "error: --executor ray: cannot start or reach the Ray cluster at localhost:notaport"
    )


def test_train_with_a_model_it_cannot_load_is_one_lowercase_line(tmp_path):
    model = str(tmp_path / "nope")  # (a Hub id offline fails the same way, only slower)
    args = ["--data", str(tmp_path), "--model", model, "--out", str(tmp_path / "out")]
    result = run_cli("train", *args, "--langs", "zh", "--max-steps", "1")
    assert one_line_error(result, 2).startswith(f"error: --model {model}: cannot load")


# 10. output that fits 80 columns


def test_build_summary_fits_80_columns_and_keeps_every_count(tmp_path):
    with FakeOpenAIServer() as srv:
        result = run_cli(
            *seed_args(srv.url, str(tmp_path / "run"), targets="zh,it"),
            "--filters",
            "script,untranslated,structure",
            env=NARROW,
        )
    assert result.returncode == 0, result.stderr
    flat = " ".join(" ".join(_fits(result.stdout)).split())
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    for lang, row in stats["languages"].items():
        assert re.search(rf"\b{lang}\b", flat)
        for reason, n in row["reasons"].items():
            assert f"{reason}={n}" in flat, (reason, result.stdout)


def _report(folder: Path) -> dict:
    from plugdata.eval.aggregate import aggregate_judgments
    from plugdata.eval.report import write_report

    outcomes = [("win", "win"), ("win", "tie"), ("tie", "tie"), ("win", "loss"), ("loss", "tie")]
    judgments = [
        {"lang": lang, "id": f"{lang}{i}", "order": order, "outcome": outcome}
        for lang in ("zh", "ko", "it", "es")
        for i, pair in enumerate(outcomes * 161)
        for order, outcome in zip(("ab", "ba"), pair, strict=True)
    ]
    report = aggregate_judgments(judgments, samples=200)
    for stats in [*report["languages"].values(), report["overall"]]:
        stats.update(mean_length={"a": 1234.5, "b": 987.6}, wrong_language={"a": 12, "b": 345})
    report["meta"] = {"a": "answers/plug", "b": "answers/mono", "judge_model": "gpt-4o"}
    write_report(folder, report)
    return report


def test_eval_report_fits_80_columns_and_keeps_every_number(tmp_path):
    from plugdata.eval.report import table_rows

    report = _report(tmp_path)
    result = run_cli("eval", "report", str(tmp_path), env=NARROW)
    assert result.returncode == 0, result.stderr
    flat = " ".join(" ".join(_fits(result.stdout)).split())
    for row in table_rows(report):
        for cell in row:
            assert cell in flat, (cell, result.stdout)


# 11. help and messages


def test_help_shows_every_word_and_usage_lines_as_typed():
    build = run_cli("build", "--help", env=NARROW).stdout
    assert "pip install 'plugdata[ray]'" in build.replace("│", " ").replace("\n", " ").replace(
        "  ", ""
    )
    words = [line.strip(" │") for line in build.splitlines()]
    assert "completed" not in words  # no orphan word at the end of a paragraph
    assert "Re-running the same command after a crash, Ctrl-C or --max-cost resumes:" in " ".join(
        words
    )
    for args, usage in (
        (["filter"], "PAIRS_FILE"),
        (["extract"], "FILE"),
        (["push"], "RUN_DIR"),
        (["eval", "judge"], "A_DIR B_DIR"),
    ):
        text = run_cli(*args, "--help", env=NARROW).stdout
        line = next(line for line in text.splitlines() if "Usage:" in line)
        assert line.rstrip().endswith(usage) and "{" not in line, line


def test_messages_name_the_flag_and_the_real_problem(tmp_path):
    nope = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "zh",
        "--model",
        "./models/nope",
        "--out",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert one_line_error(nope, 2) == "error: --model: no such folder: ./models/nope"
    source = tmp_path / "data.jsonl"
    source.write_text('{"prompt2": "a", "out": "b"}\n')
    with FakeOpenAIServer() as srv:
        missing = run_cli(
            "build",
            "--source",
            str(source),
            "--targets",
            "zh",
            "--model",
            "m",
            "--base-url",
            srv.url,
            "--out",
            str(tmp_path / "run"),
        )
        proc = run_cli(
            *seed_args(srv.url, "/proc/plugdata-run"),
        )
    assert "map one with --columns instruction=COLUMN" in one_line_error(missing, 2)
    line = one_line_error(proc, 2)
    assert (
        line.startswith("error: --out: cannot create folders in /proc")
        and "not writable" not in line
    )


# 12. the PLUG paper's own rate


def test_plug_win_rate_counts_a_slight_win_as_a_win(tmp_path):
    report = _report(tmp_path)
    # per language, lenient: win, slight win, tie, tie, slight loss (x161); strict: one win in
    # five, four ties. The paper counts 2 in 5 as wins.
    for stats in [*report["languages"].values(), report["overall"]]:
        assert stats["plug_win_rate"] == 0.4 and stats["win_rate_adjusted"] == 0.6
        low, high = stats["plug_win_rate_ci95"]
        assert low < 0.4 < high
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["overall"]["plug_win_rate"] == 0.4 and saved["overall"]["plug_win_rate_ci95"]
    markdown = (tmp_path / "report.md").read_text()
    assert "| PLUG win rate | 95% CI (PLUG) |" in markdown and "| 40.0% |" in markdown
    assert "PLUG win rate" in run_cli("eval", "report", str(tmp_path)).stdout


def test_plug_win_rate_is_drawn_in_the_chart(tmp_path, monkeypatch):
    import matplotlib.axes

    from plugdata.eval.report import write_chart

    labels = []
    bar = matplotlib.axes.Axes.bar

    def record(self, *args, label=None, **kwargs):
        labels.append(label)
        return bar(self, *args, label=label, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "bar", record)
    write_chart(tmp_path / "report.png", _report(tmp_path / "r"))
    assert any(label and "PLUG" in label for label in labels), labels


def test_python_m_plugdata_train_says_stopped_with_the_signal_code(tmp_path):
    code = (
        "import sys, plugdata.train as t\n"
        "def stop(args): raise KeyboardInterrupt\n"
        "t.run = stop\n"
        "sys.argv = ['x', '--data', 'd', '--model', 'm', '--out', 'o', '--langs', 'zh']\n"
        "exec(open(t.__file__.replace('__init__', '__main__')).read())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.startswith("stopped: interrupted; the checkpoints saved so far stay in o")

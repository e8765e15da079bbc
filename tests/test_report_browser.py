"""report.html in a real browser (Chromium, from file://): the offline demo's build pages, an
evaluation's page, and pages whose records hold HTML. Screenshots of the demo's pages go to
docs/ when PLUGDATA_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
import yaml

from plugdata.eval.compare import judge_folders
from plugdata.publish.report import REPORT_HTML, write_build_report
from plugdata.testing import FakeOpenAIServer
from plugdata.testing.runs import synthetic_run
from plugdata.testing.server import judge_policy

from .browser import (
    HOSTILE,
    Browser,
    Opened,
    assert_readable,
    assert_safe,
    check_rates,
    chromium,
    search,
)
from .conftest import run_cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
TARGETS = ["zh", "ko", "it", "es"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The README's offline demo, by its commands: with --no-filter and without."""
    root = tmp_path_factory.mktemp("demo")
    with FakeOpenAIServer() as srv:
        for out, extra in (("corpora/demo", ["--no-filter"]), ("corpora/demo-filtered", [])):
            args = [
                "build",
                "--source",
                "seed",
                "--targets",
                ",".join(TARGETS),
                "--model",
                "any",
                "--base-url",
                srv.url,
                "--out",
                out,
                *extra,
            ]
            result = run_cli(*args, cwd=root)
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip().splitlines()[-1] == f"Report: {out}/{REPORT_HTML}"
    return {"no-filter": root / "corpora/demo", "filtered": root / "corpora/demo-filtered"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory, demo, judged):
    """Chromium, started once the runs are made (Playwright's loop would stop asyncio.run)."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


def screenshot(opened: Opened, name: str, tmp_path: Path, at: str | None = None) -> None:
    """1280 x 1400 px of the page (from ``at``'s top, else the page's), light mode; copied to
    docs/ (as a palette PNG) with PLUGDATA_UPDATE_SCREENSHOTS=1."""
    path = tmp_path / name
    page = opened.page
    page.set_viewport_size({"width": 1280, "height": 1400})
    top = (
        page.evaluate(f"document.querySelector('{at}').getBoundingClientRect().top + scrollY")
        if at
        else 0
    )
    page.evaluate(f"window.scrollTo(0, {top})")
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1280, "height": 900})
    assert path.stat().st_size > 20_000  # a drawn page, not a blank one
    if os.environ.get("PLUGDATA_UPDATE_SCREENSHOTS") == "1":
        from PIL import Image

        Image.open(path).convert("RGB").quantize(colors=64).save(DOCS / name, optimize=True)


def check_funnel(opened: Opened, stats: dict) -> None:
    page = opened.page

    def shown(lang: str, key: str) -> str:
        return page.inner_text(f'#funnel td[data-lang="{lang}"][data-key="{key}"]')

    for lang, row in stats["languages"].items():
        for key in ("pairs", "kept", "rejected"):
            assert shown(lang, key) == f"{row[key]:,}", (lang, key)
        for reason, n in row["reasons"].items():
            cell = page.inner_text(f'#reasons td[data-lang="{lang}"][data-key="reason:{reason}"]')
            assert cell == f"{n:,}", (lang, reason)
    for key in ("pairs", "kept", "rejected"):
        assert shown("total", key) == f"{stats['totals'][key]:,}"


def check_languages(opened: Opened, run: Path) -> None:
    pairs = pl.read_parquet(run / "pairs.parquet")
    for lang in TARGETS:
        opened.page.click(f'button[role="tab"][data-lang="{lang}"]')
        cards = opened.visible_cards()
        assert cards and all(c["lang"] == lang for c in cards), lang
        own = pairs.filter(pl.col("target_lang") == lang)
        kept = {c["id"] for c in cards if c["kept"] == "true"}
        assert kept <= set(own.filter(pl.col("kept"))["id"])
        assert {c["id"] for c in cards if c["kept"] == "false"} <= set(
            own.filter(~pl.col("kept"))["id"]
        )
        assert opened.page.inner_text("#sample-section h2").endswith(f"({lang})")


def check_search(opened: Opened) -> None:
    before = opened.visible_cards()
    assert len(before) > 2
    wanted = before[1]["id"]
    narrowed = search(opened, wanted)
    assert narrowed and len(narrowed) < len(before) and all(c["id"] == wanted for c in narrowed)
    assert "match" in opened.page.inner_text("#count")
    assert search(opened, "no such text anywhere 1234") == []
    assert len(search(opened, "")) == len(before)


def test_build_pages_of_the_offline_demo(browser: Browser, demo, tmp_path):
    for name, run in demo.items():
        stats = json.loads((run / "stats.json").read_text())
        with browser.open(run / REPORT_HTML) as opened:
            assert not opened.errors, opened.errors
            check_funnel(opened, stats)
            check_languages(opened, run)
            opened.page.click('button[role="tab"][data-lang="zh"]')
            check_search(opened)
            if name == "filtered":
                assert opened.page.locator("#rejected-section .card").count() > 0
                assert opened.page.locator("#scores-section .chart[data-column]").count() >= 6
                opened.page.click('button[role="tab"][data-lang="it"]')
                assert opened.page.locator("#scores-section line.threshold").count() >= 3
                opened.page.click('button[role="tab"][data-lang="zh"]')
                screenshot(opened, "report-build.png", tmp_path)
            else:
                assert "Filters were not run" in opened.page.inner_text("#funnel-section")
            assert not opened.errors, opened.errors
    assert_readable(browser, demo["filtered"] / REPORT_HTML)


def _hostile_run(root: Path) -> Path:
    """A run whose records, reasons, evidence and source name hold HTML and script."""
    run = synthetic_run(root / "hostile", records=40, langs=("zh", "it"))
    pairs = pl.read_parquet(run / "pairs.parquet").with_row_index("i")
    script, img = HOSTILE
    pairs = pairs.with_columns(
        pl.when(pl.col("i") % 5 == 0)
        .then(pl.lit(f"Explain {script} please"))
        .otherwise("target_instruction")
        .alias("target_instruction"),
        pl.when(~pl.col("kept"))
        .then(pl.lit(f"input {img} end"))
        .otherwise("target_input")
        .alias("target_input"),
        pl.when(pl.col("i") % 7 == 0)
        .then(pl.lit(img))
        .otherwise("pivot_output")
        .alias("pivot_output"),
    )
    evidence = [
        [{"reason": r, "field": "input", "text": img} for r in rs] for rs in pairs["reasons"]
    ]
    pairs = pairs.with_columns(
        pl.Series("evidence", evidence, dtype=pairs.schema["evidence"])
    ).drop("i")
    pairs.write_parquet(run / "pairs.parquet")
    pairs.filter(~pl.col("kept")).write_parquet(run / "rejected.parquet")
    recipe = yaml.safe_load((run / "config.yaml").read_text())
    recipe["source_info"]["name"] = script
    (run / "config.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    stats = json.loads((run / "stats.json").read_text())
    stats["languages"]["zh"]["reasons"][img] = 0
    (run / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    write_build_report(run)
    return run


def test_records_holding_html_show_as_text_on_the_build_page(browser: Browser, tmp_path):
    run = _hostile_run(tmp_path)
    with browser.open(run / REPORT_HTML) as opened:
        assert_safe(opened)
        assert opened.page.title().endswith(f"{HOSTILE[0]}, en → zh, it")
        marks = opened.page.eval_on_selector_all(
            "#rejected-section mark", "m => m.map(x => x.textContent)"
        )
        assert marks and set(marks) == {HOSTILE[1]}  # the evidence, marked where it failed
        assert search(opened, "onerror=alert(1)")
        opened.page.click('button[role="tab"][data-lang="it"]')
        assert_safe(opened)


def _answers(root: Path, side: int) -> Path:
    folder = root / ("model-a" if side == 1 else "model-b")
    folder.mkdir(parents=True)
    rows = {
        "zh": [
            ("说出三种颜色。", "红色、蓝色和绿色：三原色。", "红色。"),
            ("写一首短诗。", "春风吹过山岗。", "春天来了，花开了，鸟儿在歌唱。"),
            ("翻译：我喜欢猫。", "I like cats.", "I like cats."),
            (f"解释 {HOSTILE[0]}", f"{HOSTILE[1]} 这是答案", "普通的回答，比较长一点。"),
            ("什么是光合作用？", "POSITION 植物利用光能制造有机物。", "植物用光制造养分。"),
        ],
        "ko": [
            ("세 가지 색을 말하세요.", "빨강, 파랑.", "빨강, 파랑, 초록, 노랑."),
            ("짧은 시를 쓰세요.", "UNDECIDED 봄바람.", "봄이 왔어요."),
        ],
    }
    for lang, items in rows.items():
        lines = [
            json.dumps({"id": i, "instruction": r[0], "answer": r[side]}, ensure_ascii=False)
            for i, r in enumerate(items)
        ]
        (folder / f"{lang}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Two answer folders judged by the bundled server: the longer answer wins, one judge is
    swayed by position, one never decides, and one reply quotes HTML."""
    root = tmp_path_factory.mktemp("eval")
    longer = judge_policy("longer")

    def judge(first: str, second: str) -> str:
        if "UNDECIDED" in first + second:
            return "No verdict here."
        if "POSITION" in first + second:
            return "The first one. [[A]]"
        return longer(first, second) + (f" {HOSTILE[0]}" if HOSTILE[1] in first + second else "")

    here = Path.cwd()
    os.chdir(root)  # folders named as a user names them, relative to where they work
    try:
        a, b = _answers(Path("answers"), 1), _answers(Path("answers"), 2)
        with FakeOpenAIServer(judge=judge) as srv:
            report = judge_folders(
                a, b, "results/a-vs-b", judge_model="judge", base_url=srv.url, max_asks=2
            )
    finally:
        os.chdir(here)
    return root / "results/a-vs-b", report


def test_eval_page(browser: Browser, judged, tmp_path):
    folder, report = judged
    with browser.open(folder / REPORT_HTML) as opened:
        page = opened.page
        assert not opened.errors, opened.errors
        check_rates(opened, report)
        assert page.locator('[data-rate="win_rate_adjusted"] svg').count() == 1
        screenshot(opened, "report-eval.png", tmp_path, at="#rates-section")
        for lang, n in (("ko", 2), ("zh", 5)):
            page.click(f'button[role="tab"][data-lang="{lang}"]')
            cards = opened.visible_cards()
            assert len(cards) == n and all(c["lang"] == lang for c in cards)
        for outcome, attr, value in (
            ("loss", "strict", "loss"),
            ("flip", "flip", "true"),
            ("win", "strict", "win"),
        ):
            page.click(f'button[data-outcome="{outcome}"]')
            cards = opened.visible_cards()
            assert cards and all(c[attr] == value for c in cards), outcome
        page.click('button[data-outcome="all"]')
        assert [c["id"] for c in search(opened, "光合作用")] == ["4"]
        search(opened, "")
        assert_safe(opened)
        page.click('button[role="tab"][data-lang="ko"]')
        page.click('button[data-outcome="error"]')
        assert [c["id"] for c in opened.visible_cards()] == ["1"]
        assert "No verdict here." in page.inner_text("#language-view")
    assert_readable(browser, folder / REPORT_HTML)


def test_eval_page_shows_rates_it_does_not_know(browser: Browser, judged, tmp_path):
    """A rate added to report.json later (e.g. the paper's win rate) shows without a change."""
    from plugdata.eval.page import write_eval_page

    report = json.loads(json.dumps(judged[1]))
    for stats in [*report["languages"].values(), report["overall"]]:
        stats["plug_win_rate"], stats["plug_win_rate_ci95"] = 0.625, [0.5, 0.75]
    page = write_eval_page(tmp_path, report, [], {})
    with browser.open(page) as opened:
        assert not opened.errors, opened.errors
        cell = opened.page.inner_text('#rates td[data-lang="overall"][data-key="plug_win_rate"]')
        assert cell == "62.5%"
        ci = opened.page.inner_text('#rates td[data-lang="zh"][data-key="plug_win_rate_ci95"]')
        assert ci == "50.0%–75.0%"
        chart = opened.page.inner_text('[data-rate="plug_win_rate"]')
        assert "62.5% (50.0%–75.0%)" in chart

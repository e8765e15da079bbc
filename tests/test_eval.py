"""`plugdata eval` judging: verdict parsing, both-order aggregation, scripted judges, bad input."""

import json
from pathlib import Path

import pytest

from plugdata.errors import PlugdataError
from plugdata.eval.aggregate import aggregate_judgments, bootstrap_ci, lenient, strict
from plugdata.eval.compare import judge_folders
from plugdata.eval.judge import outcome_for_a, parse_verdict
from plugdata.eval.report import read_report
from plugdata.testing.server import FakeOpenAIServer, judge_policy
from plugdata.translate.chat import ChatClient

ITEMS = {
    "zh": [("1", "说出一种颜色。"), ("2", "写一首短诗。"), ("3", "解释重力。")],
    "es": [
        ("1", "Nombra un color."),
        ("2", "Escribe un poema corto."),
        ("3", "Explica la gravedad."),
    ],
}


def write_answers(folder: Path, answer: str, *, drop: set[str] = frozenset(), **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for lang, items in ITEMS.items():
        rows = [
            {"id": i, "instruction": text, "answer": f"{answer} {i}", **extra}
            for i, text in items
            if i not in drop
        ]
        (folder / f"{lang}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    return folder


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return write_answers(tmp_path / "plug", "PLUG answer"), write_answers(tmp_path / "mono", "mono")


def judged(a: Path, b: Path, out: Path, policy: str, **options):
    with FakeOpenAIServer(judge=policy) as srv:
        report = judge_folders(
            a, b, out, judge_model="judge", base_url=srv.url, bootstrap=500, **options
        )
        return report, srv.requests


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("A is better. [[A]]", "A"),
        ("[[ b ]]", "B"),
        ("It is a tie: [[C]]", "C"),
        ("[[Tie]]", "C"),
        ("First [[A]], on reflection [[B]]", "B"),
        ("［［A］］", "A"),
        ("Answer A is better.", None),
        ("[A]", None),
        ("", None),
        ("[[D]]", None),
    ],
)
def test_verdicts_parse_robustly(text, verdict):
    assert parse_verdict(text) == verdict


def test_verdicts_mean_opposite_things_in_the_two_orders():
    assert outcome_for_a("ab", "A") == "win" and outcome_for_a("ba", "A") == "loss"
    assert outcome_for_a("ab", "B") == "loss" and outcome_for_a("ba", "B") == "win"
    assert outcome_for_a("ab", "C") == outcome_for_a("ba", "C") == "tie"


def test_strict_and_lenient_rules():
    assert strict("win", "win") == "win" and strict("loss", "loss") == "loss"
    assert strict("win", "tie") == strict("win", "loss") == strict("tie", "tie") == "tie"
    assert lenient("win", "win") == "win" and lenient("tie", "win") == "slight_win"
    assert lenient("loss", "win") == "tie" and lenient("tie", "loss") == "slight_loss"
    assert lenient("loss", "loss") == "loss" and lenient("tie", "tie") == "tie"


def test_bootstrap_interval_is_sane():
    assert bootstrap_ci([[1.0] * 50]) == [1.0, 1.0]
    low, high = bootstrap_ci([[1.0] * 50 + [0.0] * 50], samples=2000)
    assert low < 0.5 < high and 0.15 < high - low < 0.25  # about ±1.96·0.05
    wide = bootstrap_ci([[1.0] * 10 + [0.0] * 10])
    assert wide[1] - wide[0] > high - low  # fewer pairs, wider interval
    assert bootstrap_ci([[1.0, 0.0, 0.5]], seed=3) == bootstrap_ci([[1.0, 0.0, 0.5]], seed=3)
    assert bootstrap_ci([[]]) is None


def test_overall_counts_every_language():
    rows = [
        {"lang": lang, "id": str(i), "order": order, "outcome": outcome}
        for lang, outcome in (("zh", "win"), ("es", "loss"))
        for i in range(4)
        for order in ("ab", "ba")
    ]
    report = aggregate_judgments(rows, samples=200)
    assert report["languages"]["zh"]["win_rate_adjusted"] == 1.0
    assert report["languages"]["es"]["strict"] == {"win": 0, "tie": 0, "loss": 4}
    assert report["overall"]["n"] == 8 and report["overall"]["win_rate_adjusted"] == 0.5


def test_a_judge_preferring_the_first_answer_gives_all_ties(folders, tmp_path):
    report, requests = judged(*folders, tmp_path / "out", "first")
    assert len(requests) == 12  # 6 pairs, both orders
    for stats in [*report["languages"].values(), report["overall"]]:
        n = stats["n"]
        assert stats["strict"] == {"win": 0, "tie": n, "loss": 0}
        assert stats["lenient"]["tie"] == n
        assert stats["position_consistency"] == 0.0 and stats["win_rate_adjusted"] == 0.5
    assert report["overall"]["n"] == 6 and report["overall"]["errors"] == 0
    # A really is shown first in one order and second in the other
    shown_first = [r["messages"][1]["content"].split("<answer_a>")[1] for r in requests]
    assert sum("PLUG answer" in s.split("</answer_a>")[0] for s in shown_first) == 6


@pytest.mark.parametrize(("marker", "winner"), [("PLUG", "a"), ("mono", "b")])
def test_a_judge_preferring_one_model_makes_it_win_everything(folders, tmp_path, marker, winner):
    report, _ = judged(*folders, tmp_path / "out", f"marker:{marker}")
    overall = report["overall"]
    if winner == "a":
        assert overall["strict"] == {"win": 6, "tie": 0, "loss": 0}
        assert overall["lenient"]["win"] == 6 and overall["win_rate_adjusted"] == 1.0
    else:
        assert overall["strict"] == {"win": 0, "tie": 0, "loss": 6}
        assert overall["win_rate_adjusted"] == 0.0 and overall["ci95"] == [0.0, 0.0]
    assert overall["position_consistency"] == 1.0


def test_report_files_and_layout(folders, tmp_path):
    out = tmp_path / "out"
    judged(*folders, out, "marker:PLUG")
    report = read_report(out)
    zh = report["languages"]["zh"]
    for key in (
        "n",
        "strict",
        "lenient",
        "win_rate_adjusted",
        "ci95",
        "position_consistency",
        "errors",
        "mean_length",
        "wrong_language",
    ):
        assert key in zh and key in report["overall"], key
    assert set(zh["lenient"]) == {"win", "slight_win", "tie", "slight_loss", "loss"}
    assert zh["mean_length"] == {"a": len("PLUG answer 1"), "b": len("mono 1")}
    assert (out / "report.png").stat().st_size > 1000
    assert "| zh | 3 | 3/0/0 |" in (out / "report.md").read_text()
    rows = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and {r["order"] for r in rows} == {"ab", "ba"}
    assert all(r["raw"].endswith("[[A]]") or r["raw"].endswith("[[B]]") for r in rows)


def test_rerunning_replays_the_cache(folders, tmp_path):
    first, sent = judged(*folders, tmp_path / "out", "marker:PLUG")
    again, sent_again = judged(*folders, tmp_path / "out", "marker:PLUG")
    assert len(sent) == 12 and sent_again == []
    assert again["overall"]["strict"] == first["overall"]["strict"]


def test_a_reply_without_a_verdict_is_retried_then_an_error(folders, tmp_path):
    report, requests = judged(*folders, tmp_path / "out", "none", max_asks=2)
    assert len(requests) == 24  # every judgment asked twice
    assert report["overall"]["n"] == 0 and report["overall"]["errors"] == 6
    assert report["overall"]["win_rate_adjusted"] is None
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "judgments.jsonl").read_text().splitlines()
    ]
    assert all(r["error"] == "no_verdict" and r["attempts"] == 2 and r["raw"] for r in rows)


def test_mismatched_ids_name_the_missing_ones(tmp_path):
    a = write_answers(tmp_path / "a", "x")
    b = write_answers(tmp_path / "b", "y", drop={"2", "3"})
    with pytest.raises(
        PlugdataError, match=r"ids differ \(es missing from B: 2, 3; zh missing from B: 2, 3\)"
    ):
        judge_folders(a, b, tmp_path / "out", judge_model="j", base_url="http://127.0.0.1:9/v1")
    report, requests = judged(a, b, tmp_path / "out", "tie", intersect=True)
    assert report["overall"]["n"] == 2 and report["languages"]["zh"]["dropped"] == 2
    assert len(requests) == 4


def test_an_empty_answer_is_judged_not_skipped(tmp_path):
    a = write_answers(tmp_path / "a", "GOOD")
    b = tmp_path / "b"
    b.mkdir()
    for lang, items in ITEMS.items():
        rows = [{"id": i, "instruction": t, "answer": None if i == "1" else ""} for i, t in items]
        (b / f"{lang}.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    report, requests = judged(a, b, tmp_path / "out", "marker:GOOD")
    assert len(requests) == 12 and report["overall"]["strict"]["win"] == 6
    prompts = [r["messages"][1]["content"] for r in requests]
    assert sum("<answer_b>\n\n</answer_b>" in p for p in prompts) == 6  # B shown second, empty
    assert sum("<answer_a>\n\n</answer_a>" in p for p in prompts) == 6  # B shown first, empty


def test_wrong_language_answers_can_count_as_losses(tmp_path):
    a = write_answers(tmp_path / "a", "x", wrong_language=True)
    b = write_answers(tmp_path / "b", "y")
    report, requests = judged(a, b, tmp_path / "out", "first", wrong_language="loss")
    assert requests == [] and report["overall"]["strict"]["loss"] == 6
    assert report["overall"]["wrong_language"] == {"a": 6, "b": 0}
    report, requests = judged(a, b, tmp_path / "judged", "first", wrong_language="judge")
    assert len(requests) == 12 and report["overall"]["strict"]["tie"] == 6


def test_judge_mode_keeps_translating():
    import asyncio

    async def ask(url: str) -> tuple[str, str]:
        client = ChatClient("m", base_url=url)
        translated = await client.chat(
            [
                {"role": "system", "content": "Translate into Chinese (zh)."},
                {"role": "user", "content": json.dumps({"instruction": "Hi"})},
            ]
        )
        verdict = await client.chat(
            [{"role": "user", "content": "<answer_a>\nx\n</answer_a>\n<answer_b>\ny\n</answer_b>"}]
        )
        await client.close()
        return translated.content, verdict.content

    with FakeOpenAIServer(judge="second") as srv:
        translated, verdict = asyncio.run(ask(srv.url))
    assert json.loads(translated) == {"instruction": "[zh] Hi"}
    assert parse_verdict(verdict) == "B"
    assert parse_verdict(judge_policy("longer")("long answer", "short")) == "A"
    with pytest.raises(ValueError, match="unknown judge policy"):
        judge_policy("random")

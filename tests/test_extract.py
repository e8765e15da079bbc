import json

import pytest

from plugdata.formats import format_rows
from plugdata.formats.extract import extract_rows, extract_target

from .conftest import run_cli


@pytest.mark.parametrize("target", ["zh", "ko", "it", "es", "ja", "fr"])
def test_round_trip_with_the_plug_format(target):
    pair = {
        "id": "1",
        "pivot_lang": "en",
        "target_lang": target,
        "pivot_instruction": "Q",
        "pivot_input": "",
        "pivot_output": "The answer.",
        "target_instruction": "q",
        "target_input": "",
        "target_output": "LA RISPOSTA\n\nsecond line",
        "kept": True,
    }
    text = format_rows([pair], "plug")[0]["messages"][2]["content"]
    assert extract_target(text, target).answer == "LA RISPOSTA\n\nsecond line"
    assert extract_target(text, target).status == "ok"


@pytest.mark.parametrize(
    ("text", "answer", "status"),
    [
        ("English response: hi\n\n中文回复：你好", "你好", "ok"),
        ("English response: hi\n\n中文回复:你好", "你好", "ok"),  # half-width colon
        ("English response: hi\n\n中文回复 ： 你好", "你好", "ok"),
        ("English response: hi\n\n中文回复：你好\n\nEnglish instruction: again", "你好", "ok"),
        ("中文回复：草稿\n\nEnglish response: hi\n\n中文回复：最终", "最终", "ok"),  # repeated
        ("English instruction: Q\n\nEnglish response: only English", None, "pivot_only"),
        ("just some text", None, "label_missing"),
        ("English response: hi\n\n中文回复：   ", None, "empty"),
    ],
)
def test_extraction_cases(text, answer, status):
    result = extract_target(text, "zh")
    assert (result.answer, result.status) == (answer, status)


def test_labels_tolerate_case_and_missing_spaces():
    assert extract_target("english RESPONSE:x\nrisposta IN italiano:ciao", "it").answer == "ciao"
    assert extract_target("Respuesta en español:hola", "es").answer == "hola"


def test_extract_rows_counts_statuses():
    rows = [
        {"output": "中文回复：好"},
        {"output": "English response: x"},
        {"text": 3},
        {"output": "   "},
        {"output": "Just an answer."},
    ]
    out, counts = extract_rows(rows, "zh")
    assert [r["status"] for r in out] == ["ok", "pivot_only", "empty", "empty", "label_missing"]
    assert counts == {"ok": 1, "label_missing": 1, "pivot_only": 1, "empty": 2}


def test_extract_command(tmp_path):
    path = tmp_path / "preds.jsonl"
    rows = [
        {"id": 1, "generated": "English response: a\n\n한국어 응답: 안녕"},
        {"id": 2, "generated": "English response: only"},
    ]
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    result = run_cli("extract", str(path), "--target", "ko", "--field", "generated")
    assert result.returncode == 0, result.stderr
    out = [json.loads(x) for x in (tmp_path / "preds.extracted.jsonl").read_text().splitlines()]
    assert [(r["answer"], r["status"]) for r in out] == [("안녕", "ok"), (None, "pivot_only")]
    assert "pivot_only" in result.stdout
    json_path = tmp_path / "preds.json"
    json_path.write_text(
        json.dumps([{"output": "English response: a\n\n中文回复：好"}]), encoding="utf-8"
    )
    dest = tmp_path / "answers.json"
    assert run_cli("extract", str(json_path), "--target", "zh", "--out", str(dest)).returncode == 0
    assert json.loads(dest.read_text())[0]["answer"] == "好"
    bad = run_cli("extract", str(tmp_path / "missing.jsonl"), "--target", "zh")
    assert bad.returncode == 2 and "missing.jsonl" in bad.stderr

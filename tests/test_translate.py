import asyncio
import json

import pytest

from plugdata import translate_rows
from plugdata.errors import ServerError
from plugdata.languages import get_language
from plugdata.schema import PAIR_COLUMNS
from plugdata.testing import FakeOpenAIServer
from plugdata.testing.faults import Fault
from plugdata.translate.llm import openai_translator, parse_reply

EN, ZH = get_language("en"), get_language("zh")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"instruction": "a", "output": "b"}', {"instruction": "a", "output": "b"}),
        ('```json\n{"instruction": "a", "output": "b"}\n```', {"instruction": "a", "output": "b"}),
        ("Here you go: {", "invalid_json"),
        ('["a"]', "not_object"),
        ('{"instruction": "a"}', "missing_keys"),
        ('{"instruction": "a", "output": "b", "note": "c"}', "unexpected_keys"),
        ('{"instruction": "a", "output": 3}', "non_string_value"),
    ],
)
def test_parse_reply(content, expected):
    assert parse_reply(content, ["instruction", "output"]) == expected


def test_record_with_code_placeholders_and_empty_input_round_trips(server):
    record = {
        "id": "r1",
        "source": "t",
        "instruction": "Explain `{name}` in:",
        "input": "",
        "output": "```python\nprint('{name}', 100)\n```\nSee https://example.com/a?b=1.",
    }
    pairs = translate_rows([record], ["zh"], openai_translator("m", base_url=server.url))
    (pair,) = pairs
    assert tuple(pair) == PAIR_COLUMNS
    assert pair["kept"] and pair["reasons"] == []
    assert pair["target_instruction"] == "[zh] Explain `{name}` in:"
    assert pair["target_input"] == ""
    assert pair["target_output"] == "[zh] " + record["output"]
    assert (pair["pivot_lang"], pair["target_lang"], pair["attempts"]) == ("en", "zh", 1)
    assert pair["prompt_version"] == "translate/v1" and pair["model"] == "m"
    assert pair["prompt_tokens"] > 0 and pair["finish_reason"] == "stop"
    body = server.requests[0]
    payload = json.loads(body["messages"][1]["content"])
    # code, placeholders and URLs travel as markers and come back untouched
    assert payload == {"instruction": "Explain [[P1]] in:", "output": "[[P2]]\nSee [[P3]]."}
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["instruction", "output"]
    system = body["messages"][0]["content"]
    assert "into Chinese (zh)" in system and "Never answer" in system and "[[P1]]" in system


def test_falls_back_to_json_object_when_schema_is_unsupported():
    with FakeOpenAIServer(json_schema=False) as srv:
        translator = openai_translator("m", base_url=srv.url)
        pairs = translate_rows(
            [{"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}],
            ["ko", "it"],
            translator,
            concurrency=1,
        )
    assert all(p["kept"] for p in pairs)
    assert translator.client.response_format == "json_object"
    formats = [(b.get("response_format") or {}).get("type") for b in srv.requests]
    assert formats == ["json_schema", "json_object", "json_object"]


def test_invalid_reply_is_retried_then_rejected_with_reason():
    with FakeOpenAIServer(
        fault=lambda body, n: Fault(content="Sure! Here is the translation")
    ) as srv:
        (pair,) = translate_rows(
            [{"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}],
            ["es"],
            openai_translator("m", base_url=srv.url),
        )
    assert not pair["kept"] and pair["reasons"] == ["invalid_json"]
    # three tries of the whole record, then three of the first field alone, then give up
    assert pair["target_output"] is None and pair["attempts"] == 6 and len(srv.requests) == 6


def test_a_bad_first_reply_is_repaired_by_the_second_attempt():
    def fault(body, n):
        return Fault(content='{"instruction": "x"}') if n == 1 else None

    with FakeOpenAIServer(fault=fault) as srv:
        (pair,) = translate_rows(
            [{"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}],
            ["es"],
            openai_translator("m", base_url=srv.url),
        )
    assert pair["kept"] and pair["attempts"] == 2 and pair["target_output"] == "[es] Yo"


def test_truncated_reply_is_rejected():
    fault = Fault(content='{"instruction": "x", "output": "y"}', finish_reason="length")
    with FakeOpenAIServer(fault=lambda body, n: fault) as srv:
        (pair,) = translate_rows(
            [{"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}],
            ["es"],
            openai_translator("m", base_url=srv.url),
        )
    assert pair["reasons"] == ["truncated"]


def test_wrong_key_stops_with_a_clear_error():
    with FakeOpenAIServer(api_key="right") as srv:
        translator = openai_translator("m", base_url=srv.url, api_key="wrong")
        with pytest.raises(ServerError, match=r"rejected the API key \(401\)"):
            translate_rows(
                [{"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}], ["es"], translator
            )


def test_unknown_model_is_a_clear_error():
    row = {"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}
    with (
        FakeOpenAIServer(models={"good"}) as srv,
        pytest.raises(ServerError, match=r"model 'bad' .*404"),
    ):
        translate_rows([row], ["es"], openai_translator("bad", base_url=srv.url))


def test_messages_keep_order_across_targets_with_concurrency(server, records):
    rows = [{"id": str(i), **r} for i, r in enumerate(records * 4)]
    pairs = translate_rows(
        rows, ["zh", "ko"], openai_translator("m", base_url=server.url), concurrency=5
    )
    assert [(p["target_lang"], p["id"]) for p in pairs] == [
        (lang, row["id"]) for lang in ("zh", "ko") for row in rows
    ]
    assert len(server.requests) == 24


def test_translator_can_be_reused_across_event_loops(server):
    translator = openai_translator("m", base_url=server.url)
    row = {"id": "1", "instruction": "Hi", "input": "", "output": "Yo"}
    assert translate_rows([row], ["zh"], translator)[0]["kept"]
    assert translate_rows([row], ["ko"], translator)[0]["kept"]
    result = asyncio.run(translator.translate({"instruction": "Hi"}, EN, ZH))
    assert result.fields == {"instruction": "[zh] Hi"}

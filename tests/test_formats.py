import polars as pl
import pytest

from plugdata.errors import PlugdataError
from plugdata.formats import format_names, format_rows


def pair(target, **overrides):
    row = {
        "id": "abc",
        "pivot_lang": "en",
        "target_lang": target,
        "pivot_instruction": "Add the numbers.",
        "pivot_input": "2, 3",
        "pivot_output": "The sum is 5.",
        "target_instruction": f"<{target} instruction>",
        "target_input": "2, 3",
        "target_output": f"<{target} answer>",
        "kept": True,
    }
    row.update(overrides)
    return row


EXPECTED_PLUG = {
    "zh": "English instruction: Add the numbers.\n\n2, 3\n\n"
    "English response: The sum is 5.\n\n中文回复：<zh answer>",
    "ko": "English instruction: Add the numbers.\n\n2, 3\n\n"
    "English response: The sum is 5.\n\n한국어 응답: <ko answer>",
    "it": "English instruction: Add the numbers.\n\n2, 3\n\n"
    "English response: The sum is 5.\n\nRisposta in italiano: <it answer>",
    "es": "English instruction: Add the numbers.\n\n2, 3\n\n"
    "English response: The sum is 5.\n\nRespuesta en español: <es answer>",
}
LANG_NAMES = {"zh": "Chinese", "ko": "Korean", "it": "Italian", "es": "Spanish"}


@pytest.mark.parametrize("target", ["zh", "ko", "it", "es"])
def test_exact_plug_text(target):
    (row,) = format_rows([pair(target)], "plug")
    assert row["id"] == "abc" and row["format"] == "plug" and row["target_lang"] == target
    system, user, assistant = row["messages"]
    assert system == {
        "role": "system",
        "content": f"You are a helpful assistant. The user writes in {LANG_NAMES[target]}. "
        f"First restate the request in English, then answer it in English, and finally answer "
        f"it in {LANG_NAMES[target]}.",
    }
    assert user == {"role": "user", "content": f"<{target} instruction>\n\n2, 3"}
    assert assistant == {"role": "assistant", "content": EXPECTED_PLUG[target]}


def test_plug_without_input_has_no_blank_block():
    (row,) = format_rows([pair("zh", pivot_input="", target_input="")], "plug")
    assert row["messages"][1]["content"] == "<zh instruction>"
    assert row["messages"][2]["content"] == (
        "English instruction: Add the numbers.\n\nEnglish response: The sum is 5.\n\n"
        "中文回复：<zh answer>"
    )


def test_baselines():
    p = pair("ko")
    mono = format_rows([p], "mono")[0]["messages"]
    assert mono[1:] == [
        {"role": "user", "content": "<ko instruction>\n\n2, 3"},
        {"role": "assistant", "content": "<ko answer>"},
    ]
    assert "Korean" in mono[0]["content"]
    pivot = format_rows([p], "pivot-only")[0]["messages"]
    assert pivot[1:] == [
        {"role": "user", "content": "Add the numbers.\n\n2, 3"},
        {"role": "assistant", "content": "The sum is 5."},
    ]
    switch = format_rows([p], "code-switch")[0]["messages"]
    assert switch[1]["content"] == "<ko instruction>\n\n2, 3"
    assert switch[2]["content"] == "The sum is 5." and "English" in switch[0]["content"]
    first = format_rows([p], "plug-target-first")[0]["messages"][2]["content"]
    assert first.startswith("한국어 응답: <ko answer>\n\nEnglish instruction: Add the numbers.")


def test_multilingual_mixes_pivot_and_mono_rows_with_a_seed():
    pairs = [pair("zh", id=str(i)) for i in range(10)]
    rows = format_rows(pairs, "multilingual", seed=1)
    assert len(rows) == 20 and {r["format"] for r in rows} == {"multilingual"}
    assert sorted(r["id"] for r in rows) == sorted(
        [f"{i}:pivot-only" for i in range(10)] + [f"{i}:mono" for i in range(10)]
    )
    assert rows == format_rows(pairs, "multilingual", seed=1)
    assert rows != format_rows(pairs, "multilingual", seed=2)


def test_system_prompt_override_and_no_system():
    p = pair("it")
    custom = format_rows([p], "plug", system_prompt="Think in {pivot}, reply in {target}.")
    assert custom[0]["messages"][0]["content"] == "Think in English, reply in Italian."
    folded = format_rows([p], "plug", no_system=True)[0]["messages"]
    assert [m["role"] for m in folded] == ["user", "assistant"]
    assert folded[0]["content"].startswith("You are a helpful assistant.")
    assert folded[0]["content"].endswith("\n\n<it instruction>\n\n2, 3")
    bare = format_rows([p], "plug", system_prompt="")[0]["messages"]
    assert [m["role"] for m in bare] == ["user", "assistant"]


def test_rejected_pairs_are_skipped_and_unknown_format_is_an_error():
    assert format_rows([pair("zh", kept=False)], "plug") == []
    with pytest.raises(PlugdataError, match="unknown format 'nope'"):
        format_rows([pair("zh")], "nope")
    assert set(format_names()) >= {"plug", "mono", "pivot-only", "code-switch", "multilingual"}


def test_shuffled_writer_order_depends_on_rows_and_seed_not_on_how_they_were_written(tmp_path):
    from plugdata.publish import ShuffledWriter
    from plugdata.schema import FORMAT_SCHEMA

    rows = [
        {
            "id": f"r{i}",
            "format": fmt,
            "pivot_lang": "en",
            "target_lang": "zh",
            "messages": [{"role": "user", "content": str(i)}],
        }
        for i in range(50)
        for fmt in ("mono", "pivot-only")
    ]

    def written(parts: list[list[dict]], name: str, seed: int = 3) -> list[tuple[str, str]]:
        writer = ShuffledWriter(tmp_path / name, FORMAT_SCHEMA, seed, buckets=3)
        for part in parts:
            writer.write(pl.DataFrame(part, schema=FORMAT_SCHEMA))
        writer.close()
        return list(pl.read_parquet(tmp_path / name).select("id", "format").iter_rows())

    whole = written([rows], "a.parquet")
    by_format = written([rows[1::2], rows[::2]], "b.parquet")
    in_chunks = written([rows[i : i + 7] for i in range(0, len(rows), 7)], "c.parquet")
    assert whole == by_format == in_chunks and sorted(whole) == sorted(
        (r["id"], r["format"]) for r in rows
    )
    assert written([rows], "d.parquet", seed=4) != whole

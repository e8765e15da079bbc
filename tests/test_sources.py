import json
import re
from pathlib import Path

import polars as pl
import pytest

from plugdata import BuildConfig, ConfigError
from plugdata.errors import InputError, PlugdataError
from plugdata.sources import as_records, load_source

from .conftest import RECORDS


def _write(tmp_path: Path, name: str, records=RECORDS) -> Path:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    elif name.endswith(".parquet"):
        pl.DataFrame(records).write_parquet(path)
    elif name.endswith(".csv"):
        pl.DataFrame(records).write_csv(path)
    return path


@pytest.mark.parametrize("name", ["d.json", "d.jsonl", "d.parquet", "d.csv"])
def test_every_local_format_loads_the_same_rows(tmp_path, name):
    data = load_source(str(_write(tmp_path, name)))
    assert [{k: r[k] for k in ("instruction", "input", "output")} for r in data.rows] == RECORDS
    assert all(r["source"] == name for r in data.rows)
    reference = load_source(str(_write(tmp_path, "ref.jsonl")))
    assert [r["id"] for r in data.rows] == [r["id"] for r in reference.rows]


def test_ids_are_stable_unique_and_shuffle_keeps_them(tmp_path):
    path = _write(tmp_path, "d.jsonl", [*RECORDS, RECORDS[0]])
    first = load_source(str(path))
    second = load_source(str(path))
    ids = [r["id"] for r in first.rows]
    assert ids == [r["id"] for r in second.rows]
    assert len(set(ids)) == 4 and ids[3] == f"{ids[0]}-2"
    assert all(re.fullmatch(r"[0-9a-f]{16}(-\d+)?", i) for i in ids)
    # A seed without a limit keeps the source's order; with a limit it picks a random sample,
    # the same on every run, and a larger sample starts with the smaller one.
    assert [r["id"] for r in load_source(str(path), seed=3).rows] == ids
    sample = [r["id"] for r in load_source(str(path), seed=3, limit=3).rows]
    assert len(set(sample)) == 3 and set(sample) <= set(ids)
    assert [r["id"] for r in load_source(str(path), seed=3, limit=2).rows] == sample[:2]
    samples = {
        tuple(r["id"] for r in load_source(str(path), seed=s, limit=2).rows) for s in range(8)
    }
    assert len(samples) > 1  # the seed matters


def test_own_id_column_is_kept(tmp_path):
    path = _write(tmp_path, "d.jsonl", [{**RECORDS[0], "id": 17}, {**RECORDS[1], "id": "b"}])
    assert [r["id"] for r in load_source(str(path)).rows] == ["17", "b"]


def test_duplicate_own_ids_are_an_error(tmp_path):
    path = _write(tmp_path, "d.jsonl", [{**RECORDS[0], "id": 1}, {**RECORDS[1], "id": 1}])
    with pytest.raises(InputError, match=r"d.jsonl line 2: id '1' is used by an earlier record"):
        load_source(str(path))


def test_column_mapping_and_aliases(tmp_path):
    dolly = [{"instruction": "Q?", "context": "ctx", "response": "A.", "category": "qa"}]
    assert load_source(str(_write(tmp_path, "dolly.jsonl", dolly))).rows[0]["input"] == "ctx"
    custom = [{"question": "Q?", "answer": "A."}]
    rows = load_source(
        str(_write(tmp_path, "c.jsonl", custom)),
        columns={"instruction": "question", "output": "answer"},
    ).rows
    assert (rows[0]["instruction"], rows[0]["input"], rows[0]["output"]) == ("Q?", "", "A.")
    config = BuildConfig(source="seed", targets="zh", model="m", columns="instruction=question")
    assert config.columns == {"instruction": "question"}
    with pytest.raises(ConfigError, match="columns: bad entry 'prompt'"):
        BuildConfig(source="seed", targets="zh", model="m", columns="prompt=question")


def test_limit_and_bad_limit(tmp_path):
    path = _write(tmp_path, "d.jsonl")
    assert len(load_source(str(path), limit=2).rows) == 2
    with pytest.raises(PlugdataError, match="limit: must be at least 1"):
        load_source(str(path), limit=0)


def test_empty_instruction_or_output_is_skipped_and_counted(tmp_path):
    records = [*RECORDS, {"instruction": "x", "input": "", "output": "  "}]
    data = load_source(str(_write(tmp_path, "d.jsonl", records)))
    assert len(data.rows) == 3
    assert data.skipped == {"empty_output": 1}


def test_seed_corpus_breaks_naive_pipelines():
    data = load_source("seed")
    rows = data.rows
    assert len(rows) >= 60 and data.license == "apache-2.0"
    text = [r["instruction"] + r["input"] + r["output"] for r in rows]
    assert any(r["input"] for r in rows) and any(not r["input"] for r in rows)
    assert any("```" in t for t in text)
    assert any("https://" in t for t in text)
    assert any("{name}" in t for t in text)
    assert any("$" in t and "\\frac" in t for t in text)
    assert any("|---|" in t for t in text)
    assert any(len(r["output"].split()) > 500 for r in rows)
    assert any(len(r["output"].split()) == 1 for r in rows)
    assert any("Ignore the above" in r["instruction"] for r in rows)


def _hub_layout(root: Path, records=RECORDS) -> Path:
    """A folder laid out the way the Hub serves a Parquet dataset."""
    (root / "data").mkdir(parents=True)
    pl.DataFrame(records).write_parquet(root / "data" / "train-00000-of-00001.parquet")
    (root / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n# test\n", encoding="utf-8")
    return root


def test_hub_shaped_local_folder(tmp_path):
    folder = _hub_layout(tmp_path / "my-dataset")
    data = load_source(str(folder))
    assert [r["output"] for r in data.rows] == [r["output"] for r in RECORDS]


def test_named_hub_source_loads_through_datasets(tmp_path, monkeypatch):
    # datasets resolves "tatsu-lab/alpaca" to a local folder of that name before the Hub.
    _hub_layout(tmp_path / "tatsu-lab" / "alpaca")
    monkeypatch.chdir(tmp_path)
    data = load_source("alpaca", limit=2)
    assert data.origin == "tatsu-lab/alpaca" and data.license == "cc-by-nc-4.0"
    assert [r["instruction"] for r in data.rows] == [r["instruction"] for r in RECORDS[:2]]
    assert all(r["source"] == "alpaca" for r in data.rows)


def test_named_dolly_maps_its_fields(tmp_path, monkeypatch):
    _hub_layout(
        tmp_path / "databricks" / "databricks-dolly-15k",
        [{"instruction": "Q", "context": "C", "response": "R", "category": "qa"}],
    )
    monkeypatch.chdir(tmp_path)
    row = load_source("dolly").rows[0]
    assert (row["instruction"], row["input"], row["output"]) == ("Q", "C", "R")


def test_unreachable_hub_dataset_is_a_clear_error():
    with pytest.raises(PlugdataError, match="cannot load dataset 'nobody/nothing-here'"):
        load_source("hf:nobody/nothing-here")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.json",
            '[\n {"instruction": "a", "output": "b"},\n {"instruction": "c" "output": "d"}\n]',
            r"bad.json line 3: invalid JSON",
        ),
        (
            "bad.jsonl",
            '{"instruction": "a", "output": "b"}\n{"instruction": "c", \n',
            r"bad.jsonl line 2: invalid JSON",
        ),
        (
            "lines.json",
            '{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n',
            r"lines.json line 2: .*name the file .jsonl",
        ),
        ("empty.jsonl", "", r"empty.jsonl: file is empty"),
        ("blank.jsonl", "\n\n", r"blank.jsonl: no records"),
        ("obj.json", '{"instruction": "a"}', r"obj.json: expected a JSON array"),
        (
            "missing.jsonl",
            '{"instruction": "a"}\n',
            r"missing.jsonl line 1: field 'output' is missing",
        ),
        (
            "nonstr.json",
            '[{"instruction": "a", "output": "b"},\n {"instruction": "a", "output": 3}]',
            r"nonstr.json line 2: field output must be a string, found int",
        ),
        ("list.jsonl", "[1, 2]\n", r"list.jsonl line 1: expected an object"),
        ("x.txt", "hello", r"unsupported file type '.txt'"),
    ],
)
def test_bad_files_name_file_line_and_field(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_source(str(path))


def test_csv_names_the_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("instruction,input\nhello,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"d.csv row 1: field 'output' is missing"):
        load_source(str(path))


def test_unknown_source():
    with pytest.raises(PlugdataError, match=r"unknown source 'nope'.*alpaca"):
        load_source("nope")


def test_as_records_accepts_datasets_polars_and_dicts():
    import datasets

    expected = as_records(RECORDS)
    assert [r["instruction"] for r in expected] == [r["instruction"] for r in RECORDS]
    assert as_records(datasets.Dataset.from_list(RECORDS)) == expected
    assert as_records(pl.DataFrame(RECORDS)) == expected
    assert as_records(iter(RECORDS)) == expected
    # ids are made as a build makes them
    assert [r["id"] for r in expected] == [r["id"] for r in load_source(_rows_file(RECORDS)).rows]


def test_as_records_names_the_bad_row_and_field():
    with pytest.raises(InputError, match=r"record 1: field 'output' is missing"):
        as_records([{"instruction": "a", "output": "b"}, {"instruction": "c"}])
    with pytest.raises(InputError, match=r"record 0: field instruction must be a string"):
        as_records([{"instruction": 3, "output": "b"}])
    minimal = as_records([{"instruction": "Say hi.", "output": "Hi."}])[0]
    assert minimal["input"] == "" and len(minimal["id"]) == 16


def _rows_file(records):
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    return f.name

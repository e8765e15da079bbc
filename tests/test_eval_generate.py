"""`plugdata eval generate`: benchmark files, the training recipe, extraction, the language gate
and generation with a tiny local model and through the bundled server."""

import json
from pathlib import Path

import pytest

from plugdata.errors import InputError, PlugdataError
from plugdata.eval.benchmark import Item, load_benchmark
from plugdata.eval.engines import Reply
from plugdata.eval.gate import language_gate
from plugdata.eval.generate import answer_row, generate_answers
from plugdata.eval.recipe import Recipe, prompt_messages, resolve_recipe
from plugdata.formats import format_rows
from plugdata.testing.server import FakeOpenAIServer

BENCH = {
    "zh": ["说出一种颜色。", "写一首关于春天的短诗。", "解释一下重力是什么。"],
    "es": [
        "Nombra un color.",
        "Escribe un poema corto sobre la primavera.",
        "Explica qué es la gravedad.",
    ],
}


def write_benchmark(folder: Path, jsonl: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for lang, texts in BENCH.items():
        rows = [{"id": i + 1, "dataset": "test", "instruction": t} for i, t in enumerate(texts)]
        if jsonl:
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            (folder / f"{lang}.jsonl").write_text(text, encoding="utf-8")
        else:
            (folder / f"{lang}.json").write_text(
                json.dumps(rows, ensure_ascii=False), encoding="utf-8"
            )
    return folder


def test_benchmark_from_folders_and_files(tmp_path):
    for jsonl in (False, True):
        items = load_benchmark(str(write_benchmark(tmp_path / f"b{jsonl}", jsonl)), ["zh", "es"])
        assert items["es"][0] == Item("1", "Nombra un color.") and len(items["zh"]) == 3
    assert len(load_benchmark(str(tmp_path / "bFalse"), ["zh"], limit=2)["zh"]) == 2
    one = str(tmp_path / "bFalse" / "zh.json")
    assert load_benchmark(one, ["zh"])["zh"][1].id == "2"
    with pytest.raises(PlugdataError, match="one file: give one language"):
        load_benchmark(one, ["zh", "es"])
    with pytest.raises(PlugdataError, match=r"no ko\.json or ko\.jsonl"):
        load_benchmark(str(tmp_path / "bFalse"), ["ko"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match="record 1 has no field 'instruction'"):
        load_benchmark(str(bad), ["zh"])


def test_prompts_are_the_training_rows_without_the_answer():
    pair = {
        "id": "x",
        "pivot_lang": "en",
        "target_lang": "zh",
        "pivot_instruction": "说出一种颜色。",
        "pivot_input": "",
        "pivot_output": "",
        "target_instruction": "说出一种颜色。",
        "target_input": "",
        "target_output": "",
    }
    for fmt, system, no_system in (
        ("plug", None, False),
        ("mono", "Be brief in {target}.", False),
        ("plug", None, True),
    ):
        recipe = Recipe(fmt, system, no_system)
        (row,) = format_rows([pair], fmt, system_prompt=system, no_system=no_system)
        assert prompt_messages(recipe, "说出一种颜色。", "zh") == row["messages"][:-1]
    plug = prompt_messages(Recipe(), "说出一种颜色。", "zh")
    assert plug[0]["role"] == "system" and "Chinese" in plug[0]["content"]
    assert (
        prompt_messages(Recipe("mono", "Be brief in {target}."), "x", "zh")[0]["content"]
        == "Be brief in Chinese."
    )
    assert [m["role"] for m in prompt_messages(Recipe(no_system=True), "x", "zh")] == ["user"]


def test_the_recipe_comes_from_training_and_flags_cannot_contradict_it(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(
        "system_prompt: Answer in {target}, briefly.\nno_system: false\npivot: en\n",
        encoding="utf-8",
    )
    model = tmp_path / "sft" / "final"
    model.mkdir(parents=True)
    (model.parent / "plugdata_train.json").write_text(
        json.dumps({"format": "mono", "data": str(run)})
    )
    recipe = resolve_recipe(str(model))
    assert (recipe.format, recipe.system_prompt) == ("mono", "Answer in {target}, briefly.")
    assert recipe.sources["format"].endswith("plugdata_train.json")
    assert recipe.sources["system_prompt"].endswith("config.yaml")
    assert resolve_recipe(str(model), format="mono").format == "mono"  # agreeing is fine
    with pytest.raises(PlugdataError, match="--format 'plug' contradicts 'mono'"):
        resolve_recipe(str(model), format="plug")
    flags = resolve_recipe(str(tmp_path / "elsewhere"), format="mono", pivot="es")
    assert (flags.format, flags.pivot, flags.sources["format"]) == ("mono", "es", "flag")
    assert resolve_recipe(None, data=str(run)).system_prompt == "Answer in {target}, briefly."
    assert resolve_recipe(None).sources == dict.fromkeys(
        ("format", "system_prompt", "no_system", "pivot"), "default"
    )
    with pytest.raises(PlugdataError, match="unknown format 'nope'"):
        resolve_recipe(None, format="nope")


@pytest.mark.parametrize(
    ("output", "answer", "status"),
    [
        (
            "English instruction: Name a colour.\n\nEnglish response: Red.\n\n中文回复：红色。",
            "红色。",
            "ok",
        ),
        ("English instruction: Name a colour.\n\nEnglish response: Red.", "", "pivot_only"),
        ("红色。", "", "label_missing"),
        ("", "", "empty"),
    ],
)
def test_plug_answers_are_the_target_block_and_never_the_pivot(output, answer, status):
    row = answer_row(Item("1", "说出一种颜色。"), Reply(output), Recipe(), "zh")
    assert (row["answer"], row["status"], row["output"]) == (answer, status, output)
    mono = answer_row(Item("1", "x"), Reply(f" {output} "), Recipe("mono"), "zh")
    assert mono["answer"] == output.strip() and mono["status"] == ("ok" if output else "empty")
    failed = answer_row(Item("1", "x"), Reply("", "error", "server_error"), Recipe(), "zh")
    assert (failed["status"], failed["error"], failed["answer"]) == ("error", "server_error", "")


def test_the_language_gate_flags_answers_in_another_language():
    rows = [
        {"answer": "红色是一种温暖而明亮的颜色，常常代表喜庆和好运。"},
        {"answer": "Red is a warm and bright colour that often stands for luck."},
        {"answer": ""},
    ]
    assert language_gate(rows, "zh") == 1
    assert [r["wrong_language"] for r in rows] == [False, True, None]
    assert rows[1]["lid_lang"] == "en" and rows[0]["lid_target"] > 0.5


def test_generation_through_an_endpoint_counts_statuses_and_resumes(tmp_path):
    bench = write_benchmark(tmp_path / "bench")
    with FakeOpenAIServer() as srv:
        summary = generate_answers(
            "m",
            tmp_path / "out",
            Recipe(),
            langs=["zh", "es"],
            benchmark=str(bench),
            base_url=srv.url,
        )
        sent = len(srv.requests)
        again = generate_answers(
            "m",
            tmp_path / "out",
            Recipe(),
            langs=["zh", "es"],
            benchmark=str(bench),
            base_url=srv.url,
        )
        assert len(srv.requests) == sent == 6  # the second run replays the cache
    assert again["languages"] == summary["languages"]
    # the fake server answers without PLUG labels: every answer is missing its label
    assert summary["languages"]["zh"]["statuses"]["label_missing"] == 3
    rows = [json.loads(x) for x in (tmp_path / "out" / "zh.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert all(r["answer"] == "" and r["output"] and r["wrong_language"] is None for r in rows)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    from plugdata.testing.tiny import tiny_llama, tiny_tokenizer

    texts = [t for texts in BENCH.values() for t in texts] + [
        "中文回复：红色。English response: Red."
    ]
    tokenizer = tiny_tokenizer(texts * 3, vocab_size=400)
    path = tmp_path_factory.mktemp("model") / "tiny"
    tiny_llama(tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_generation_with_a_tiny_local_model(tmp_path, tiny_model):
    bench = write_benchmark(tmp_path / "bench")
    out = tmp_path / "out"
    engines = []
    summary = generate_answers(
        str(tiny_model),
        out,
        Recipe(),
        langs=["zh", "es"],
        benchmark=str(bench),
        engine="transformers",
        batch_size=2,
        max_new_tokens=12,
        on_engine=engines.append,
    )
    assert engines[0].name == "transformers" and engines[0].tokenizer.padding_side == "left"
    for lang in ("zh", "es"):
        rows = [json.loads(x) for x in (out / f"{lang}.jsonl").read_text().splitlines()]
        assert len(rows) == 3 and {"id", "instruction", "output", "answer", "status"} <= set(
            rows[0]
        )
        stats = summary["languages"][lang]
        assert sum(stats["statuses"].values()) == 3 and stats["statuses"]["error"] == 0
        assert (
            sum(r["status"] == "label_missing" for r in rows) == stats["statuses"]["label_missing"]
        )
        assert all(r["output"] for r in rows) and stats["truncated"] >= 1
    saved = json.loads((out / "generation.json").read_text())
    assert saved["recipe"]["format"] == "plug" and saved["engine"] == "transformers"
    assert "Chinese" in saved["languages"]["zh"]["prompt"][0]["content"]
    # greedy and cached: a second run generates nothing and writes the same answers
    first = (out / "zh.jsonl").read_text()
    generate_answers(
        str(tiny_model),
        out,
        Recipe(),
        langs=["zh", "es"],
        benchmark=str(bench),
        engine="transformers",
        batch_size=3,
        max_new_tokens=12,
        on_engine=lambda e: setattr(e, "_run", None),
    )
    assert (out / "zh.jsonl").read_text() == first


def test_batched_generation_equals_one_at_a_time(tmp_path, tiny_model):
    from plugdata.eval.engines import TransformersEngine
    from plugdata.translate.cache import RequestCache

    prompts = [prompt_messages(Recipe(), text, "zh") for text in BENCH["zh"]]
    with RequestCache(tmp_path / "a.sqlite") as one, RequestCache(tmp_path / "b.sqlite") as many:
        single = TransformersEngine(str(tiny_model), one, batch_size=1, max_new_tokens=8)
        batched = TransformersEngine(str(tiny_model), many, batch_size=3, max_new_tokens=8)
        assert single.generate(prompts) == batched.generate(prompts)  # left padding is invisible


def test_plug_replies_through_an_endpoint_are_extracted_and_gated(tmp_path):
    bench = write_benchmark(tmp_path / "bench")

    def plug_reply(prompt: str, lang: str) -> str:
        pivot = "English instruction: Name a colour.\n\nEnglish response: Red is a warm colour."
        if "颜色" in prompt:  # zh item 1: a full PLUG reply
            return f"{pivot}\n\n中文回复：红色是一种温暖而明亮的颜色，常常代表喜庆。"
        if "poema" in prompt:  # es item 2: the target block written in English
            return f"{pivot}\n\nRespuesta en español: Spring comes with flowers and a warm sun."
        return pivot  # everything else: pivot only

    with FakeOpenAIServer(answer=plug_reply) as srv:
        summary = generate_answers(
            "m",
            tmp_path / "out",
            Recipe(),
            langs=["zh", "es"],
            benchmark=str(bench),
            base_url=srv.url,
        )
    zh, es = summary["languages"]["zh"], summary["languages"]["es"]
    assert (zh["statuses"]["ok"], zh["statuses"]["pivot_only"], zh["wrong_language"]) == (1, 2, 0)
    assert (es["statuses"]["ok"], es["statuses"]["pivot_only"], es["wrong_language"]) == (1, 2, 1)
    rows = [json.loads(x) for x in (tmp_path / "out" / "zh.jsonl").read_text().splitlines()]
    assert rows[0]["answer"].startswith("红色") and "Red" not in rows[0]["answer"]
    assert all(r["answer"] == "" for r in rows[1:])  # the pivot text is never the answer

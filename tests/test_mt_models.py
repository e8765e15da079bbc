"""The model families against tiny models in both engines: how each is told the target
language, the precision T5 models run in, the position limit, a refused broken export and the
licence of a local folder."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from plugdata.errors import PlugdataError
from plugdata.languages import get_language
from plugdata.testing.tiny import tiny_m2m100, tiny_madlad, tiny_marian, tiny_nllb
from plugdata.translate.mt import mt_translator
from plugdata.translate.mt.runtime import Runtime, choose, precision_for
from plugdata.translate.runner import Runner
from tests.conftest import run_cli

SEED = Path(__file__).resolve().parents[1] / "corpora" / "seed" / "seed.jsonl"
ROWS = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]
TEXTS = [v for row in ROWS for k, v in row.items() if k in ("instruction", "input", "output") and v]
EN = get_language("en")
ENGINES = ["transformers", "ctranslate2"]
# family: (builder options, target, first source tokens, first forced output token)
CASES = {
    "marian": ({}, "it", None, None),
    "marian-multi": ({"tags": [">>ita<<", ">>zho<<"]}, "it", ">>ita<<", None),
    "m2m100": ({}, "it", "__en__", "__it__"),
    "nllb": ({}, "zh", "eng_Latn", "zho_Hans"),
    "madlad": ({}, "it", "<2it>", None),
}
BUILDERS = {
    "marian": tiny_marian,
    "marian-multi": tiny_marian,
    "m2m100": tiny_m2m100,
    "nllb": tiny_nllb,
    "madlad": tiny_madlad,
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("families")
    return {name: BUILDERS[name](root / name, TEXTS, **CASES[name][0]) for name in CASES}


@pytest.fixture(autouse=True)
def _ct2_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGDATA_CACHE", str(tmp_path / "plugdata-cache"))


def _spy(engine) -> list[tuple[list[list[int]], list[list[int]]]]:
    """Record what the engine hands the model and what the model writes back."""
    calls = []
    generate = engine._generate

    def spy(batch, target, max_new, careful):
        raw = generate(batch, target, max_new, careful)
        calls.append((batch, raw))
        return raw

    engine._generate = spy
    return calls


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_each_family_is_told_its_target_language(folders, case, engine):
    _, lang, source_tag, forced = CASES[case]
    translator = mt_translator(str(folders[case]), targets=[lang], engine=engine)
    info = translator.models[lang]
    assert info.family == case.split("-")[0]
    loaded = translator.engine_for(info)
    assert loaded.name == engine
    calls = _spy(loaded)
    results = loaded.translate(
        ["Name a primary colour.", "Give three tips for staying healthy."], lang
    )
    tok = info.tokenizer
    sent = tok.convert_ids_to_tokens(calls[0][0][0])
    if source_tag is None:
        assert not any(t.startswith(">>") or t.startswith("__") for t in sent), sent
    else:
        assert source_tag in sent[:2], sent
    written = [i for i in calls[0][1][0] if i not in loaded._skip]
    if forced is None:
        assert all(not t.startswith(("__", ">>")) for t in tok.convert_ids_to_tokens(written[:1]))
    else:
        assert tok.convert_ids_to_tokens(written[:1]) == [forced]
    for result in results:  # the forced language token never reaches the translation
        assert forced is None or forced not in result.text


def test_t5_models_run_in_bfloat16_where_the_gpu_has_it(folders, monkeypatch):
    assert precision_for("madlad", "transformers", "cuda", bf16=True) == "bfloat16"
    assert precision_for("madlad", "transformers", "cuda", bf16=False) == "float32"
    assert precision_for("madlad", "ctranslate2", "cuda", bf16=True) == "int8_bfloat16"
    assert precision_for("madlad", "ctranslate2", "cuda", bf16=False) == "int8"
    assert precision_for("m2m100", "transformers", "cuda", bf16=True) == "float16"
    assert precision_for("m2m100", "ctranslate2", "cuda", bf16=True) == "int8_float16"
    assert precision_for("madlad", "transformers", "cpu", bf16=True) == "float32"
    assert precision_for("marian", "ctranslate2", "cpu", bf16=True) == "int8"
    import plugdata.translate.mt.runtime as runtime

    monkeypatch.setattr(runtime, "cuda_available", lambda engine: True)
    monkeypatch.setattr(runtime, "bf16_available", lambda engine: True)
    assert choose("madlad", "transformers") == Runtime("transformers", "cuda", "bfloat16")
    assert choose("madlad", "ctranslate2") == Runtime("ctranslate2", "cuda", "int8_bfloat16")
    translator = mt_translator(str(folders["madlad"]), targets=["it"], engine="transformers")
    assert translator.planned(translator.models["it"]).precision == "bfloat16"
    # The chosen dtype is the one the model is loaded in (bfloat16 runs on a CPU too).
    monkeypatch.setattr(runtime, "cuda_available", lambda engine: False)
    monkeypatch.setattr(
        translator, "planned", lambda info: Runtime("transformers", "cpu", "bfloat16")
    )
    engine = translator.engine_for(translator.models["it"])
    assert str(engine.model.dtype) == "torch.bfloat16"
    assert engine.translate(["Name a primary colour."], "it")[0].text is not None
    ran = translator.describe()["mt_models"]["it"]
    assert (ran["engine"], ran["device"], ran["dtype"], ran["compute_type"]) == (
        "transformers",
        "cpu",
        "bfloat16",
        None,
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("family", ["marian", "m2m100"])  # without and with a forced token
def test_inputs_are_cut_and_outputs_capped_at_the_position_limit(tmp_path, family, engine):
    folder = BUILDERS[family](tmp_path / "short", TEXTS, size={"positions": 24})
    translator = mt_translator(str(folder), targets=["it"], engine=engine)
    info = translator.models["it"]
    assert info.max_positions == 24
    long = "Explain " + " ".join(f"idea{i} and topic{i}" for i in range(40)) + "."
    loaded = translator.engine_for(info)
    calls = _spy(loaded)
    short, cut = loaded.translate(["Name a colour.", long], "it")
    assert len(info.tokenizer(long)["input_ids"]) > 24
    assert cut.in_tokens == 24 and cut.finish == "length"
    assert max(len(b) for b, _ in calls for b in b) <= 24
    assert cut.out_tokens <= 21 and short.out_tokens <= 21
    pairs = asyncio.run(
        Runner(translator).run(
            [{"id": "1", "source": "t", "instruction": long, "input": "", "output": "Fine."}],
            [get_language("it")],
            EN,
        )
    )
    assert pairs[0]["finish_reason"] == "length"  # the filters' truncated:length_limit


def test_a_known_broken_export_is_refused_unless_forced(folders, tmp_path, capsys):
    with pytest.raises(
        PlugdataError,
        match=r"opus-mt-tc-big-en-ko \(for ko\) is refused: .*OPUS-MT-train/issues/81",
    ):
        mt_translator("Helsinki-NLP/opus-mt-tc-big-en-ko", targets=["ko"])
    copy = tmp_path / "opus-mt-tc-big-en-ko"  # a local copy of the export is the same export
    shutil.copytree(folders["marian"], copy)
    refused = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "ko",
        "--model",
        f"ko={copy}",
        "--out",
        str(tmp_path / "run"),
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert "issues/81" in line and "--mt-allow-broken" in line and "facebook/m2m100_1.2B" in line
    assert not (tmp_path / "run").exists()
    forced = mt_translator(str(copy), targets=["ko"], allow_broken=True)
    assert forced.models["ko"].family == "marian"
    assert "used anyway because of --mt-allow-broken" in capsys.readouterr().err
    dry = run_cli(
        "build",
        "--source",
        "seed",
        "--targets",
        "ko",
        "--model",
        f"ko={copy}",
        "--limit",
        "2",
        "--dry-run",
        "--mt-allow-broken",
    )
    assert dry.returncode == 0 and "used anyway because of --mt-allow-broken" in dry.stdout


def test_a_local_folder_licence_comes_from_its_own_files(folders, tmp_path):
    bare = tmp_path / "m2m-copy"
    shutil.copytree(folders["m2m100"], bare)
    assert mt_translator(str(bare), targets=["it"]).models["it"].licence == "unknown"
    carded = tmp_path / "m2m-carded"
    shutil.copytree(folders["m2m100"], carded)
    (carded / "README.md").write_text(
        "---\nlicense: cc-by-nc-4.0\nlanguage: [en, it]\n---\n# A model\n"
    )
    translator = mt_translator(str(carded), targets=["it"])
    assert translator.models["it"].licence == "cc-by-nc-4.0"
    assert translator.describe()["model_licences"] == {str(carded): "cc-by-nc-4.0"}
    configured = tmp_path / "m2m-config"
    shutil.copytree(folders["m2m100"], configured)
    config = json.loads((configured / "config.json").read_text())
    (configured / "config.json").write_text(json.dumps({**config, "license": "apache-2.0"}))
    assert mt_translator(str(configured), targets=["it"]).models["it"].licence == "apache-2.0"

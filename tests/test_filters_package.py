"""The filters package as a newcomer meets it: one check per module that names what it reads,
one config whose every number the README explains, derived neighbours for every language, and
the evidence and score contracts other tools read."""

import ast
import re
from dataclasses import fields
from pathlib import Path

import polars as pl

from plugdata.filters import CHECKS, EVIDENCE, FilterConfig, filter_frame
from plugdata.filters.neighbour_table import NEIGHBOURS
from plugdata.languages import LANGUAGES

from .multilingual import pair

ROOT = Path(__file__).resolve().parent.parent
FILTERS = ROOT / "plugdata" / "filters"
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIG = {f.name for f in fields(FilterConfig)}


def _readme_section() -> str:
    start = README.index("## Quality filters")
    return README[start : README.index("\n## ", start + 1)]


def test_one_check_per_module_naming_its_sub_reasons_and_config_fields():
    for name, check in CHECKS.items():
        module = FILTERS / "checks" / f"{name}.py"
        assert module.exists(), name
        doc = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
        assert doc.startswith(f"``{name}``"), name
        for reason in check.reasons:
            assert reason.startswith(f"{name}:") and reason in doc, reason
        for field in check.reads:
            assert field in CONFIG and f"``{field}``" in doc, (name, field)
        assert check.doc, name


def test_every_config_field_is_read_by_a_check_and_explained_in_the_readme():
    read = {f for check in CHECKS.values() for f in check.reads}
    assert CONFIG - read == {"code_max_prose"}  # read by prepare, before any check
    section = _readme_section()
    for field in CONFIG:
        assert re.search(rf"\| `{field}` \| [^|]+ \| [^|]+\|", section), field
    for name, check in CHECKS.items():
        assert f"| `{name}` |" in section, name
        for reason in check.reasons:
            assert f"`{reason}`" in section, reason


def test_no_numbers_inline_and_no_format_skips_in_the_filters():
    for path in FILTERS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "fmt: skip" not in text, path
        if path.name in ("config.py", "patterns.py", "neighbour_table.py", "langid.py"):
            continue
        floats = [
            n.value
            for n in ast.walk(ast.parse(text))  # (0 and 1 are no thresholds)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, float)
            and n.value not in (0.0, 1.0)
        ]
        assert not floats, (path.name, floats)


def test_neighbours_are_derived_for_every_registered_language():
    assert set(NEIGHBOURS) == set(LANGUAGES) - {"en"}
    for lang, near in {
        "ru": {"uk", "be", "bg"},
        "es": {"pt", "gl", "ca", "it", "fr"},
        "id": {"ms"},
        "zh": {"ja"},
        "hi": {"mr", "ne"},
    }.items():
        assert near <= set(NEIGHBOURS[lang]), lang
    assert NEIGHBOURS["sw"]
    for lang, near in NEIGHBOURS.items():  # symmetric among registered languages
        assert all(lang in NEIGHBOURS[n] for n in near if n in NEIGHBOURS), lang
    table = (FILTERS / "neighbour_table.py").read_text(encoding="utf-8")
    assert "bench/derive_neighbours.py" in table and "bench/derive_neighbours.py" in README


def test_evidence_is_one_entry_per_failing_sub_reason_and_empty_on_kept_pairs():
    english = pair("it", output=pair("it")["pivot_output"], id="echo")
    frame = pl.DataFrame(
        [pair("it"), english, pair("it", id="up", kept=False, reasons=["invalid_json"])],
        schema_overrides={"reasons": pl.List(pl.String)},
    )
    out, _ = filter_frame(frame)
    assert out.schema["evidence"] == EVIDENCE
    kept, echo, upstream = out.to_dicts()
    assert kept["evidence"] == [] and upstream["evidence"] == []
    assert [e["reason"] for e in echo["evidence"]] == echo["reasons"]
    copy = next(e for e in echo["evidence"] if e["reason"] == "untranslated:exact_copy")
    assert copy["field"] == "output" and copy["text"] == english["target_output"][:200]
    assert all(len(e["text"]) <= 200 for e in echo["evidence"])


def test_stats_name_each_score_columns_threshold():
    _, stats = filter_frame(
        pl.DataFrame([pair("it")], schema_overrides={"reasons": pl.List(pl.String)})
    )
    scores = stats["scores"]
    for check in CHECKS.values():
        if not check.default:  # opt-in checks (adequacy) add their scores only when run
            assert not any(score.column in scores for score in check.scores)
            continue
        for score in check.scores:
            assert scores[score.column]["reject"] in ("below", "above")
            threshold = scores[score.column]["threshold"]
            assert threshold is None or scores[score.column]["value"] == getattr(
                FilterConfig(), threshold
            )
    assert scores["lid_target_output"] == {
        "threshold": "lid_min_prob",
        "value": 0.3,
        "reject": "below",
    }

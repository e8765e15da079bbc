"""The dataset card (the run directory's ``README.md``): Hub metadata and a rendered body.

The metadata is a :class:`huggingface_hub.DatasetCardData`; the body is the Jinja template
``card_template.md`` beside this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from plugdata.languages import get_language

CHART_NAME = "funnel.png"
TEMPLATE = Path(__file__).with_name("card_template.md")
CITATION = """@inproceedings{zhang2024plug,
  title     = {{PLUG}: Leveraging Pivot Language in Cross-Lingual Instruction Tuning},
  author    = {Zhang, Zhihan and Lee, Dong-Ho and Fang, Yuwei and Yu, Wenhao and Jia, Mengzhao
               and Jiang, Meng and Barbieri, Francesco},
  booktitle = {Proceedings of the 62nd Annual Meeting of the Association for Computational
               Linguistics (Volume 1: Long Papers)},
  year      = {2024},
  note      = {arXiv:2311.08711}
}"""
# The licence ids the Hub takes in card metadata (its list in the hub-docs, a snapshot); any
# other licence is written as ``other`` with its name in ``license_name``.
HUB_LICENSES = frozenset(
    (
        "apache-2.0",
        "mit",
        "openrail",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "afl-3.0",
        "artistic-2.0",
        "bsl-1.0",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "c-uda",
        "cc",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cdla-sharing-1.0",
        "cdla-permissive-1.0",
        "cdla-permissive-2.0",
        "wtfpl",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "etalab-2.0",
        "eupl-1.1",
        "agpl-3.0",
        "gfdl",
        "gpl",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl",
        "lgpl-2.1",
        "lgpl-3.0",
        "isc",
        "lppl-1.3c",
        "ms-pl",
        "mpl-2.0",
        "odc-by",
        "odbl",
        "openrail++",
        "osl-3.0",
        "postgresql",
        "ofl-1.1",
        "ncsa",
        "unlicense",
        "zlib",
        "pddl",
        "lgpl-lr",
        "deepfloyd-if-license",
        "llama2",
        "gemma",
        "unknown",
        "other",
    )
)


def size_category(n: int) -> str:
    """The Hub's size bucket for ``n`` rows."""
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return name
    return "10M<n<100M"


def configs(counts: Mapping[str, Mapping[str, int]], ext: str) -> list[dict[str, Any]]:
    """One Hub config per format and language that has rows (``plug-zh``), plus ``pairs``.

    The first config with rows is the default; empty sets are left out, as they do not load.
    """
    out: list[dict[str, Any]] = []
    for fmt, per_lang in counts.items():
        for lang, rows in per_lang.items():
            if not rows:
                continue
            entry: dict[str, Any] = {
                "config_name": f"{fmt}-{lang}",
                "data_files": [{"split": "train", "path": f"{fmt}/{lang}.{ext}"}],
            }
            if not out:
                entry["default"] = True
            out.append(entry)
    out.append({"config_name": "pairs", "data_files": [{"split": "train", "path": f"pairs.{ext}"}]})
    return out


def hub_license(license_id: str | None) -> dict[str, str]:
    """The card's licence fields: a Hub licence id as it is (``unknown`` included), anything
    else as ``other`` named in ``license_name``."""
    if not license_id:
        return {"license": "unknown"}
    if license_id in HUB_LICENSES:
        return {"license": license_id}
    name = re.sub(r"[^a-z0-9.]+", "-", license_id.lower()).strip("-") or "unnamed"
    return {"license": "other", "license_name": name}


def card_data(
    recipe: Mapping[str, Any], stats: Mapping[str, Any], targets: Sequence[str], ext: str
) -> Any:
    """The card's metadata as ``DatasetCardData``."""
    from huggingface_hub import DatasetCardData

    source = recipe.get("source_info", {})
    origin = source.get("origin", "")
    return DatasetCardData(
        **hub_license(source.get("license")),
        language=[recipe["pivot"], *targets],
        multilinguality="multilingual",
        task_categories=["text-generation"],
        tags=["synthetic", "plug", "multilingual", "translation", "instruction-tuning", "plugdata"],
        size_categories=[size_category(stats["totals"]["kept"])],
        pretty_name=f"PLUG {source.get('name', recipe['source'])} ({', '.join(targets)})",
        source_datasets=[origin] if "/" in origin and not Path(origin).exists() else None,
        configs=configs(stats["formats"], ext),
    )


def render_card(
    recipe: Mapping[str, Any],
    stats: Mapping[str, Any],
    targets: Sequence[str],
    examples: Mapping[str, Sequence[Mapping[str, str]]],
    ext: str = "parquet",
    chart: bool = True,
) -> str:
    """The whole card: YAML metadata and a body that explains, shows and credits the data."""
    from huggingface_hub import DatasetCard

    data = card_data(recipe, stats, targets, ext)
    source = recipe.get("source_info", {})
    languages = {
        lang: {
            **row,
            "reason_text": ", ".join(f"{k}: {v}" for k, v in row["reasons"].items()) or "-",
        }
        for lang, row in stats["languages"].items()
    }
    tokens = [
        {"name": f"{fmt}-{lang}", **t}
        for fmt, per_lang in stats.get("tokens", {}).items()
        for lang, t in per_lang.items()
    ]
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATE),
        pretty_name=data.pretty_name,
        target_names=", ".join(get_language(t).name for t in targets),
        pivot_name=get_language(recipe["pivot"]).name,
        config_rows=_config_rows(stats["formats"]),
        examples=examples,
        recipe=recipe,
        source=source,
        source_rows=f"{source.get('rows', 0):,}",
        translation=_translation(recipe),
        filter_line=_filters(stats.get("filters")),
        adequacy=_adequacy(stats.get("filters")),
        system_line=_system(recipe),
        languages=languages,
        chart=CHART_NAME if chart else None,
        tokens=tokens,
        first_config=data.configs[0]["config_name"],
        citation=CITATION,
        mt_licences=", ".join(
            f"{m} ({lic})" for m, lic in (recipe.get("model_licences") or {}).items()
        ),
    )
    return str(card)


def _config_rows(counts: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    return [
        {"name": f"{fmt}-{lang}", "rows": n}
        for fmt, per in counts.items()
        for lang, n in per.items()
    ]


def _translation(recipe: Mapping[str, Any]) -> str:
    models = recipe.get("models_used")
    if models:  # local translation models: name and credit each one, and say where it ran
        credit = recipe.get("model_attribution") or {}
        named = [
            f"`{m}`"
            + (f" ({credit[m]})" if isinstance(credit, dict) and credit.get(m) else "")
            + _ran(m, recipe.get("mt_models") or {})
            for m in models
        ]
        return (
            f"local translation model(s) {', '.join(named)}, "
            f"decoding `{recipe.get('prompt_version')}`"
        )
    return (
        f"`{recipe['model']}` via an OpenAI-compatible API, prompt "
        f"`{recipe.get('prompt_version', recipe.get('prompt'))}`, temperature "
        f"{recipe.get('temperature')}, structured output "
        f"`{recipe.get('response_format_used', 'json')}`"
    )


def _ran(model: str, per_lang: Mapping[str, Any]) -> str:
    """`` for zh, ko: ctranslate2 on cuda, int8_float16`` from config.yaml's ``mt_models``."""
    langs = [lang for lang, row in per_lang.items() if row.get("model") == model]
    if not langs:
        return ""
    row = per_lang[langs[0]]
    precision = row.get("compute_type") or row.get("dtype")
    return f" for {', '.join(langs)}: {row.get('engine')} on {row.get('device')}, {precision}"


def _filters(filters: Mapping[str, Any] | None) -> str:
    if not filters:
        return (
            "Quality filters were **not** run (`--no-filter`): every translated pair is "
            "kept, including bad translations."
        )
    return (
        f"Filters: {', '.join(filters.get('names', []))}; "
        f"thresholds: `{filters.get('thresholds', {})}`."
    )


def _adequacy(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The meaning check's model, threshold and its source, and one row per language and field
    with the score's distribution (None when the check did not run)."""
    found = (filters or {}).get("adequacy")
    if not found:
        return None
    rows = [
        {"lang": lang, "field": name, **entry}
        for lang, per_field in found["languages"].items()
        for name, entry in per_field.items()
    ]
    return {**found, "rows": rows}


def _system(recipe: Mapping[str, Any]) -> str:
    if recipe.get("no_system"):
        return "The guidance is in the user turn (no system turn)."
    if recipe.get("system_prompt") == "":
        return "Rows have no system turn."
    return "Every row starts with a system turn that states the task."

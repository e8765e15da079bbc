"""The dataset card (the run directory's ``README.md``) and its funnel and length chart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from plugdata.languages import get_language

CHART_NAME = "funnel.png"
CITATION = """@inproceedings{zhang2024plug,
  title     = {{PLUG}: Leveraging Pivot Language in Cross-Lingual Instruction Tuning},
  author    = {Zhang, Zhihan and Lee, Dong-Ho and Fang, Yuwei and Yu, Wenhao and Jia, Mengzhao
               and Jiang, Meng and Barbieri, Francesco},
  booktitle = {Proceedings of the 62nd Annual Meeting of the Association for Computational
               Linguistics (Volume 1: Long Papers)},
  year      = {2024},
  note      = {arXiv:2311.08711}
}"""
_LICENSES = {"cc-by-nc-4.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0", "apache-2.0", "mit"}


def size_category(n: int) -> str:
    """The Hub's size bucket for ``n`` rows."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):  # fmt: skip
        if n < limit:
            return name
    return "10M<n<100M"


def configs(formats: Sequence[str], targets: Sequence[str], ext: str) -> list[dict[str, Any]]:
    """One Hub config per format and language (``plug-zh``), plus ``pairs``."""
    out: list[dict[str, Any]] = []
    for fmt in formats:
        for lang in targets:
            entry: dict[str, Any] = {"config_name": f"{fmt}-{lang}",
                                     "data_files": [{"split": "train", "path": f"{fmt}/{lang}.{ext}"}]}  # fmt: skip
            if not out:
                entry["default"] = True
            out.append(entry)
    out.append({"config_name": "pairs", "data_files": [{"split": "train", "path": f"pairs.{ext}"}]})
    return out


def metadata(recipe: Mapping[str, Any], stats: Mapping[str, Any], formats: Sequence[str],
             targets: Sequence[str], ext: str) -> dict[str, Any]:  # fmt: skip
    """The card's YAML header."""
    source = recipe.get("source_info", {})
    license_id = source.get("license", "unknown")
    meta: dict[str, Any] = {
        "license": license_id if license_id in _LICENSES else "other",
        "language": [recipe["pivot"], *targets],
        "multilinguality": "multilingual",
        "task_categories": ["text-generation"],
        "tags": [
            "synthetic",
            "plug",
            "multilingual",
            "translation",
            "instruction-tuning",
            "plugdata",
        ],
        "size_categories": [size_category(stats["totals"]["kept"])],
        "pretty_name": f"PLUG {source.get('name', recipe['source'])} ({', '.join(targets)})",
        "configs": configs(formats, targets, ext),
    }
    origin = source.get("origin", "")
    if "/" in origin and not Path(origin).exists():
        meta["source_datasets"] = [origin]
    return meta


def _example(messages: Sequence[Mapping[str, str]]) -> str:
    parts = [f"**{m['role']}**\n\n```text\n{m['content']}\n```" for m in messages]
    return "\n\n".join(parts)


def render_card(
    recipe: Mapping[str, Any],
    stats: Mapping[str, Any],
    formats: Sequence[str],
    targets: Sequence[str],
    examples: Mapping[str, Sequence[Mapping[str, str]]],
    ext: str = "parquet",
    chart: bool = True,
) -> str:
    """The whole card: YAML metadata and a body that explains, shows and credits the data."""
    meta = metadata(recipe, stats, formats, targets, ext)
    source = recipe.get("source_info", {})
    pivot = get_language(recipe["pivot"])
    names = ", ".join(get_language(t).name for t in targets)
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip(),
        "---",
        "",
        f"# {meta['pretty_name']}",
        "",
        f"Pivot-guided (PLUG) instruction-tuning data in {names}, with {pivot.name} as the pivot, "
        "built with [plugdata](https://github.com/plugdata/plugdata).",
        "",
        "## What PLUG is",
        "",
        "PLUG (Zhang et al., ACL 2024) trains a model to answer an instruction written in a target "
        "language in three labelled steps: restate the instruction in the pivot language, answer "
        "it in the pivot language, then answer in the target language. Models tuned this way "
        "follow instructions in lower-resource languages far better than models tuned to answer "
        "directly in the target language (+29% on average on X-AlpacaEval in the paper). The "
        "paper's baselines are built from the same pairs, so comparisons are like for like.",
        "",
        "## Configurations",
        "",
        "| config | rows |",
        "|---|---|",
    ]
    for fmt in formats:
        for lang in targets:
            lines.append(f"| `{fmt}-{lang}` | {stats['formats'].get(fmt, {}).get(lang, 0):,} |")
    lines += ["| `pairs` | every translated pair with provenance and its filter verdict |", ""]
    for lang in targets:
        if lang in examples:
            lines += [f"### Example: `plug-{lang}`", "", _example(examples[lang]), ""]
    lines += [
        "## How it was built",
        "",
        f"- Source: `{recipe['source']}` ({source.get('origin', '')}), {source.get('rows', '?'):,} records"
        f", licence {source.get('license', 'unknown')}.",
        f"- Translation model: `{recipe['model']}` via an OpenAI-compatible API, prompt "
        f"`{recipe.get('prompt_version', recipe.get('prompt'))}`, temperature {recipe.get('temperature')}, "
        f"structured output `{recipe.get('response_format_used', 'json')}`.",
    ]
    if recipe.get("generate"):
        lines.append(
            f"- Responses generated ({recipe['generate']}) by `{recipe.get('generator_model') or recipe['model']}`."
        )
    filters = stats.get("filters")
    if filters:
        lines.append(f"- Filters: {', '.join(filters.get('names', []))}; thresholds: "
                     f"`{filters.get('thresholds', {})}`.")  # fmt: skip
    lines += [
        "- Code, URLs, placeholders and math were masked during translation and verified after.",
        f"- plugdata {recipe.get('plugdata_version', '')}; the full recipe is in `config.yaml`.",
        "",
        "## Rejection funnel",
        "",
        "| language | pairs | kept | rejected | reasons |",
        "|---|---|---|---|---|",
    ]
    for lang, row in stats["languages"].items():
        reasons = ", ".join(f"{k}: {v}" for k, v in row["reasons"].items()) or "-"
        lines.append(
            f"| {lang} | {row['pairs']:,} | {row['kept']:,} | {row['rejected']:,} | {reasons} |"
        )
    if chart:
        lines += ["", f"![Funnel and lengths per language]({CHART_NAME})"]
    tokens = stats.get("tokens")
    if tokens:
        lines += ["", f"## Token statistics (`{recipe.get('chat_template')}`)", "",
                  "| config | rows | mean | p95 | max |", "|---|---|---|---|---|"]  # fmt: skip
        for fmt, per_lang in tokens.items():
            for lang, t in per_lang.items():
                lines.append(
                    f"| `{fmt}-{lang}` | {t['rows']:,} | {t['mean']} | {t['p95']} | {t['max']} |"
                )
    first = f"plug-{targets[0]}" if targets else "pairs"
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'ds = load_dataset("OWNER/NAME", "{first}", split="train")  # or a local run directory',
        "```",
        "",
        "Every row has `messages` (`system`, `user`, `assistant`) that TRL's `SFTTrainer` reads as "
        "is; train with `assistant_only_loss=True` to learn only the answers. The same ids appear "
        "in every format and language.",
        "",
        "## Citation",
        "",
        "```bibtex",
        CITATION,
        "```",
        "",
        "## Licence",
        "",
        f"The data inherits the licence of its source ({source.get('license', 'unknown')}). "
        "Translations made with a commercial model are also bound by that provider's terms.",
        "",
    ]
    return "\n".join(lines)


def write_chart(path: Path, stats: Mapping[str, Any], lengths: Mapping[str, Sequence[int]]) -> None:
    """Kept and rejected pairs per language, and target-response lengths, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = list(stats["languages"])
    fig, (funnel, dist) = plt.subplots(1, 2, figsize=(11, 4))
    kept = [stats["languages"][lang]["kept"] for lang in langs]
    rejected = [stats["languages"][lang]["rejected"] for lang in langs]
    funnel.bar(langs, kept, label="kept", color="#3b7dd8")
    funnel.bar(langs, rejected, bottom=kept, label="rejected", color="#d8573b")
    funnel.set_title("Pairs per language")
    funnel.legend()
    for lang in langs:
        values = lengths.get(lang) or [0]
        dist.hist(values, bins=30, alpha=0.5, label=lang)
    dist.set_title("Target response length (characters)")
    dist.set_xlabel("characters")
    dist.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

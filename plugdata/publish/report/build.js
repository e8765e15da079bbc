// The build report: header, funnel, reasons; then, per language, kept pairs, rejected pairs by
// reason, the tag audit and the score distributions.
const LANGS = DATA.languages;
const FUNNEL = DATA.funnel;
const FIELDS = ["instruction", "input", "output"];
const TAG_NOTES = {
  verbatim_expected: "kept although a target field equals the pivot's, because a copy is what " +
    "the pair needs (code, data, a translation task, text not in the pivot language): check them",
};

function langLabel(code) {
  return DATA.names[code] ? `${DATA.names[code]} (${code})` : code;
}

function funnelSection() {
  const tags = [...new Set(LANGS.flatMap((l) => Object.keys(FUNNEL.languages[l].tags)))];
  const rows = LANGS.map((lang) => {
    const r = FUNNEL.languages[lang];
    return { cells: [cell(lang, { "data-lang": lang, "data-key": "language" }),
      ...["pairs", "kept", "rejected"].map((k) => cell(num(r[k]), { "data-lang": lang, "data-key": k })),
      cell(r.pairs ? pct(r.kept / r.pairs) : "–"),
      ...tags.map((t) => cell(num(r.tags[t] || 0), { "data-lang": lang, "data-key": `tag:${t}` }))] };
  });
  const t = FUNNEL.totals;
  rows.push({ total: true, cells: [cell("total"),
    ...["pairs", "kept", "rejected"].map((k) => cell(num(t[k]), { "data-lang": "total", "data-key": k })),
    cell(t.pairs ? pct(t.kept / t.pairs) : "–"), ...tags.map(() => cell(""))] });
  const bars = LANGS.map((lang) => {
    const r = FUNNEL.languages[lang];
    return { label: lang, note: `${num(r.kept)} of ${num(r.pairs)} kept`,
      parts: [{ value: r.kept, cls: "kept", title: `${lang}: ${num(r.kept)} kept` },
        { value: r.rejected, cls: "rejected", title: `${lang}: ${num(r.rejected)} rejected` }] };
  });
  const skipped = Object.entries(FUNNEL.skipped || {});
  return section("Funnel per language", "funnel-section",
    FUNNEL.filtered ? null : h("p", { class: "note" },
      "Filters were not run (--no-filter): every translated pair was kept."),
    h("div", { class: "charts" },
      h("div", { class: "chart" }, legend([["kept", "kept"], ["rejected", "rejected"]]),
        stackedBars(bars, { label: "kept and rejected pairs per language" })),
      table(["language", "pairs", "kept", "rejected", "kept %", ...tags.map((t) => `tagged ${t}`)],
        rows, { id: "funnel" })),
    skipped.length ? h("p", { class: "note" }, "Source records skipped: ",
      skipped.map(([why, n]) => `${why}: ${num(n)}`).join("; ")) : null);
}

function reasonsSection() {
  const totals = {};
  for (const lang of LANGS) {
    for (const [reason, n] of Object.entries(FUNNEL.languages[lang].reasons)) {
      totals[reason] = (totals[reason] || 0) + n;
    }
  }
  const reasons = Object.keys(totals).sort((a, b) => totals[b] - totals[a] || a.localeCompare(b));
  if (!reasons.length) return null;
  const rows = reasons.map((reason) => ({ cells: [cell(reason, { class: "reason" }),
    ...LANGS.map((lang) => cell(num(FUNNEL.languages[lang].reasons[reason] || 0),
      { "data-lang": lang, "data-key": `reason:${reason}` })), cell(num(totals[reason]))] }));
  return section("Rejections by reason", "reasons-section",
    h("p", { class: "note" }, "A pair rejected for several reasons counts under each of them."),
    table(["reason", ...LANGS, "total"], rows, { id: "reasons", reasonColumn: 0 }));
}

// Where each evidence excerpt sits: [side][field] -> excerpts to mark.
function needles(pair) {
  const out = { pivot: {}, target: {} };
  for (const e of pair.evidence || []) {
    if (!e.text) continue;
    const fields = e.field ? [e.field] : FIELDS;
    const spot = ["target", "pivot"].flatMap((side) => fields.map((f) => [side, f]))
      .find(([side, f]) => (pair[side][f] || "").includes(e.text));
    if (spot) (out[spot[0]][spot[1]] ||= []).push(e.text);
  }
  return out;
}

function evidenceList(pair) {
  if (!pair.evidence || !pair.evidence.length) return null;
  return h("ul", { class: "evidence" }, pair.evidence.map((e) => h("li", null,
    h("span", { class: "chip bad" }, e.reason), e.field ? ` in ${e.field}` : "",
    e.text ? [": ", h("q", null, e.text)] : "")));
}

function fieldsGrid(pair) {
  const marks = needles(pair);
  const pivot = `pivot (${pair.pivot_lang || "?"})`, target = `target (${pair.lang})`;
  const grid = h("div", { class: "fields" }, h("div", { class: "colhead" }, ""),
    h("div", { class: "colhead" }, pivot), h("div", { class: "colhead" }, target));
  for (const f of FIELDS) {
    if (!pair.pivot[f] && !pair.target[f]) continue;
    grid.append(h("div", { class: "label" }, f),
      h("div", { class: "side", "data-side": pivot }, textBlock(pair.pivot[f], marks.pivot[f])),
      h("div", { class: "side", "data-side": target }, textBlock(pair.target[f], marks.target[f])));
  }
  return grid;
}

function formattedRow(pair) {
  if (!pair.row || !pair.row.length) return null;
  const name = !pair.row_format || pair.row_format === "plug" ? "PLUG" : pair.row_format;
  return h("details", null, h("summary", null, `${name} row, as in the training set`),
    pair.row.map((m) => h("div", { class: "msg" }, h("div", { class: "role" }, m.role),
      h("pre", null, m.content ?? ""))));
}

function pairCard(pair) {
  const scores = Object.entries(pair.scores || {});
  const card = h("article", { class: "card", "data-lang": pair.lang, "data-id": pair.id,
    "data-kept": pair.kept ? "true" : "false" },
  h("div", { class: "head" }, h("span", { class: "mono" }, pair.id),
    h("span", { class: pair.kept ? "chip good" : "chip bad" }, pair.kept ? "kept" : "rejected"),
    pair.reasons.map((r) => h("span", { class: "chip bad" }, r)),
    pair.tags.map((t) => h("span", { class: "chip tag" }, t)),
    scores.length ? h("span", { class: "muted mono" },
      scores.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(" · ")) : null,
    pair.finish_reason && pair.finish_reason !== "stop"
      ? h("span", { class: "chip" }, `finish ${pair.finish_reason}`) : null),
  fieldsGrid(pair), evidenceList(pair), formattedRow(pair));
  const text = [pair.id, pair.lang, ...FIELDS.flatMap((f) => [pair.pivot[f], pair.target[f]]),
    ...pair.reasons, ...pair.tags, ...(pair.evidence || []).map((e) => e.text)].join("\n");
  SEARCH.add(card, text);
  return card;
}

function cards(keys) {
  return keys.map((key) => DATA.pairs[key]).filter(Boolean).map(pairCard);
}

function sampleSection(lang, ex) {
  const kept = FUNNEL.languages[lang]?.kept ?? 0;
  return section(`Kept pairs in ${langLabel(lang)}`, "sample-section",
    h("p", { class: "note" }, `A sample of ${num(ex.sample.length)} of ${num(kept)} kept pairs ` +
      `(seed ${DATA.limits.seed}: the same records in every language), pivot and target side by side.`),
    ex.sample.length ? cards(ex.sample) : h("p", { class: "empty" }, "No kept pairs."));
}

function rejectedSection(lang, ex) {
  const counts = FUNNEL.languages[lang]?.reasons || {};
  const reasons = Object.keys({ ...counts, ...ex.reasons })
    .sort((a, b) => (counts[b] || 0) - (counts[a] || 0) || a.localeCompare(b));
  const keys = Object.values(ex.reasons).flat();
  const withEvidence = keys.some((k) => DATA.pairs[k]?.has_evidence);
  const body = [];
  let check = null;
  for (const reason of reasons) {
    const family = reason.split(":")[0];
    if (family !== check) body.push(h("h3", null, family));
    check = family;
    const shown = ex.reasons[reason] || [];
    body.push(h("div", { class: "group", "data-group": reason },
      h("p", null, h("span", { class: "chip bad" }, reason),
        ` ${num(counts[reason] || 0)} pairs; ${shown.length ? `${shown.length} shown` : "none shown"}`),
      cards(shown)));
  }
  return section(`Rejected pairs in ${langLabel(lang)}, by reason`, "rejected-section",
    reasons.length ? h("p", { class: "note" }, `Up to ${DATA.limits.per_reason} examples per ` +
      "reason. " + (withEvidence ? "Marked text is where the check failed."
        : "This run's filters record no evidence excerpts: the reasons are shown.")) : null,
    reasons.length ? body : h("p", { class: "empty" }, "No rejected pairs."));
}

function tagSection(lang, ex) {
  const counts = FUNNEL.languages[lang]?.tags || {};
  const kept = ex.kept_tags || {};
  const tags = Object.keys({ ...counts, ...ex.tags });
  return section(`Tag audit in ${langLabel(lang)}`, "tags-section",
    tags.length ? tags.map((tag) => h("div", { class: "group", "data-group": `tag:${tag}` },
      h("p", null, h("span", { class: "chip tag" }, tag), ` ${num(kept[tag] || 0)} kept pairs ` +
        `(${num(counts[tag] || 0)} tagged, rejected ones included); ` +
        `${(ex.tags[tag] || []).length} shown: ${TAG_NOTES[tag] || "check them"}.`),
      cards(ex.tags[tag] || []))) : h("p", { class: "empty" }, "No tagged pairs."));
}

function histogram(dist, lang) {
  const counts = dist.languages[lang];
  const W = 480, H = 170, L = 40, B = 24, T = 16, R = 10, n = dist.bins;
  const totals = counts.kept.map((k, i) => k + counts.rejected[i]);
  const top = Math.max(1, ...totals);
  const x = (v) => L + ((W - L - R) * (v - dist.low)) / (dist.high - dist.low);
  const y = (c) => H - B - ((H - B - T) * c) / top;
  const bw = (W - L - R) / n;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${dist.column} (${lang})` },
    s("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
    s("text", { x: 2, y: T + 4 }, num(top)), s("text", { x: 2, y: H - B }, "0"));
  for (let i = 0; i < n; i++) {
    const lo = dist.low + ((dist.high - dist.low) * i) / n;
    const k = counts.kept[i], r = counts.rejected[i];
    const tip = `${lo.toFixed(2)}–${(lo + (dist.high - dist.low) / n).toFixed(2)}: ${k} kept, ${r} rejected`;
    if (k) svg.append(s("rect", { class: "kept", x: L + i * bw + 1, y: y(k), width: bw - 2, height: y(0) - y(k) }, s("title", null, tip)));
    if (r) svg.append(s("rect", { class: "rejected", x: L + i * bw + 1, y: y(k + r), width: bw - 2, height: y(k) - y(k + r) }, s("title", null, tip)));
  }
  for (const v of [dist.low, (dist.low + dist.high) / 2, dist.high]) {
    svg.append(s("text", { x: x(v), y: H - 6, "text-anchor": "middle" }, +v.toFixed(3)));
  }
  const cut = dist.threshold;
  if (cut) {
    svg.append(s("line", { class: "threshold", x1: x(cut.value), y1: T - 4, x2: x(cut.value), y2: H - B }),
      s("text", { x: Math.min(x(cut.value) + 4, W - 120), y: T - 4 }, `${cut.name ?? "threshold"} ${cut.value}`));
  }
  return svg;
}

function scoresSection(lang) {
  const shown = DATA.scores.filter((d) => d.languages[lang]);
  return section(`Score distributions in ${langLabel(lang)}`, "scores-section",
    shown.length ? legend([["kept", "kept"], ["rejected", "rejected"], ["threshold", "threshold"]]) : null,
    shown.length ? h("div", { class: "charts" }, shown.map((d) => {
      const c = d.languages[lang], cut = d.threshold;
      return h("div", { class: "chart", "data-column": d.column }, h("h3", null, d.column),
        h("p", { class: "note" }, `${num(c.n - c.nulls)} of ${num(c.n)} pairs scored` +
          (cut ? `; ${cut.name ?? "threshold"} = ${cut.value} rejects ${cut.reject} it` : "; no threshold")),
        c.n > c.nulls ? histogram(d, lang) : h("p", { class: "empty" }, "No pair has this score."));
    })) : h("p", { class: "empty" }, "No score columns in this run."));
}

function showLanguage(lang) {
  const ex = DATA.examples[lang] || { sample: [], reasons: {}, tags: {}, kept_tags: {} };
  SEARCH.reset();
  fill(VIEW, sampleSection(lang, ex), rejectedSection(lang, ex), tagSection(lang, ex),
    scoresSection(lang));
  VIEW.setAttribute("data-lang", lang);
  SEARCH.apply();
}

const SEARCH = new Search(
  h("input", { type: "search", id: "search", placeholder: "Search the examples: id, text, reason",
    "aria-label": "Search the examples" }),
  h("span", { class: "count", id: "count", "aria-live": "polite" }));
const VIEW = h("div", { id: "language-view" });
APP.append(header(DATA.header), funnelSection());
const REASONS = reasonsSection();
if (REASONS) APP.append(REASONS);
if (LANGS.length) {
  APP.append(h("div", { class: "controls" }, tabs(LANGS, {}, LANGS[0], showLanguage),
    SEARCH.input, SEARCH.counter), VIEW);
  showLanguage(LANGS[0]);
}

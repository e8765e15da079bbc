// The eval report: every rate of report.json in a table and charts; per language, each pair with
// both answers, both orders' verdicts and the judge's raw replies, filtered by outcome.
const REPORT = DATA.report;
const LANGS = Object.keys(REPORT.languages);
const ROWS = [...LANGS.map((l) => [l, REPORT.languages[l]]), ["overall", REPORT.overall]];
const OUTCOMES = ["all", "win", "loss", "tie", "flip", "error"];
const isRate = (key) => /rate|consistency|share|(^|[._])ci/.test(key);

// {a: 1, strict: {win: 2}} -> [["a", 1], ["strict.win", 2]]; intervals stay as they are.
function flatten(stats) {
  const out = [];
  for (const [key, value] of Object.entries(stats || {})) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [sub, v] of Object.entries(value)) out.push([`${key}.${sub}`, v]);
    } else out.push([key, value]);
  }
  return out;
}

function show(key, value) {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")) {
    return isRate(key) ? `${pct(value[0])}–${pct(value[1])}` : `${num(value[0])}–${num(value[1])}`;
  }
  if (typeof value === "number") return isRate(key) ? pct(value) : num(value);
  if (value === null || value === undefined) return "–";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function ratesSection() {
  const flat = ROWS.map(([name, stats]) => [name, Object.fromEntries(flatten(stats))]);
  const keys = [...new Set(flat.flatMap(([, f]) => Object.keys(f)))];
  const rows = keys.map((key) => ({ cells: [cell(key, { class: "reason" }),
    ...flat.map(([name, f]) => cell(show(key, f[key]), { "data-lang": name, "data-key": key }))] }));
  return section("Rates", "rates-section",
    h("p", { class: "note" }, "Every figure of report.json, for system A (",
      DATA.systems.a, ") against B (", DATA.systems.b, "). Strict (FastChat): a win or loss only when " +
      "both orders agree. Lenient (PLUG): a win and a tie is a slight win, a win and a loss a tie."),
    h("div", { class: "charts" }, table(["figure", ...ROWS.map(([name]) => name)], rows,
      { id: "rates", reasonColumn: 0 }), h("div", { class: "chart" }, rateCharts(), outcomeCharts())));
}

function ciOf(key, flat) {
  const candidates = [`${key}_ci95`, `${key}_ci`, key.replace(/\.[^.]+$/, ".ci95"),
    key.replace(/win_rate.*$/, "ci95")];
  return candidates.map((c) => flat[c]).find((v) => Array.isArray(v) && v.length === 2) || null;
}

function rateCharts() {
  const keys = [...new Set(ROWS.flatMap(([, s]) => flatten(s)
    .filter(([k, v]) => /rate/.test(k) && typeof v === "number").map(([k]) => k)))];
  return h("div", null, keys.map((key) => {
    const W = 520, rowH = 26, L = 70, R = 150, H = ROWS.length * rowH + 24;
    const x = (v) => L + (W - L - R) * Math.max(0, Math.min(1, v));
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": key },
      s("line", { class: "half", x1: x(0.5), y1: 0, x2: x(0.5), y2: H - 20 }),
      [0, 0.5, 1].map((v) => s("text", { x: x(v), y: H - 6, "text-anchor": "middle" }, pct(v, 0))));
    ROWS.forEach(([name, stats], i) => {
      const flat = Object.fromEntries(flatten(stats));
      const value = flat[key], ci = ciOf(key, flat), y = 4 + i * rowH;
      svg.append(s("text", { x: 0, y: y + 15 }, name));
      if (typeof value !== "number") return;
      svg.append(s("rect", { class: "rate", x: L, y: y + 4, width: x(value) - L, height: rowH - 10 },
        s("title", null, `${name}: ${pct(value)}`)));
      if (ci) svg.append(s("line", { class: "whisker", x1: x(ci[0]), x2: x(ci[1]), y1: y + 11, y2: y + 11 }));
      svg.append(s("text", { x: W - R + 6, y: y + 15 }, pct(value) + (ci ? ` (${pct(ci[0])}–${pct(ci[1])})` : "")));
    });
    return h("div", { "data-rate": key }, h("h3", null, key), svg);
  }));
}

function outcomeCharts() {
  const groups = Object.entries(REPORT.overall).filter(([, v]) => v && typeof v === "object" &&
    !Array.isArray(v) && Object.values(v).every((n) => Number.isInteger(n)) && /win/.test(Object.keys(v).join()));
  return h("div", null, groups.map(([key]) => {
    const rows = ROWS.map(([name, stats]) => ({ label: name, note: `n ${num(stats.n)}`,
      parts: Object.entries(stats[key] || {}).map(([outcome, n]) => ({ value: stats.n ? n / stats.n : 0,
        cls: /loss/.test(outcome) ? "rejected" : /win/.test(outcome) ? "kept" : "tie",
        title: `${name}: ${outcome} ${num(n)}` })) }));
    return h("div", { "data-outcomes": key }, h("h3", null, `${key} outcomes for A`),
      legend([["kept", "win"], ["tie", "tie"], ["rejected", "loss"]]), stackedBars(rows, { max: 1, label: key }));
  }));
}

function matches(pair, outcome) {
  if (outcome === "all") return true;
  if (outcome === "flip") return pair.flip;
  if (outcome === "error") return pair.error;
  return pair.strict === outcome;
}

function orderBlock(pair, order) {
  const v = pair.orders[order];
  const first = order === "ab" ? "A" : "B";
  const head = `${first} shown first (${order}): `;
  if (!v) return h("div", null, h("strong", null, head), h("span", { class: "empty" }, "no judgment"));
  const verdict = v.error ? `error: ${v.error}` : `verdict [[${v.verdict}]] → ${v.outcome} for A` +
    (v.source && v.source !== "judge" ? ` (by rule: ${v.source})` : "");
  return h("div", { "data-order": order }, h("strong", null, head), verdict,
    v.attempts > 1 ? h("span", { class: "muted" }, ` after ${v.attempts} asks`) : null,
    v.raw ? h("pre", { class: "raw" }, v.raw) : h("p", { class: "empty" }, "(no reply text)"));
}

function answerBlock(text, wrong) {
  if (text === null || text === undefined) return h("span", { class: "empty" }, "(answer not found)");
  return [wrong ? h("span", { class: "chip bad" }, "wrong language") : null,
    text ? h("pre", { class: "prose" }, text) : h("span", { class: "empty" }, "(empty answer)")];
}

function pairCard(pair) {
  const chips = [pair.error ? h("span", { class: "chip bad" }, "error") : null,
    pair.strict ? h("span", { class: `chip ${pair.strict === "win" ? "good" : pair.strict === "loss" ? "bad" : ""}` },
      `strict: ${pair.strict}`) : null,
    pair.lenient ? h("span", { class: "chip" }, `lenient: ${pair.lenient}`) : null,
    pair.flip ? h("span", { class: "chip tag" }, "position flip") : null];
  const card = h("article", { class: "card", "data-lang": pair.lang, "data-id": pair.id,
    "data-strict": pair.strict || "", "data-flip": pair.flip ? "true" : "false",
    "data-error": pair.error ? "true" : "false" },
    h("div", { class: "head" }, h("span", { class: "mono" }, pair.id), chips),
    h("div", { class: "evidence" }, h("pre", { class: "prose" }, pair.instruction || "")),
    h("div", { class: "answers" }, h("div", { class: "colhead" }, `A: ${DATA.systems.a}`),
      h("div", { class: "colhead" }, `B: ${DATA.systems.b}`),
      h("div", { "data-side": "a" }, answerBlock(pair.a, pair.a_wrong)),
      h("div", { "data-side": "b" }, answerBlock(pair.b, pair.b_wrong))),
    h("div", { class: "verdicts" }, orderBlock(pair, "ab"), orderBlock(pair, "ba")));
  SEARCH.add(card, [pair.id, pair.instruction, pair.a, pair.b, pair.orders.ab?.raw,
    pair.orders.ba?.raw].join("\n"));
  return card;
}

let LANG = LANGS[0];
let OUTCOME = "all";

function outcomeButtons() {
  const bar = h("div", { class: "tabs", id: "outcomes" });
  const items = DATA.pairs[LANG] || [];
  for (const outcome of OUTCOMES) {
    const n = items.filter((p) => matches(p, outcome)).length;
    const button = h("button", { type: "button", "data-outcome": outcome,
      "aria-pressed": outcome === OUTCOME ? "true" : "false" }, `${outcome} (${n})`);
    button.addEventListener("click", () => { OUTCOME = outcome; showPairs(); });
    bar.append(button);
  }
  return bar;
}

function showPairs() {
  const items = DATA.pairs[LANG] || [];
  const total = DATA.totals[LANG] || 0;
  SEARCH.reset();
  fill(FILTERS, outcomeButtons());
  fill(VIEW, h("h2", null, `Pairs in ${LANG}`),
    h("p", { class: "note" }, items.length < total
      ? `${num(items.length)} of ${num(total)} pairs are in this page (the ones to read first: ` +
        "errors, position flips, losses, ties); judgments.jsonl has them all."
      : `${num(total)} pairs, each judged with A first (ab) and with B first (ba).`),
    DATA.note ? h("p", { class: "note" }, DATA.note) : null,
    items.filter((p) => matches(p, OUTCOME)).map(pairCard));
  VIEW.setAttribute("data-lang", LANG);
  SEARCH.apply();
}

const SEARCH = new Search(
  h("input", { type: "search", id: "search", placeholder: "Search the pairs: id, answer, reply",
    "aria-label": "Search the pairs" }),
  h("span", { class: "count", id: "count", "aria-live": "polite" }));
const FILTERS = h("div", { id: "filters" });
const VIEW = h("div", { id: "language-view" });
APP.append(header(Object.entries(REPORT.meta || {}).map(([k, v]) => [k, show(k, v)])), ratesSection());
if (LANGS.length) {
  APP.append(h("div", { class: "controls" },
    tabs(LANGS, {}, LANG, (lang) => { LANG = lang; showPairs(); }), FILTERS, SEARCH.input,
    SEARCH.counter), VIEW);
  showPairs();
}

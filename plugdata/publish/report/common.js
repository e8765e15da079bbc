"use strict";
// Shared helpers of plugdata's report pages. Data is user data: it only ever reaches the page
// as text (textContent, text nodes, setAttribute on attributes we name), never as markup.
const DATA = JSON.parse(document.getElementById("report-data").textContent);
const APP = document.getElementById("app");
const SVG_NS = "http://www.w3.org/2000/svg";

function h(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  appendAll(node, children);
  return node;
}

function s(tag, props, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setProps(node, props);
  appendAll(node, children);
  return node;
}

function setProps(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) throw new Error("no inline handlers");
    node.setAttribute(key, value === true ? "" : String(value));
  }
}

function appendAll(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function fill(node, ...children) {
  node.replaceChildren();
  appendAll(node, children);
}

function num(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : String(value ?? "–");
}

function pct(value, digits = 1) {
  return typeof value === "number" ? (100 * value).toFixed(digits) + "%" : "–";
}

// Text with every occurrence of the needles wrapped in <mark> (as text nodes).
function marked(text, needles) {
  const frag = document.createDocumentFragment();
  text = text ?? "";
  const spans = [];
  for (const needle of needles || []) {
    if (!needle) continue;
    let at = text.indexOf(needle);
    while (at >= 0) {
      spans.push([at, at + needle.length]);
      at = text.indexOf(needle, at + needle.length);
    }
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let pos = 0;
  for (const [start, end] of spans) {
    if (start < pos) continue;
    frag.append(document.createTextNode(text.slice(pos, start)));
    frag.append(h("mark", null, text.slice(start, end)));
    pos = end;
  }
  frag.append(document.createTextNode(text.slice(pos)));
  return frag;
}

function textBlock(text, needles) {
  if (!text) return h("span", { class: "empty" }, "(empty)");
  return h("pre", null, marked(text, needles));
}

function section(title, id, ...children) {
  return h("section", { id }, h("h2", null, title), ...children);
}

function table(headers, rows, opts = {}) {
  const head = h("tr", null, headers.map((name, i) =>
    h("th", { class: opts.reasonColumn === i ? "reason" : null, scope: "col" }, name)));
  const body = rows.map((row) => h("tr", { class: row.total ? "total" : null },
    row.cells.map((cell) => h("td", cell.attrs || null, cell.text))));
  return h("div", { class: "scroll" }, h("table", { id: opts.id }, h("thead", null, head),
    h("tbody", null, body)));
}

function cell(text, attrs) {
  return { text: String(text), attrs };
}

function header(items) {
  return h("dl", { class: "header" }, items.map(([label, value]) =>
    [h("dt", null, label), h("dd", null, value)]));
}

// A search box over a set of cards: every space-separated term must occur in a card's text.
class Search {
  constructor(input, counter) {
    this.input = input;
    this.counter = counter;
    this.cards = [];
    input.addEventListener("input", () => this.apply());
  }
  reset() {
    this.cards = [];
  }
  add(node, text) {
    this.cards.push({ node, text: text.toLowerCase() });
  }
  apply() {
    const terms = this.input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const card of this.cards) {
      const hit = terms.every((t) => card.text.includes(t));
      card.node.hidden = !hit;
      shown += hit;
    }
    this.counter.textContent = terms.length
      ? `${num(shown)} of ${num(this.cards.length)} examples match`
      : `${num(this.cards.length)} examples`;
    for (const group of document.querySelectorAll("[data-group]")) {
      const cards = group.querySelectorAll(".card");
      group.hidden = cards.length > 0 && [...cards].every((c) => c.hidden);
    }
  }
}

function tabs(names, labels, current, onPick) {
  const bar = h("div", { class: "tabs", role: "tablist" });
  for (const name of names) {
    const button = h("button", { type: "button", role: "tab", "data-lang": name,
      "aria-selected": name === current ? "true" : "false" }, labels[name] || name);
    button.addEventListener("click", () => {
      for (const b of bar.children) b.setAttribute("aria-selected", b === button ? "true" : "false");
      onPick(name);
    });
    bar.append(button);
  }
  return bar;
}

// Horizontal stacked bars: rows of {label, parts: [{value, cls, title}]}.
function stackedBars(rows, opts = {}) {
  const width = 560, rowH = 24, left = opts.left || 56, right = 110;
  const height = rows.length * rowH + 8;
  const max = opts.max || Math.max(1, ...rows.map((r) => r.parts.reduce((a, p) => a + p.value, 0)));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": opts.label || "chart" });
  rows.forEach((row, i) => {
    const y = 4 + i * rowH;
    svg.append(s("text", { x: 0, y: y + 15 }, row.label));
    let x = left;
    for (const part of row.parts) {
      const w = ((width - left - right) * part.value) / max;
      if (w > 0) svg.append(s("rect", { x, y: y + 3, width: w, height: rowH - 8, class: part.cls },
        s("title", null, part.title || `${part.cls}: ${num(part.value)}`)));
      x += w;
    }
    svg.append(s("text", { x: x + 6, y: y + 15 }, row.note || ""));
  });
  return svg;
}

function legend(items) {
  return h("div", { class: "legend" }, items.map(([cls, label]) =>
    h("span", null, h("span", { class: `swatch ${cls}` }), label)));
}

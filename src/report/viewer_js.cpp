// The conversation viewer's script: decompresses the embedded index for search and filters, and a
// conversation's chunk only when it is opened. Store text reaches the page only through textContent
// and title, never through HTML parsing, so model output cannot inject markup or script.
#include "report/page_assets.h"

namespace isc::report {

const char* viewer_js() {
  return R"JS(
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const meta = JSON.parse($("isc-meta").textContent);
  const cache = new Map();
  const state = { run: 0, cond: 0, query: "", flipped: false, wrongLast: false, category: "", shown: 100, selected: -1, matches: [] };
  const LABELS = "abcdefghijklmnopqrstuvwxyz";

  function fail(err) {
    console.error(err);
    $("v-error").textContent = "Could not load conversation data: " + err;
  }

  // base64 -> zlib (RFC 1950) -> JSON, via the browser's DecompressionStream; memoised per block.
  function unpack(id) {
    if (!cache.has(id)) {
      cache.set(id, (async () => {
        const el = $(id);
        if (!el) throw new Error("missing data block " + id);
        const text = atob(el.textContent.trim());
        const bytes = new Uint8Array(text.length);
        for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
        const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
        return JSON.parse(await new Response(stream).text());
      })());
    }
    return cache.get(id);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function optionLabel(i) { return i >= 0 && i < LABELS.length ? "(" + LABELS[i] + ")" : "#" + i; }

  // Flags of item i in condition c: answer changed between any two stored rounds; wrong in the last.
  function flipped(ix, c, i) {
    const a = ix.answers[c][i];
    for (let r = 1; r < a.length; r++) if (a[r] !== null && a[r - 1] !== null && a[r] !== a[r - 1]) return true;
    return false;
  }
  function wrongLast(ix, c, i) {
    const ok = ix.correct[c][i];
    for (let r = ok.length - 1; r >= 0; r--) if (ok[r] !== null) return ok[r] === 0;
    return false;
  }

  async function index() { return unpack("isc-index-" + state.run); }

  async function applyFilters() {
    const ix = await index();
    const q = state.query.trim().toLowerCase();
    const out = [];
    for (let i = 0; i < ix.items.length; i++) {
      const [id, cat, question] = ix.items[i];
      if (state.category && cat !== state.category) continue;
      if (q && !id.toLowerCase().includes(q) && !question.toLowerCase().includes(q)) continue;
      if (state.flipped && !flipped(ix, state.cond, i)) continue;
      if (state.wrongLast && !wrongLast(ix, state.cond, i)) continue;
      out.push(i);
    }
    state.matches = out;
    renderList(ix);
  }

  function renderList(ix) {
    const list = $("v-list");
    list.replaceChildren();
    const n = Math.min(state.shown, state.matches.length);
    for (let k = 0; k < n; k++) {
      const i = state.matches[k];
      const li = el("li");
      const b = el("button", "", ix.items[i][0]);
      b.type = "button";
      b.dataset.index = i;
      if (i === state.selected) b.setAttribute("aria-current", "true");
      if (ix.items[i][1]) b.appendChild(el("span", "cat", ix.items[i][1]));
      b.addEventListener("click", () => select(i).catch(fail));
      li.appendChild(b);
      list.appendChild(li);
    }
    $("v-count").textContent = state.matches.length + " of " + ix.items.length + " items";
    $("v-more").hidden = state.matches.length <= n;
    document.body.dataset.viewer = "ready";
  }

  function tokenSpan(t) {
    const [text, lp, top] = t;
    const p = Math.exp(lp);
    const s = el("span", "tok", text);
    // the less likely the token, the stronger the shade (Okabe–Ito orange)
    s.style.backgroundColor = "rgba(230, 159, 0, " + (0.85 * (1 - p)).toFixed(3) + ")";
    let tip = "logprob " + lp.toFixed(3) + " · p " + p.toFixed(3);
    if (top && top.length) tip += "\nalternatives: " + top.map(([a, l]) => JSON.stringify(a) + " " + l.toFixed(3)).join(", ");
    s.title = tip;
    s.dataset.logprob = lp;
    return s;
  }

  function probBars(item, round) {
    const box = el("div", "probs");
    round.o.forEach((p, k) => {
      const gold = k === item.gold;
      box.appendChild(el("span", gold ? "gold" : "", optionLabel(k) + (gold ? " ✓" : "")));
      const track = el("div", "track");
      const bar = el("div", "bar");
      bar.style.width = (100 * p).toFixed(1) + "%";
      track.appendChild(bar);
      track.title = (item.options[k] || "") + ": p = " + p.toFixed(4);
      box.appendChild(track);
      box.appendChild(el("span", "num", p.toFixed(3)));
    });
    return box;
  }

  function roundView(item, round) {
    const d = el("div", "round");
    d.dataset.round = round.r;
    d.appendChild(el("div", "who", "round " + round.r + " · user"));
    d.appendChild(el("div", "user", round.u));
    d.appendChild(el("div", "who", "assistant"));
    const a = el("div", "assistant");
    if (round.p) a.appendChild(el("span", "prefill", round.p));
    if (round.t.length) for (const t of round.t) a.appendChild(tokenSpan(t));
    else if (round.x) a.appendChild(el("span", "", round.x));
    d.appendChild(a);
    const line = el("div", "answer-line");
    line.appendChild(el("span", "", "parsed answer: "));
    line.appendChild(el("strong", "parsed", round.i >= 0 ? optionLabel(round.i) + " " + (item.options[round.i] || "") : (round.a || "(none)")));
    if (round.c === true) line.appendChild(el("span", "verdict right", "✓ right"));
    else if (round.c === false) line.appendChild(el("span", "verdict wrong", round.i < 0 ? "✗ unparsed" : "✗ wrong"));
    if (round.s !== null && round.s !== undefined) line.appendChild(el("span", "score", " · score " + round.s));
    d.appendChild(line);
    if (round.o && round.o.length) d.appendChild(probBars(item, round));
    if (round.m && round.m.length) d.appendChild(samplesView(round));
    return d;
  }

  // The round's extra samples, grouped by meaning cluster: [answer, cluster, score, logprob, tokens].
  function samplesView(round) {
    const box = el("details", "samples");
    const clusters = new Set(round.m.map(m => m[1]));
    box.appendChild(el("summary", "", round.m.length + " samples · " + clusters.size + " meaning cluster" +
                                      (clusters.size === 1 ? "" : "s")));
    const list = el("ol", "sample-list");
    round.m.forEach(m => {
      const li = el("li", "sample");
      li.dataset.cluster = m[1];
      li.appendChild(el("span", "cluster", "cluster " + (m[1] + 1)));
      li.appendChild(el("span", "sample-text", " " + m[0]));
      let info = " · log p " + m[3] + " over " + m[4] + " tokens";
      if (m[2] !== null && m[2] !== undefined) info += " · score " + m[2];
      li.appendChild(el("span", "num", info));
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  }

  async function select(i) {
    state.selected = i;
    const ix = await index();
    const chunk = Math.floor(i / ix.chunk), at = i % ix.chunk;
    const items = await unpack("isc-items-" + state.run + "-" + chunk);
    const item = items[at];
    const convs = await Promise.all(ix.conditions.map((_, c) => unpack("isc-conv-" + state.run + "-" + c + "-" + chunk)));
    const box = $("v-detail");
    box.replaceChildren();
    box.appendChild(el("h3", "item-id", item.id));
    if (item.category) box.appendChild(el("div", "note", "category: " + item.category));
    const f = item.fields || {};
    for (const key of ["context", "question", "prompt", "sentence", "response"])
      if (typeof f[key] === "string") {
        const p = el("p", "item-text");
        p.appendChild(el("strong", "", key + ": "));
        p.appendChild(document.createTextNode(f[key]));
        box.appendChild(p);
      }
    if (item.options.length) {
      const ol = el("ol", "options");
      ol.type = "a";
      item.options.forEach((o, k) => ol.appendChild(el("li", k === item.gold ? "gold" : "", o + (k === item.gold ? "  ✓ gold" : ""))));
      box.appendChild(ol);
    }
    const others = Object.keys(f).filter((k) => !["context", "question", "prompt", "sentence", "response"].includes(k));
    if (others.length) {
      const det = el("details");
      det.appendChild(el("summary", "", "other item fields"));
      const dl = el("dl");
      for (const k of others) { dl.appendChild(el("dt", "", k)); dl.appendChild(el("dd", "", JSON.stringify(f[k]))); }
      det.appendChild(dl);
      box.appendChild(det);
    }
    const run = meta.runs[state.run];
    ix.conditions.forEach((name, c) => {
      const rounds = convs[c][at];
      const sec = el("section", "conv");
      sec.dataset.condition = name;
      const color = (run.colors && run.colors[c]) || "#999";
      sec.style.borderLeftColor = color;
      sec.appendChild(el("h4", "", "condition " + name));
      if (!rounds) { sec.appendChild(el("p", "note", "no rounds stored")); box.appendChild(sec); return; }
      const stop = ix.stopped[c][i];
      if (stop) sec.appendChild(el("p", "note", "stopped early after round " + stop + " (answer unchanged); the metrics carry this answer forward"));
      for (const r of rounds) sec.appendChild(roundView(item, r));
      box.appendChild(sec);
    });
    for (const b of $("v-list").querySelectorAll("button")) b.setAttribute("aria-current", String(Number(b.dataset.index) === i));
    history.replaceState(null, "", "#item=" + encodeURIComponent(item.id));
    document.body.dataset.detail = item.id;
  }

  async function setRun(r) {
    state.run = r;
    state.cond = 0;
    state.selected = -1;
    const ix = await index();
    const cond = $("v-cond");
    cond.replaceChildren();
    ix.conditions.forEach((name, c) => { const o = el("option", "", name); o.value = c; cond.appendChild(o); });
    const cats = [...new Set(ix.items.map((it) => it[1]).filter((c) => c))].sort();
    const sel = $("v-category");
    sel.replaceChildren(el("option", "", "all categories"));
    sel.firstChild.value = "";
    for (const c of cats) { const o = el("option", "", c); o.value = c; sel.appendChild(o); }
    state.category = "";
    await applyFilters();
  }

  function bind() {
    const runSel = $("v-run");
    meta.runs.forEach((r, k) => { const o = el("option", "", r.label); o.value = k; runSel.appendChild(o); });
    runSel.hidden = meta.runs.length < 2;
    runSel.addEventListener("change", () => setRun(Number(runSel.value)).catch(fail));
    $("v-cond").addEventListener("change", (e) => { state.cond = Number(e.target.value); applyFilters().catch(fail); });
    $("v-search").addEventListener("input", (e) => { state.query = e.target.value; state.shown = 100; applyFilters().catch(fail); });
    $("v-flipped").addEventListener("change", (e) => { state.flipped = e.target.checked; applyFilters().catch(fail); });
    $("v-wrong").addEventListener("change", (e) => { state.wrongLast = e.target.checked; applyFilters().catch(fail); });
    $("v-category").addEventListener("change", (e) => { state.category = e.target.value; applyFilters().catch(fail); });
    $("v-more").addEventListener("click", () => { state.shown += 100; index().then(renderList).catch(fail); });
  }

  // "#item=ID" opens that item of the current run: links into the report, and back/forward.
  async function openFromHash() {
    const m = /^#item=(.*)$/.exec(location.hash);
    if (!m) return;
    const id = decodeURIComponent(m[1]);
    const ix = await index();
    const i = ix.items.findIndex((it) => it[0] === id);
    if (i >= 0 && document.body.dataset.detail !== id) await select(i);
  }

  async function start() {
    bind();
    await setRun(0);
    await openFromHash();
    window.addEventListener("hashchange", () => openFromHash().catch(fail));
  }

  if (typeof DecompressionStream === "undefined") {
    fail("this browser lacks DecompressionStream; open the report in a current Chromium, Firefox or Safari");
    return;
  }
  start().catch(fail);
})();
)JS";
}

}  // namespace isc::report

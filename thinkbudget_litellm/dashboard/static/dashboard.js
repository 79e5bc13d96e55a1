// thinkbudget dashboard: fetches /thinkbudget/api/* with the key the user gave (kept in this tab's
// sessionStorage, or taken from the URL fragment #key=...), and redraws without reloading the page.
// Every stored value is inserted as text (textContent), never as markup.
"use strict";
(function () {
  const API = "/thinkbudget/api";
  const KEY_STORE = "thinkbudget.key";
  const $ = (id) => document.getElementById(id);
  const hasPlotly = typeof window.Plotly !== "undefined";
  const powerSeries = {};  // deployment -> {x: [], y: []}, grown on each refresh
  let timer = null;
  let busy = false;

  function takeKeyFromFragment() {
    const match = /(?:^|&)key=([^&]+)/.exec(window.location.hash.slice(1));
    if (match) {
      sessionStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  function key() { return sessionStorage.getItem(KEY_STORE) || ""; }

  async function api(path, options) {
    const init = Object.assign({ headers: {} }, options || {});
    init.headers = Object.assign({ Authorization: "Bearer " + key() }, init.headers);
    const response = await fetch(API + path, init);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = body && body.detail ? body.detail : body;
      const message = (detail && (detail.error || detail.message)) || JSON.stringify(detail);
      const error = new Error(response.status + ": " + message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function query() {
    const params = new URLSearchParams({ since: $("since").value });
    for (const [name, id] of [["team", "team"], ["key", "keyf"], ["model", "model"]]) {
      if ($(id).value) params.set(name, $(id).value);
    }
    return params;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return "—";
    if (typeof value !== "number") return String(value);
    if (Math.abs(value) >= 1e6) return (value / 1e6).toFixed(2) + "M";
    if (Math.abs(value) >= 1e4) return (value / 1e3).toFixed(1) + "k";
    return value.toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 2 : digits });
  }

  function money(value) {
    if (value === null || value === undefined) return "—";
    return "$" + (Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3));
  }

  function pct(value) { return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%"; }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function setOptions(select, values, labels) {
    const current = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const value of values) {
      const option = el("option", labels && labels[value] ? labels[value] : value);
      option.value = value;
      select.appendChild(option);
    }
    if (values.includes(current)) select.value = current;
  }

  function renderCards(s) {
    const cards = $("cards");
    cards.replaceChildren();
    const items = [
      ["requests", fmt(s.requests, 0)],
      ["thinking tokens", fmt(s.thinking_tokens, 0)],
      ["saved vs baseline", s.tokens_saved === null ? "— (no baseline)" : fmt(s.tokens_saved, 0) + " (" + pct(s.saved_fraction) + ")"],
      ["GPU cost", money(s.cost_usd)],
      ["GPU energy", s.energy_j === null ? "—" : fmt(s.energy_j / 3600, 3) + " Wh"],
      ["CO2e", s.co2e_g === null ? "—" : fmt(s.co2e_g, 3) + " g"],
      ["cut rate", pct(s.cut_rate)],
      ["cache hits", fmt(s.cache_hits, 0) + (s.cache_saved_usd ? " (saved " + money(s.cache_saved_usd) + ")" : "")],
    ];
    for (const [label, value] of items) {
      const card = el("div", null, "card");
      card.appendChild(el("div", value, "v"));
      card.appendChild(el("div", label, "k"));
      cards.appendChild(card);
    }
  }

  function renderFeed(requests) {
    const body = $("feed").querySelector("tbody");
    body.replaceChildren();
    for (const r of requests) {
      const tr = document.createElement("tr");
      tr.className = r.status;
      tr.dataset.callId = r.call_id;
      const cells = [
        [r.time.replace("T", " ").replace("Z", "").slice(0, 19)], [r.team || "—"], [r.key], [r.model || "—"],
        [r.route || "—"], [r.tier || "—"], [fmt(r.budget, 0), "n"], [fmt(r.thinking_tokens, 0), "n"],
        [r.cut ? "yes" : "no"], [r.status], [money(r.cost_usd), "n"], [fmt(r.energy_j, 1), "n"],
        [fmt(r.co2e_g, 4), "n"], [fmt(r.latency_ms, 0), "n"],
      ];
      for (const [text, cls] of cells) tr.appendChild(el("td", text, cls));
      body.appendChild(tr);
    }
    if (!requests.length) {
      const tr = document.createElement("tr");
      const td = el("td", "no requests in this period");
      td.colSpan = 14;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  const layout = (extra) => Object.assign(
    { margin: { l: 50, r: 10, t: 10, b: 40 }, legend: { orientation: "h" }, autosize: true }, extra || {});
  const config = { displaylogo: false, responsive: true };

  function renderHistory(h) {
    if (!hasPlotly) return;
    const metric = $("metric").value;
    const traces = Object.entries(h.groups).map(([name, series]) => ({
      type: "bar", name: name, x: h.buckets, y: series[metric],
    }));
    Plotly.react("chart-history", traces, layout({ barmode: "stack", yaxis: { title: $("metric").selectedOptions[0].textContent } }), config);
  }

  function renderSaving(s) {
    if (!hasPlotly) return;
    const points = s.cumulative_saving;
    const traces = [
      { type: "scatter", mode: "lines", name: "thinking tokens saved vs baseline", x: points.map((p) => p.time), y: points.map((p) => p.tokens_saved) },
      { type: "scatter", mode: "lines", name: "cache savings $", yaxis: "y2", x: points.map((p) => p.time), y: points.map((p) => p.cache_saved_usd) },
    ];
    Plotly.react("chart-saving", traces, layout({ yaxis: { title: "tokens" }, yaxis2: { title: "$", overlaying: "y", side: "right" } }), config);
  }

  function renderTiers(s) {
    if (!hasPlotly) return;
    const tiers = Object.keys(s.tier_mix);
    const trace = { type: "pie", labels: tiers, values: tiers.map((t) => s.tier_mix[t]), hole: 0.45, sort: false };
    Plotly.react("chart-tiers", [trace], layout({ annotations: [{ text: "cut " + pct(s.cut_rate), showarrow: false }] }), config);
  }

  function renderGpu(g) {
    const body = $("gpu").querySelector("tbody");
    body.replaceChildren();
    for (const d of g.deployments) {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[d.deployment.length > 14 ? d.deployment.slice(0, 12) + "…" : d.deployment], [d.model || "—"], [d.source + (d.healthy ? "" : " (failing)")],
        [fmt(d.power_w, 1), "n"], [fmt(d.metered_j / 3.6e6, 6), "n"], [fmt(d.active_requests, 0), "n"]]) {
        tr.appendChild(el("td", text, cls));
      }
      body.appendChild(tr);
      if (d.power_w !== null && d.power_w !== undefined) {
        const series = powerSeries[d.deployment] || (powerSeries[d.deployment] = { x: [], y: [], name: d.model || d.deployment });
        series.x.push(g.time);
        series.y.push(d.power_w);
        if (series.x.length > 240) { series.x.shift(); series.y.shift(); }
      }
    }
    if (!hasPlotly) return;
    const traces = Object.values(powerSeries).map((s) => ({ type: "scatter", mode: "lines+markers", name: s.name, x: s.x, y: s.y }));
    Plotly.react("chart-power", traces, layout({ yaxis: { title: "W" } }), config);
  }

  async function refresh() {
    if (busy) return;
    if (!key()) { $("status").textContent = "enter a LiteLLM key to see the figures"; return; }
    busy = true;
    try {
      const q = query();
      const byQuery = new URLSearchParams(q);
      byQuery.set("by", $("by").value);
      const [stats, hist, feed, gpu] = await Promise.all([
        api("/stats?" + q), api("/history?" + byQuery), api("/requests?" + q + "&limit=50"), api("/gpu"),
      ]);
      $("scope").textContent = "showing: " + stats.scope;
      setOptions($("team"), stats.options.teams);
      setOptions($("keyf"), stats.options.keys, stats.key_labels);
      setOptions($("model"), stats.options.models);
      renderCards(stats.summary);
      renderFeed(feed.requests);
      renderHistory(hist);
      renderSaving(stats.summary);
      renderTiers(stats.summary);
      renderGpu(gpu);
      $("status").className = "muted";
      $("status").textContent = "updated " + new Date().toLocaleTimeString() + " · " + stats.database;
    } catch (error) {
      $("status").className = "error";
      $("status").textContent = error.status === 401 ? "this key may not see the dashboard (401)" : String(error.message);
    } finally {
      busy = false;
    }
  }

  async function classifyPrompt(event) {
    event.preventDefault();
    const out = $("classified");
    out.replaceChildren();
    try {
      const r = await api("/classify", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: $("prompt").value }),
      });
      const dl = document.createElement("dl");
      const add = (k, v) => { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v)); };
      add("tier", r.tier);
      add("task", r.task);
      add("budget", fmt(r.budget, 0) + " thinking tokens");
      add("score", fmt(r.score, 2));
      add("why", r.reasons.join("; ") || "—");
      add("features", Object.entries(r.features).map(([k, v]) => k + "=" + v).join(", "));
      add("took", fmt(r.elapsed_us, 0) + " µs, no model called");
      out.appendChild(dl);
    } catch (error) {
      out.appendChild(el("p", String(error.message), "error"));
    }
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = $("auto").checked ? setInterval(refresh, 5000) : null;
  }

  takeKeyFromFragment();
  $("auth").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("key").value.trim());
    $("key").value = "";
    refresh();
  });
  for (const id of ["since", "team", "keyf", "model", "by", "metric"]) $(id).addEventListener("change", refresh);
  $("auto").addEventListener("change", schedule);
  $("refresh").addEventListener("click", refresh);
  $("classify").addEventListener("submit", classifyPrompt);
  schedule();
  refresh();
})();

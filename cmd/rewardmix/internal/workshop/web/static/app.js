// The workshop page: knobs -> GET /api/scene -> figures (SVG drawn by the
// server's plots package), headline numbers, review table, deployment.
"use strict";

const $ = (id) => document.getElementById(id);
let presets = [];
let preset = null;        // the preset whose knobs are shown
let storyIndex = -1;      // -1: explore mode
let inflight = false, pending = false;
let seq = 0;              // number of the latest scene asked for; older answers are not drawn
let fixed = null;         // steps, users and seed of the shown scenario (no knob for them)
let changedAt = 0;        // time of the first knob change not yet drawn
window.rmLatencies = [];  // ms from a knob change to its figures painted (read by the browser test)

async function getJSON(url) {
  const r = await fetch(url);
  let j;
  try { j = await r.json(); } catch (e) { throw new Error(r.status + " " + r.statusText); }
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

const betaFromPos = (i) => Number(Math.pow(10, -3 + i / 100).toPrecision(3));
const posFromBeta = (b) => Math.round((Math.log10(b) + 3) * 100);

// pct matches the server's: 99.6% must not read as 100%.
function pct(x) {
  const p = 100 * x, a = Math.abs(p);
  if (p === 0) return "0%";
  if (a < 1) return p.toFixed(2) + "%";
  if (a < 10 || (a > 99.5 && a < 100)) return p.toFixed(1) + "%";
  return p.toFixed(0) + "%";
}

const points = (x) => (x >= 0 ? "+" : "") + (100 * x).toFixed(1) + " points";

function count(x) {
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toFixed(1).replace(/\.0$/, "") + " billion";
  if (a >= 1e6) return (x / 1e6).toFixed(1).replace(/\.0$/, "") + " million";
  if (a >= 1e4) return (x / 1e3).toFixed(0) + " thousand";
  return x.toFixed(0);
}

function option(sel, values, value) {
  sel.textContent = "";
  for (const v of values) {
    const o = document.createElement("option");
    o.value = o.textContent = v;
    sel.append(o);
  }
  sel.value = value;
}

// buildControls lays out the knobs of preset p.
function buildControls(p) {
  preset = p;
  $("preset").value = p.name;
  $("preset-desc").textContent = p.description;
  const box = $("weights");
  box.textContent = "";
  for (const s of p.signals) {
    const lab = document.createElement("label");
    lab.className = "slider";
    lab.append(s.name + (s.name === p.primary ? " weight (primary) " : " weight "));
    const out = document.createElement("output");
    out.id = "w-" + s.name + "-out";
    const inp = document.createElement("input");
    Object.assign(inp, { type: "range", id: "w-" + s.name, min: 0, max: s.max, step: 0.05 });
    inp.dataset.param = "w." + s.name;
    inp.addEventListener("input", changed);
    lab.append(out, inp);
    box.append(lab);
  }
  option($("weight_mode"), p.weight_modes, p.scenario.weight_mode);
  option($("aggregation"), p.aggregations, p.scenario.aggregation);
  setControls(p.scenario);
}

// setControls shows a scenario's values on the knobs.
function setControls(s) {
  fixed = { steps: s.steps, users: s.users, seed: s.seed };
  for (const [name, w] of Object.entries(s.weights)) {
    const inp = $("w-" + name);
    if (inp) {
      if (w > Number(inp.max)) inp.max = Math.ceil(w);
      inp.value = w;
    }
  }
  $("weight_mode").value = s.weight_mode;
  $("aggregation").value = s.aggregation;
  $("memory").checked = s.memory;
  $("update_step").max = s.steps - 1;
  $("update_step").value = s.update_step;
  $("beta").value = posFromBeta(s.beta);
  showValues();
}

function showValues() {
  for (const inp of document.querySelectorAll("#weights input")) {
    $(inp.id + "-out").textContent = Number(inp.value).toFixed(2);
  }
  $("update_step-out").textContent = $("update_step").value;
  $("beta-out").textContent = betaFromPos(Number($("beta").value));
}

// params reads the knobs as query parameters.
function params() {
  const q = new URLSearchParams();
  q.set("preset", preset.name);
  for (const inp of document.querySelectorAll("#weights input")) q.set(inp.dataset.param, inp.value);
  q.set("weights", $("weight_mode").value);
  q.set("aggregation", $("aggregation").value);
  q.set("memory", $("memory").checked ? "on" : "off");
  q.set("update_step", $("update_step").value);
  q.set("beta", String(betaFromPos(Number($("beta").value))));
  q.set("steps", String(fixed.steps));
  q.set("users", String(fixed.users));
  q.set("seed", String(fixed.seed));
  return q;
}

function changed() {
  if (!changedAt) changedAt = performance.now();
  if (storyIndex >= 0) $("story-ask").textContent = "You have moved a knob: the figures show your settings, the text above the story's. Back or Next returns to the story.";
  showValues();
  request("/api/scene?" + params());
}

// request fetches a scene; while one is in flight, only the latest change
// waits, so a dragged slider never queues stale runs.
let next = null;
function request(url) {
  next = url;
  if (inflight) { pending = true; return; }
  inflight = true;
  pending = false;
  const u = next, my = ++seq;
  $("status").textContent = "running…";
  getJSON(u).then((j) => {
    if (!pending && my === seq) render(j);
  }).catch((e) => {
    if (my === seq) showError(e);
  }).finally(() => {
    inflight = false;
    if (pending) request(next);
  });
}

function render(j) {
  for (const k of ["drift", "segments", "influence"]) $("fig-" + k).innerHTML = j.figures[k];
  const h = j.headline;
  const show = (id, big, label) => {
    $(id).querySelector(".big").textContent = big;
    if (label !== undefined) $(id).querySelector(".label").textContent = label;
  };
  show("h-influence", `${pct(h.influence_before)} → ${pct(h.influence_update)} → ${pct(h.influence_after)}`,
    `${h.primary} reward's share of the update: before → at the update (step ${h.update_step}) → end`);
  show("h-syc", `${pct(h.sycophancy_before)} → ${pct(h.sycophancy_after)}`);
  show("h-seg", `${pct(h.segment_before)} → ${pct(h.segment_after)}`,
    `sycophancy, ${h.segment} users (${pct(h.segment_share)} of all): before → after`);
  show("h-ab", h.decision ? pct(h.ab_preference) : "none",
    h.decision ? `A/B preference for the candidate (${h.ab_significant ? "significant" : "not significant"})` : "no release review");
  show("h-decision", h.decision || "none");
  $("h-decision").dataset.decision = h.decision || "";
  renderReview(j.review);
  renderDeployment(j.deployment, h);
  const ms = j.millis ? `computed in ${Math.round(j.millis)} ms` : "from the cache";
  $("status").textContent = `${j.name}: ${ms}`;
  $("status").className = "";
  if (j.story) renderStory(j.story);
  if (changedAt) {
    // Measured once the new figures are painted: the frame after next.
    const t0 = changedAt;
    changedAt = 0;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.rmLatencies.push(performance.now() - t0);
      bump();
    }));
  } else {
    bump();
  }
}

// bump tells observers (the address bar, the browser test) that a scene
// has been drawn.
function bump() {
  document.body.dataset.version = String(Number(document.body.dataset.version) + 1);
}

function showError(e) {
  $("status").textContent = "error: " + e.message;
  $("status").className = "error";
}

function renderReview(r) {
  const tb = $("review-rows");
  tb.textContent = "";
  if (!r) { $("review-note").textContent = "This preset has no release review."; return; }
  for (const g of r.gates) {
    const tr = document.createElement("tr");
    let v = pct(g.value), t = `${g.op} ${pct(g.threshold)}`;
    if (g.name === "vibe_checks") { v = `${g.value} of ${r.vibe_checks}`; t = `${g.op} ${g.threshold}`; }
    if (g.name === "ab_thumbs_delta") { v = points(g.value); t = `${g.op} ${points(g.threshold)}`; }
    for (const c of [g.name.replaceAll("_", " "), v, t, g.passed ? "pass" : "FAIL", g.blocking ? "blocking" : "advisory"]) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.append(td);
    }
    tr.className = g.passed ? "pass" : (g.blocking ? "fail" : "flag");
    tb.append(tr);
  }
  $("review-note").textContent = `Rule "${r.rule}". Decision: ${r.decision}.`;
}

function renderDeployment(d, h) {
  const p = $("deployment-text");
  if (!d) { p.textContent = h.decision === "block" ? "The launch was blocked: no user saw the candidate." : "Not launched."; return; }
  const alpha = d.caught_in_alpha ? " The drift was caught in the opt-in alpha, before the wide rollout." : "";
  const found = d.hours_to_detection >= 0
    ? `Detected ${d.hours_to_detection.toFixed(0)} h into the rollout; mitigation at ${d.hours_to_mitigation.toFixed(0)} h; rollback complete at ${d.hours_to_rollback_done.toFixed(0)} h.`
    : "Not detected within the deployment's horizon: no rollback.";
  p.textContent = `Thumbs-up trend after launch: ${points(d.thumbs_trend)}${d.thumbs_trend > 0 ? " (no alarm from it)" : ""}. ` +
    `${found}${alpha} Sycophantic responses served: ${count(d.sycophantic_served_total)}, ` +
    `${count(h.segment_served)} of them to ${h.segment} users.`;
}

const focusTarget = { headline: "headline", drift: "fig-drift", segments: "fig-segments", influence: "fig-influence", review: "review", deployment: "deployment" };

function renderStory(s) {
  $("story-pos").textContent = `Step ${s.index + 1} of ${s.count}`;
  $("story-title").textContent = s.title;
  $("story-text").textContent = s.text;
  $("story-ask").textContent = "Ask the room: " + s.ask;
  $("story-prev").disabled = s.index === 0;
  $("story-next").disabled = s.index === s.count - 1;
  document.querySelectorAll(".focus").forEach((e) => e.classList.remove("focus"));
  const t = $(focusTarget[s.focus]);
  if (t) {
    t.classList.add("focus");
    t.scrollIntoView({ block: "nearest" });
  }
}

async function story(i) {
  storyIndex = i;
  const my = ++seq;
  $("status").textContent = "running…";
  $("story-prev").disabled = i === 0;
  try {
    const j = await getJSON("/api/scene?story=" + i);
    if (my !== seq) return; // a later step or knob change was asked for
    if (j.scenario.preset !== preset.name) buildControls(presets.find((p) => p.name === j.scenario.preset));
    setControls(j.scenario);
    render(j);
  } catch (e) {
    if (my === seq) showError(e);
  }
}

function mode(storyMode) {
  $("story").hidden = !storyMode;
  $("mode-story").classList.toggle("on", storyMode);
  $("mode-explore").classList.toggle("on", !storyMode);
  if (storyMode) story(0);
  else {
    storyIndex = -1;
    document.querySelectorAll(".focus").forEach((e) => e.classList.remove("focus"));
    history.replaceState(null, "", "#" + params());
  }
}

async function main() {
  presets = await getJSON("/api/presets");
  option($("preset"), presets.map((p) => p.name), "incident");
  $("preset").addEventListener("change", () => {
    buildControls(presets.find((p) => p.name === $("preset").value));
    changed();
  });
  for (const id of ["weight_mode", "aggregation", "memory"]) $(id).addEventListener("change", changed);
  for (const id of ["update_step", "beta"]) $(id).addEventListener("input", changed);
  $("reset").addEventListener("click", () => { buildControls(preset); changed(); });
  $("mode-story").addEventListener("click", () => mode(true));
  $("mode-explore").addEventListener("click", () => mode(false));
  $("story-prev").addEventListener("click", () => story(storyIndex - 1));
  $("story-next").addEventListener("click", () => story(storyIndex + 1));

  // A bookmarked page (#preset=...&w.thumbs=...) comes back as it was.
  // The knobs snap to their steps, so the scenario drawn is the snapped one.
  const start = new URLSearchParams(location.hash.slice(1));
  const incident = presets.find((x) => x.name === "incident") || presets[0];
  buildControls(presets.find((x) => x.name === start.get("preset")) || incident);
  if (start.has("preset")) {
    try {
      const j = await getJSON("/api/scene?" + start);
      setControls(j.scenario);
    } catch (e) {
      showError(new Error("the bookmarked settings were refused (" + e.message + "); showing the preset"));
      buildControls(incident);
    }
  }
  request("/api/scene?" + params());
}

// Keep the address bar on the shown scenario, for bookmarks.
const drawn = new MutationObserver(() => {
  if (preset && storyIndex < 0) history.replaceState(null, "", "#" + params());
});
drawn.observe(document.body, { attributes: true, attributeFilter: ["data-version"] });

main().catch((e) => {
  $("status").textContent = "error: " + e.message;
  $("status").className = "error";
});

// The editor page: one session per browser tab (its id lives in sessionStorage, which is
// per tab), every turn kept by the app, so any turn can be edited from (a branch).
"use strict";

const SESSION_KEY = "seqgan-editor-session";
const $ = (id) => document.getElementById(id);

const state = {
  info: null,
  session: null, // session id on the app
  turns: [], // by id; each {id, parent, text, image, tokens, attention, version, client_ms}
  head: 0, // last turn of the strip
  selected: 0, // the turn the next edit continues
  word: null, // the word whose attention is drawn on the detail image
  retry: null, // what the Retry button re-sends
};
// Elements made once per turn (a turn never changes), so a render only moves them around.
const tiles = new Map();
const images = new Map();
// Round-trip times of the edits made in this tab (the latency test reads them).
window.editorTimings = [];

class AppError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

async function api(method, path, body, contentType) {
  const timeoutMs = ((state.info && state.info.timeout_s) || 10) * 1000 + 5000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    const options = { method, signal: controller.signal, headers: {} };
    if (body !== undefined) {
      options.body = body;
      options.headers["Content-Type"] = contentType || "application/json";
    }
    response = await fetch(path, options);
  } catch (error) {
    if (error.name === "AbortError") {
      throw new AppError("timeout", `No answer from the editor app within ${timeoutMs / 1000} s ` +
        "(request timed out). Your turns are kept; retry.");
    }
    throw new AppError("app_down", "The editor app itself is not reachable (is " +
      "scripts/editor_app.py still running?). Your turns are kept in this tab; retry.");
  } finally {
    clearTimeout(timer);
  }
  let payload;
  try {
    payload = await response.json();
  } catch (error) {
    throw new AppError("app_error", `Unreadable answer from the app (HTTP ${response.status}).`);
  }
  if (!response.ok) {
    const e = payload.error || {};
    throw new AppError(e.kind || "error", e.message || `HTTP ${response.status}`);
  }
  return payload;
}

// -- messages -------------------------------------------------------------------------------

function showError(error, retry) {
  $("error").hidden = false;
  $("error").dataset.kind = error.kind || "error";
  $("error-message").textContent = error.message;
  state.retry = retry || null;
  $("retry-button").hidden = !retry;
  if (["server_down", "timeout", "model_not_found", "app_down"].includes(error.kind)) {
    refreshStatus();
  }
}

function clearError() {
  $("error").hidden = true;
  $("error").dataset.kind = "";
  state.retry = null;
}

async function refreshStatus() {
  const pill = $("status");
  try {
    const status = await api("GET", "/api/status");
    pill.dataset.ok = String(status.ok);
    pill.textContent = status.ok ? status.message : `not ready: ${status.message}`;
  } catch (error) {
    pill.dataset.ok = "false";
    pill.textContent = error.message;
  }
}

// -- session ----------------------------------------------------------------------------------

async function ensureSession() {
  if (state.session) return state.session;
  const stored = sessionStorage.getItem(SESSION_KEY);
  if (stored) {
    try {
      const saved = await api("GET", `/api/session/${stored}`);
      state.session = stored;
      loadSession(saved, null);
      return stored;
    } catch (error) {
      if (error.kind !== "unknown_session") throw error;
    }
  }
  const created = await api("POST", "/api/session", "{}");
  state.session = created.session;
  sessionStorage.setItem(SESSION_KEY, created.session);
  return created.session;
}

function loadSession(payload, head) {
  state.turns = payload.turns;
  tiles.clear();
  images.clear();
  if (!state.turns.length) return;
  state.head = head === null || head === undefined ? state.turns.length - 1 : head;
  state.selected = state.head;
  state.word = null;
  const reference = $("reference");
  reference.hidden = !(payload.reference && payload.reference.length);
  reference.replaceChildren();
  if (!reference.hidden) {
    reference.append("Recorded edits of this test session (click to use): ");
    for (const text of payload.reference) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "link";
      chip.textContent = text;
      chip.addEventListener("click", () => { $("edit-text").value = text; $("edit-text").focus(); });
      reference.append(chip);
    }
  }
  $("start-note").textContent = payload.source ? `started from ${payload.source}` : "";
  $("session-panel").hidden = false;
  render();
}

async function startFrom(kind, file) {
  const retry = () => startFrom(kind, file);
  clearError();
  try {
    const id = await ensureSession();
    let payload;
    if (kind === "upload") {
      const limit = state.info ? state.info.max_upload_bytes : Infinity;
      if (file.size > limit) {
        throw new AppError("bad_image", `The upload is ${(file.size / 1e6).toFixed(1)} MB; ` +
          `at most ${(limit / 1e6).toFixed(0)} MB is accepted.`);
      }
      payload = await api("POST", `/api/session/${id}/start`, file,
        file.type || "application/octet-stream");
    } else {
      payload = await api("POST", `/api/session/${id}/example`, "{}");
    }
    clearError();
    if (!state.info || !state.info.model) state.info = await api("GET", "/api/info");
    loadSession(payload, null);
    if ($("status").dataset.ok !== "true") refreshStatus();
  } catch (error) {
    showError(error, error.kind === "bad_image" ? null : retry);
  }
}

async function edit(text, parent) {
  const retry = () => edit(text, parent);
  clearError(); // a new attempt: its own outcome is shown
  $("busy").hidden = false;
  $("edit-button").disabled = true;
  const t0 = performance.now();
  try {
    const id = await ensureSession();
    const payload = await api("POST", `/api/session/${id}/edit`,
      JSON.stringify({ text, parent }));
    const fetchMs = performance.now() - t0;
    const turn = payload.turn;
    state.turns[turn.id] = turn;
    state.head = turn.id;
    state.selected = turn.id;
    state.word = null;
    clearError();
    $("edit-text").value = "";
    renderStrip(); // the new image first; the rest of the page right after it
    await tiles.get(turn.id).querySelector("img").decode().catch(() => {});
    window.editorTimings.push({
      page_ms: performance.now() - t0, fetch_ms: fetchMs, app_ms: payload.app_ms,
      client_ms: turn.client_ms,
    });
    render();
    if ($("status").dataset.ok !== "true") refreshStatus(); // back after an outage
  } catch (error) {
    showError(error, error.kind === "bad_text" ? null : retry);
  } finally {
    $("busy").hidden = true;
    $("edit-button").disabled = false;
  }
}

// -- rendering --------------------------------------------------------------------------------

function pathTo(turnId) {
  const path = [];
  for (let t = turnId; t !== null && t !== undefined; t = state.turns[t].parent) {
    path.unshift(state.turns[t]);
  }
  return path;
}

function caption(turn) {
  return turn.id === 0 ? "(start)" : `${turn.id}. ${turn.text}`;
}

function imageFor(turn) {
  let img = images.get(turn.id);
  if (!img) {
    img = new Image();
    img.src = turn.image;
    img.alt = caption(turn);
    images.set(turn.id, img);
  }
  return img;
}

function tileFor(turn) {
  let tile = tiles.get(turn.id);
  if (!tile) {
    tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.turn = turn.id;
    tile.title = "Click to look at this turn and edit from it (a new branch)";
    const img = imageFor(turn).cloneNode();
    const text = document.createElement("div");
    text.className = "caption";
    text.textContent = caption(turn);
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = turn.version === null ? "input" :
      `model v${turn.version} · ${turn.client_ms.toFixed(1)} ms`;
    meta.title = turn.version === null ? "" : "model version that answered · gRPC call time";
    tile.append(img, text, meta);
    tile.addEventListener("click", () => select(turn.id));
    tiles.set(turn.id, tile);
  }
  return tile;
}

function renderStrip() {
  const path = pathTo(state.head);
  const selectedIndex = path.findIndex((t) => t.id === state.selected);
  $("strip").replaceChildren(...path.map(tileFor));
  path.forEach((turn, i) => {
    const tile = tiles.get(turn.id);
    tile.classList.toggle("selected", turn.id === state.selected);
    tile.classList.toggle("after-selected", i > selectedIndex);
  });
  return { path, selectedIndex };
}

function render() {
  const { path, selectedIndex } = renderStrip();

  const sel = state.turns[state.selected];
  const words = state.info && state.info.model ? state.info.model.max_words : null;
  let note = `The next edit continues from turn ${sel.id}`;
  if (selectedIndex < path.length - 1) note += ` and starts a new branch (turns after it are kept)`;
  note += ".";
  if (words) note += ` The model reads at most ${words} words.`;
  $("edit-note").textContent = note;
  $("undo-button").disabled = sel.parent === null;

  const base = `/api/session/${state.session}`;
  $("download-strip").href = `${base}/strip.png?turn=${state.head}`;
  $("download-json").href = `${base}/session.json?turn=${state.head}`;
  renderBranches(path);
  renderDetail();
}

function renderBranches(path) {
  const onPath = new Set(path.map((t) => t.id));
  const hasChild = new Set(state.turns.filter((t) => t.parent !== null).map((t) => t.parent));
  const leaves = state.turns.filter((t) => !hasChild.has(t.id) && !onPath.has(t.id));
  const box = $("branches");
  box.replaceChildren();
  $("branches-panel").hidden = leaves.length === 0;
  for (const leaf of leaves) {
    const row = document.createElement("div");
    row.className = "branch";
    row.dataset.turn = leaf.id;
    const branchPath = pathTo(leaf.id);
    for (const turn of branchPath) row.append(imageFor(turn).cloneNode());
    const text = document.createElement("span");
    text.textContent = branchPath.slice(1).map((t) => `${t.id}. ${t.text}`).join(" → ");
    row.append(text);
    row.title = "Show this branch";
    row.addEventListener("click", () => {
      state.head = leaf.id;
      state.selected = leaf.id;
      state.word = null;
      render();
    });
    box.append(row);
  }
}

function select(turnId) {
  state.selected = turnId;
  state.word = null;
  render();
}

function undo() {
  const parent = state.turns[state.selected].parent;
  if (parent === null) return;
  state.head = parent;
  state.selected = parent;
  state.word = null;
  render();
}

// Attention: the map of word j over the turn's sub-regions, scaled by its own maximum on the
// app (uint8, row-major), drawn as a red heat layer over the image the turn produced.
function heatCanvas(attention, j) {
  const { height, width } = attention;
  const bytes = Uint8Array.from(atob(attention.maps[j].data), (c) => c.charCodeAt(0));
  const heat = document.createElement("canvas");
  heat.width = width;
  heat.height = height;
  const ctx = heat.getContext("2d");
  const pixels = ctx.createImageData(width, height);
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i] / 255;
    pixels.data.set([255, Math.round(220 * (1 - v)), 0, Math.round(170 * v)], i * 4);
  }
  ctx.putImageData(pixels, 0, 0);
  return heat;
}

function drawTurn(canvas, turn, wordIndex) {
  const img = imageFor(turn);
  const draw = () => {
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    if (wordIndex !== null && turn.attention && turn.attention.maps[wordIndex]) {
      ctx.drawImage(heatCanvas(turn.attention, wordIndex), 0, 0, canvas.width, canvas.height);
    }
    canvas.dataset.drawn = wordIndex === null ? "image" : `word-${wordIndex}`;
  };
  canvas.dataset.drawn = "";
  if (img.complete && img.naturalWidth) draw();
  else img.addEventListener("load", draw, { once: true });
}

function renderDetail() {
  const turn = state.turns[state.selected];
  $("detail-turn").textContent = String(turn.id);
  $("detail-text").textContent = turn.id === 0 ? "The start image (no words)." :
    `“${turn.text}” — answered by model version ${turn.version}; the model read: ` +
    (turn.tokens.length ? turn.tokens.join(" ") : "(no words)");
  drawTurn($("detail-canvas"), turn, state.word);
  const words = $("words");
  const maps = $("word-maps");
  words.replaceChildren();
  maps.replaceChildren();
  if (!turn.attention) return;
  turn.tokens.forEach((token, j) => {
    if (!turn.attention.maps[j]) return;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = token;
    button.dataset.word = j;
    const m = turn.attention.maps[j];
    button.title = `Show where "${token}" attended (weights ${m.min.toFixed(3)}–${m.max.toFixed(3)})`;
    if (state.word === j) button.classList.add("active");
    button.addEventListener("click", () => {
      state.word = state.word === j ? null : j;
      renderDetail();
    });
    words.append(button);
    const cell = document.createElement("div");
    cell.className = "word-map";
    const canvas = document.createElement("canvas");
    canvas.width = 80;
    canvas.height = 80;
    drawTurn(canvas, turn, j);
    const label = document.createElement("div");
    label.textContent = token;
    cell.append(canvas, label);
    cell.addEventListener("click", () => { state.word = j; renderDetail(); });
    maps.append(cell);
  });
}

// -- wiring -------------------------------------------------------------------------------------

async function init() {
  $("upload").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) startFrom("upload", file);
  });
  $("example-button").addEventListener("click", () => startFrom("example"));
  $("edit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.turns.length) {
      showError(new AppError("no_session", "Start from an image first (upload or example)."));
      return;
    }
    edit($("edit-text").value, state.selected);
  });
  $("undo-button").addEventListener("click", undo);
  $("retry-button").addEventListener("click", () => { if (state.retry) state.retry(); });
  $("dismiss-button").addEventListener("click", clearError);
  try {
    state.info = await api("GET", "/api/info");
    if (!state.info.examples) {
      $("example-button").disabled = true;
      $("example-button").title = state.info.examples_note;
    }
    if (state.info.model_error) {
      const retryInfo = async () => {
        try {
          state.info = await api("GET", "/api/info");
          if (state.info.model_error) throw new AppError("server_down", state.info.model_error);
          clearError();
          refreshStatus();
        } catch (error) {
          showError(error, retryInfo);
        }
      };
      showError(new AppError("server_down", state.info.model_error), retryInfo);
    }
    await ensureSession();
  } catch (error) {
    showError(error);
  }
  refreshStatus();
}

init();

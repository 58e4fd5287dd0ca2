// The editor page: one session per browser tab (its id lives in sessionStorage, which is
// per tab), every turn kept by the app, so any turn can be edited from (a branch).
"use strict";

const SESSION_KEY = "seqgan-editor-session";
// Sent with every request: the app refuses a state-changing request without it, and another
// site's page cannot add it (a custom header needs a CORS preflight the app never grants).
const REQUEST_HEADER = { "X-Requested-With": "seqgan-editor" };
const $ = (id) => document.getElementById(id);

const state = {
  info: null,
  session: null, // session id on the app
  turns: [], // by id; each {id, parent, text, image, tokens, attention, version, client_ms}
  head: 0, // last turn of the strip
  selected: 0, // the turn the next edit continues
  word: null, // the word whose attention is drawn on the detail image
  retry: null, // what the Retry button re-sends
  editing: false, // an edit is on its way
  zoom: 2, // the strip's scale (2x or 4x the model's resolution)
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

async function api(method, path, body, contentType, marks) {
  const timeoutMs = ((state.info && state.info.timeout_s) || 10) * 1000 + 5000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    const options = { method, signal: controller.signal, headers: { ...REQUEST_HEADER } };
    if (body !== undefined) {
      options.body = body;
      options.headers["Content-Type"] = contentType || "application/json";
    }
    response = await fetch(path, options);
    if (marks) marks.headers = performance.now();
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
    if (marks) marks.json = performance.now();
  } catch (error) {
    throw new AppError("app_error", `Unreadable answer from the app (HTTP ${response.status}).`);
  }
  if (!response.ok) {
    const e = payload.error || {};
    throw new AppError(e.kind || "error", e.message || `HTTP ${response.status}`);
  }
  return payload;
}

// -- edits over a WebSocket ---------------------------------------------------------------------
// A fetch() costs the browser several ms of its own per request; a message on an open
// WebSocket well under one, next to a ~10 ms model call. Edits go over the socket when it is
// open; otherwise (not yet open, closed, no WebSocket) over POST .../edit, which answers alike.

const socket = { ws: null, open: false, pending: new Map(), next: 1 };

function openSocket() {
  if (socket.ws || typeof WebSocket === "undefined") return;
  let ws;
  try {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`);
  } catch (error) {
    return;
  }
  socket.ws = ws;
  ws.onopen = () => { socket.open = true; };
  ws.binaryType = "arraybuffer";
  ws.onmessage = (event) => {
    const received = performance.now();
    let message;
    try {
      if (typeof event.data === "string") {
        message = JSON.parse(event.data); // an error answer
      } else {
        // An edit's answer: uint32 JSON length, the JSON, then the image's bytes (raw RGB, or
        // what changed since the parent turn: turn.image.encoding, see pixelsOf).
        const size = new DataView(event.data).getUint32(0);
        message = JSON.parse(new TextDecoder().decode(new Uint8Array(event.data, 4, size)));
        if (message.turn) message.turn.image.pixels = new Uint8Array(event.data, 4 + size);
      }
    } catch (error) {
      return;
    }
    message.received = received;
    message.bytes = typeof event.data === "string" ? event.data.length : event.data.byteLength;
    const done = socket.pending.get(message.id);
    if (done) done(message);
  };
  ws.onclose = () => {
    if (socket.ws === ws) {
      socket.ws = null;
      socket.open = false;
    }
    for (const done of socket.pending.values()) done({ lost: true });
  };
}

async function editRequest(sessionId, text, parent, marks) {
  const ws = socket.ws;
  if (!ws || !socket.open || ws.readyState !== WebSocket.OPEN) {
    openSocket(); // for the next edit
    marks.via = "http";
    return api("POST", `/api/session/${sessionId}/edit`, JSON.stringify({ text, parent }),
      undefined, marks);
  }
  const timeoutMs = ((state.info && state.info.timeout_s) || 10) * 1000 + 5000;
  const id = socket.next++;
  marks.via = "ws";
  const message = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
    socket.pending.set(id, (answer) => { clearTimeout(timer); resolve(answer); });
    ws.send(JSON.stringify({ id, session: sessionId, text, parent }));
    marks.sent = performance.now();
  });
  socket.pending.delete(id);
  marks.headers = marks.json = performance.now();
  if (message.app_received) {
    // Wall clocks of the app and the page are the same machine's: split the round trip.
    const origin = performance.timeOrigin;
    marks.to_app_ms = message.app_received - (origin + marks.sent);
    marks.from_app_ms = origin + message.received - message.app_sent;
    marks.parse_ms = marks.json - message.received;
    marks.bytes = message.bytes;
  }
  if (message.timeout) {
    throw new AppError("timeout", `No answer from the editor app within ${timeoutMs / 1000} s ` +
      "(request timed out). Your turns are kept; retry.");
  }
  if (message.lost) {
    throw new AppError("app_down", "The editor app itself is not reachable (is " +
      "scripts/editor_app.py still running?). Your turns are kept in this tab; retry.");
  }
  if (message.error) throw new AppError(message.error.kind || "error", message.error.message);
  return message;
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
  state.retry = null;
  if ($("error").hidden) return; // nothing shown: no DOM write (a turn's answer calls this)
  $("error").hidden = true;
  $("error").dataset.kind = "";
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

// One session per tab, even when an upload starts before the page's own start-up is done: the
// callers share one pending request.
let sessionPromise = null;

function ensureSession() {
  if (state.session) return Promise.resolve(state.session);
  if (!sessionPromise) {
    sessionPromise = findOrCreateSession().finally(() => { sessionPromise = null; });
  }
  return sessionPromise;
}

async function findOrCreateSession() {
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
  pixelCache.clear();
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
  setTimeout(prepareTile, 0);
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
    // The resolution (and word limit) of the version that answered the start.
    state.info = await api("GET", "/api/info");
    setZoom(state.zoom || 2);
    loadSession(payload, null);
    if ($("status").dataset.ok !== "true") refreshStatus();
  } catch (error) {
    showError(error, error.kind === "bad_image" ? null : retry);
  }
}

async function edit(text, parent) {
  if (state.editing) return; // one edit at a time (Enter pressed twice)
  state.editing = true;
  const retry = () => edit(text, parent);
  clearError(); // a new attempt: its own outcome is shown
  // "editing…" only when an edit is slow: a fast turn then causes no repaint while the model
  // call runs (on a loaded machine that paint competes with the call for the CPU).
  const busyTimer = setTimeout(() => {
    $("busy").hidden = false;
    $("edit-button").disabled = true;
  }, 150);
  const t0 = performance.now();
  try {
    const id = await ensureSession();
    const marks = {};
    const payload = await editRequest(id, text, parent, marks);
    const fetchMs = performance.now() - t0;
    const turn = payload.turn;
    if (payload.max_words !== undefined && state.info && state.info.model) {
      state.info.model.max_words = payload.max_words; // the version that answered
    }
    state.turns[turn.id] = turn;
    state.head = turn.id;
    state.selected = turn.id;
    state.word = null;
    clearError();
    renderStrip(); // the new image first (drawn at once); the rest of the page right after
    const tStrip = performance.now();
    $("edit-text").value = "";
    const timing = {
      page_ms: performance.now() - t0, fetch_ms: fetchMs, app_ms: payload.app_ms,
      client_ms: turn.client_ms, headers_ms: marks.headers - t0, json_ms: marks.json - t0,
      strip_ms: tStrip - t0, t0, via: marks.via, sent_ms: marks.sent - t0,
      to_app_ms: marks.to_app_ms, from_app_ms: marks.from_app_ms, parse_ms: marks.parse_ms,
      bytes: marks.bytes, encoding: turn.image.encoding,
    };
    window.editorTimings.push(timing);
    render();
    // The frame that shows it (the browser paints at its own frame rate), for the latency
    // test; a hidden tab gets no frames, so the turn is announced after 200 ms regardless.
    let announced = false;
    const announce = () => {
      if (announced) return;
      announced = true;
      window.dispatchEvent(new CustomEvent("editor-turn", { detail: timing }));
    };
    requestAnimationFrame(() => {
      timing.frame_ms = performance.now() - t0;
      announce();
    });
    setTimeout(announce, 200);
    if ($("status").dataset.ok !== "true") refreshStatus(); // back after an outage
  } catch (error) {
    showError(error, error.kind === "bad_text" ? null : retry);
    window.dispatchEvent(new CustomEvent("editor-error", { detail: error.message }));
  } finally {
    clearTimeout(busyTimer);
    state.editing = false;
    if (!$("busy").hidden) $("busy").hidden = true;
    if ($("edit-button").disabled) $("edit-button").disabled = false;
    setTimeout(prepareTile, 0); // after this turn's frame, while the person types the next
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

// The design the model holds after a turn, e.g. "colour: red 0.97, heel: high 0.88": the top
// `top` values of each attribute with their probabilities ("" when the export gives none).
function designText(design, top) {
  if (!design || !design.length) return "";
  return design.map(({ attribute, values }) => `${attribute}: ` +
    values.slice(0, top).map(([value, p]) => `${value} ${p.toFixed(2)}`).join(" / ")).join(", ");
}

function caption(turn) {
  return turn.id === 0 ? "(start)" : `${turn.id}. ${turn.text}`;
}

// A turn's image arrives as raw RGB ({width, height, rgb: base64}, or {width, height, pixels:
// Uint8Array} from the WebSocket) and is put on a canvas at once: no PNG to decode, so the new
// image is in the strip as soon as the answer is read. Over the WebSocket an edit usually sends
// only what changed since its parent turn (encoding "delta": a bitmap of the changed pixels,
// most significant bit first, then their RGB), 2-3 kB instead of 12 kB at 64x64.
const pixelCache = new Map();

function applyDelta(data, raw, count) {
  const bytes = (count + 7) >> 3;
  let k = bytes; // the changed pixels' RGB follow the bitmap
  for (let b = 0; b < bytes; b++) {
    const bits = raw[b];
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if (bits & (128 >> bit)) {
        const j = ((b << 3) + bit) * 4;
        data[j] = raw[k];
        data[j + 1] = raw[k + 1];
        data[j + 2] = raw[k + 2];
        k += 3;
      }
    }
  }
}

function pixelsOf(turn) {
  let pixels = pixelCache.get(turn.id);
  if (!pixels) {
    const { width, height, rgb } = turn.image;
    pixels = new ImageData(width, height);
    const data = pixels.data;
    const raw = turn.image.pixels;
    if (raw && turn.image.encoding === "delta") {
      data.set(pixelsOf(state.turns[turn.parent]).data);
      applyDelta(data, raw, width * height);
    } else if (raw) {
      for (let i = 0, j = 0; i < raw.length; i += 3, j += 4) {
        data[j] = raw[i];
        data[j + 1] = raw[i + 1];
        data[j + 2] = raw[i + 2];
        data[j + 3] = 255;
      }
    } else {
      const bytes = atob(rgb);
      for (let i = 0, j = 0; i < bytes.length; i += 3, j += 4) {
        data[j] = bytes.charCodeAt(i);
        data[j + 1] = bytes.charCodeAt(i + 1);
        data[j + 2] = bytes.charCodeAt(i + 2);
        data[j + 3] = 255;
      }
    }
    pixelCache.set(turn.id, pixels);
  }
  return pixels;
}

// A new canvas showing the turn's image (for the strip and the branch rows).
function blankCanvas(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.setAttribute("role", "img");
  return canvas;
}

function canvasOf(turn) {
  const pixels = pixelsOf(turn);
  const canvas = blankCanvas(pixels.width, pixels.height);
  canvas.getContext("2d").putImageData(pixels, 0, 0);
  canvas.setAttribute("aria-label", caption(turn));
  return canvas;
}

// The turn's image as a source to draw scaled (the detail view), made once.
function imageFor(turn) {
  let canvas = images.get(turn.id);
  if (!canvas) {
    canvas = canvasOf(turn);
    images.set(turn.id, canvas);
  }
  return canvas;
}

// The elements of a strip tile: made ahead of the answer when the page is idle (see
// `prepareTile`), since making a canvas and its context costs about 0.3 ms here.
function emptyTile(width, height) {
  const canvas = blankCanvas(width, height);
  const tile = document.createElement("div");
  tile.className = "tile";
  tile.title = "Click to look at this turn and edit from it (a new branch)";
  const text = document.createElement("div");
  text.className = "caption";
  const meta = document.createElement("div");
  meta.className = "meta";
  const design = document.createElement("div");
  design.className = "design";
  tile.append(canvas, text, meta, design);
  return { tile, canvas, context: canvas.getContext("2d"), text, meta, design, width, height };
}

let spareTile = null; // the next turn's tile, empty

function prepareTile() {
  const head = state.turns[state.head];
  if (!head) return;
  const { width, height } = head.image; // a turn answers at the size of the one it edits
  if (!spareTile || spareTile.width !== width || spareTile.height !== height) {
    spareTile = emptyTile(width, height);
    // A canvas gets its pixel buffer at its first drawing: take that cost now, not with the
    // answer (the answer's putImageData replaces every pixel, this one included).
    spareTile.context.fillRect(0, 0, 1, 1);
  }
}

function tileFor(turn) {
  let tile = tiles.get(turn.id);
  if (!tile) {
    const pixels = pixelsOf(turn);
    let parts = spareTile;
    spareTile = null;
    if (!parts || parts.width !== pixels.width || parts.height !== pixels.height) {
      parts = emptyTile(pixels.width, pixels.height);
    }
    parts.context.putImageData(pixels, 0, 0);
    parts.canvas.setAttribute("aria-label", caption(turn));
    parts.text.textContent = caption(turn);
    parts.meta.textContent = turn.version === null ? "input" :
      `model v${turn.version} · ${turn.client_ms.toFixed(1)} ms`;
    parts.meta.title = turn.version === null ? "" : "model version that answered · gRPC call time";
    parts.design.textContent = designText(turn.design, 1);
    parts.design.title = turn.design ? "What the model now holds: " + designText(turn.design, 3) : "";
    tile = parts.tile;
    tile.dataset.turn = turn.id;
    tile.addEventListener("click", () => select(turn.id));
    tiles.set(turn.id, tile);
  }
  return tile;
}

function renderStrip() {
  const path = pathTo(state.head);
  const selectedIndex = path.findIndex((t) => t.id === state.selected);
  const strip = $("strip");
  const shown = strip.children;
  // Usually the strip only grows by the new turn: append it rather than rebuild the strip.
  const keep = shown.length <= path.length &&
    path.slice(0, shown.length).every((turn, i) => shown[i] === tiles.get(turn.id));
  if (keep) {
    for (const turn of path.slice(shown.length)) strip.append(tileFor(turn));
  } else {
    strip.replaceChildren(...path.map(tileFor));
  }
  path.forEach((turn, i) => {
    const tile = tiles.get(turn.id);
    tile.classList.toggle("selected", turn.id === state.selected);
    tile.classList.toggle("after-selected", i > selectedIndex);
  });
  return { path, selectedIndex };
}

// The strip at 2x or 4x the model's resolution (CSS scaling of the canvases, smoothed).
function setZoom(zoom) {
  state.zoom = zoom;
  const size = state.info && state.info.model ? state.info.model.image_size : 64;
  $("strip").style.setProperty("--tile", `${size * zoom}px`);
  $("zoom-button").textContent = zoom === 4 ? "Show at 2x" : "Show at 4x";
  $("zoom-button").dataset.zoom = String(zoom);
  $("resolution-note").textContent = `The model works at ${size}×${size} pixels; ` +
    `shown at ${zoom}x, smoothed.`;
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
    for (const turn of branchPath) row.append(canvasOf(turn));
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
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(imageFor(turn), 0, 0, canvas.width, canvas.height);
  if (wordIndex !== null && turn.attention && turn.attention.maps[wordIndex]) {
    ctx.drawImage(heatCanvas(turn.attention, wordIndex), 0, 0, canvas.width, canvas.height);
  }
  canvas.dataset.drawn = wordIndex === null ? "image" : `word-${wordIndex}`;
}

function renderDetail() {
  const turn = state.turns[state.selected];
  $("detail-turn").textContent = String(turn.id);
  $("detail-text").textContent = turn.id === 0 ? "The start image (no words)." :
    `“${turn.text}” — answered by model version ${turn.version}; the model read: ` +
    (turn.tokens.length ? turn.tokens.join(" ") : "(no words)");
  $("detail-design").hidden = !turn.design;
  $("detail-design").textContent = turn.design ?
    `The model now holds: ${designText(turn.design, 3)}` : "";
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
  $("zoom-button").addEventListener("click", () => setZoom(state.zoom === 4 ? 2 : 4));
  $("retry-button").addEventListener("click", () => { if (state.retry) state.retry(); });
  $("dismiss-button").addEventListener("click", clearError);
  try {
    state.info = await api("GET", "/api/info");
    setZoom(2);
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
  openSocket();
  refreshStatus();
}

init();

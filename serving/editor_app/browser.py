"""Driving the editor page in headless Chromium (Debian's package, never a downloaded build),
shared by the browser tests and scripts/editor_screenshot.py. Needs the `playwright` package."""

from __future__ import annotations

import base64
import io
import os
import shutil

import numpy as np

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_unavailable() -> str | None:
    """Why the page cannot be driven here, or None when it can."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e .[dev])"
    return None


def launch(playwright):
    """Headless Chromium from CHROMIUM with the flags that keep it off the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def decode_data_url(url: str) -> np.ndarray:
    """A data:image/png;base64 URL (e.g. a canvas's toDataURL) as uint8 [H, W, 3]."""
    from PIL import Image

    data = base64.b64decode(url.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def strip_images(page) -> list[np.ndarray]:
    """The images of the session strip, left to right (its canvases' pixels, read as PNG)."""
    urls = page.eval_on_selector_all(
        "#strip .tile canvas", "els => els.map(e => e.toDataURL('image/png'))"
    )
    return [decode_data_url(u) for u in urls]


def strip_turns(page) -> list[int]:
    """The turn ids of the session strip, left to right."""
    return page.eval_on_selector_all("#strip .tile", "els => els.map(e => +e.dataset.turn)")


def start_from_example(page) -> None:
    page.click("#example-button")
    page.wait_for_selector('#strip .tile[data-turn="0"]')


def edit(page, text: str, timeout_ms: float = 30_000) -> dict:
    """Types `text`, presses Edit and waits for the new tile; returns the turn's timing
    ({page_ms, fetch_ms, app_ms, client_ms, ...}, see app.js `edit`).

    The wait is the page's own "editor-turn" / "editor-error" event, not polling: nothing runs
    in the browser while the turn is being timed."""
    page.fill("#edit-text", text)
    page.evaluate(
        """() => { window.__editorNext = new Promise((resolve) => {
             const done = (event) => {
               removeEventListener("editor-turn", done);
               removeEventListener("editor-error", done);
               resolve(event.type === "editor-turn" ? event.detail : { error: event.detail });
             };
             addEventListener("editor-turn", done);
             addEventListener("editor-error", done);
           }); }"""
    )
    page.click("#edit-button")
    timing = page.evaluate(
        """(ms) => Promise.race([window.__editorNext,
             new Promise((resolve) => setTimeout(() => resolve({ error: "no answer" }), ms))])""",
        timeout_ms,
    )
    if "error" in timing:
        detail = page.inner_text("#error") if page.is_visible("#error") else timing["error"]
        raise RuntimeError(f"the edit {text!r} failed on the page: {detail}")
    return timing


def submit_edit(page, text: str, timeout_ms: float = 30_000) -> dict:
    """Like `edit`, but the text is typed and the form submitted by the page's own script, in
    one call that returns when the turn's image is drawn.

    For timing: `edit` drives a real click through the DevTools protocol, and Playwright keeps
    exchanging messages with the browser after the click (actionability checks, the mouse-up,
    the wait for navigations, then the call that waits for the turn), so the driver, the
    browser and the model server share the two cores while the turn runs. A person's click
    costs none of that. Here nothing crosses the protocol until the turn is over."""
    timing = page.evaluate(
        """([text, ms]) => new Promise((resolve) => {
             const done = (event) => {
               removeEventListener("editor-turn", done);
               removeEventListener("editor-error", done);
               clearTimeout(timer);
               resolve(event.type === "editor-turn" ? event.detail : { error: event.detail });
             };
             const timer = setTimeout(() => done({ type: "timeout", detail: "no answer" }), ms);
             addEventListener("editor-turn", done);
             addEventListener("editor-error", done);
             document.getElementById("edit-text").value = text;
             document.getElementById("edit-form").requestSubmit();
           })""",
        [text, timeout_ms],
    )
    if "error" in timing:
        detail = page.inner_text("#error") if page.is_visible("#error") else timing["error"]
        raise RuntimeError(f"the edit {text!r} failed on the page: {detail}")
    return timing


def edit_expecting_error(page, text: str, timeout_ms: float = 30_000) -> dict:
    """Types `text`, presses Edit and waits for the error banner; returns {kind, message}."""
    page.fill("#edit-text", text)
    page.click("#edit-button")
    page.wait_for_selector("#error:not([hidden])", timeout=timeout_ms)
    return {
        "kind": page.get_attribute("#error", "data-kind"),
        "message": page.inner_text("#error-message"),
    }


def wait_until(page, expression: str, timeout_s: float = 30.0, poll_s: float = 0.05) -> None:
    """Waits until the page's `expression` is truthy.

    Playwright's wait_for_function polls with a function it compiles in the page, which the
    page's Content-Security-Policy (no 'unsafe-eval') forbids; page.evaluate goes through the
    DevTools protocol and is allowed, so this polls with it.
    """
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page never had {expression} within {timeout_s:g} s")
        time.sleep(poll_s)

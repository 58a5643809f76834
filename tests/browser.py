"""Driving Debian's chromium with Playwright: the browser fixture's settings, logging in."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from playwright.sync_api import Page, expect

from facerec.compute.cli.key_commands import login_url
from tests.conftest import ServeProcess
from tests.helpers import connected

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def logged_in(browser, served: ServeProcess, width: int = 1280, height: int = 800) -> Page:
    """A new page (a context of its own) logged in by a fresh one-time login URL."""
    with connected(served.compute_target, served.key) as api:
        url = login_url(api, served.url)
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(url)
    expect(page).to_have_url(served.url + "/")
    return page


def drop_files(page: Page, selector: str, paths: list[Path]) -> None:
    """Drops files on an element as a drag-and-drop from the desktop would."""
    files = [
        {
            "name": p.name,
            "type": mimetypes.guess_type(p.name)[0] or "",
            "data": base64.b64encode(p.read_bytes()).decode(),
        }
        for p in paths
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, { type: f.type }));
            }
            return dt;
        }""",
        files,
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})

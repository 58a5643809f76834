"""The upload page in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from facerec.compute.cli.key_commands import login_url
from tests.conftest import ServeProcess
from tests.helpers import connected, unique
from tests.http import http

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


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run the README's setup command (make setup)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def logged_in(browser, served: ServeProcess):
    """A new page (a context of its own) logged in by a fresh one-time login URL."""
    with connected(served.compute_target, served.key) as api:
        url = login_url(api, served.url)
    page = browser.new_page()
    page.goto(url)
    expect(page).to_have_url(served.url + "/")
    return page


def _enrol_obama(url: str, faces: Path) -> str:
    collection = unique()
    http.post(f"{url}/api/v1/collections", json={"name": collection}, timeout=30)
    identity = http.post(
        f"{url}/api/v1/collections/{collection}/identities",
        json={"name": "Barack Obama"},
        timeout=30,
    ).json()["id"]
    job = http.post(
        f"{url}/api/v1/collections/{collection}/identities/{identity}/faces",
        files=[("image", ("o.jpg", (faces / "obama.jpg").read_bytes()))],
        timeout=30,
    ).json()["jobs"][0]
    for _ in range(300):
        if http.get(f"{url}/api/v1/jobs/{job['id']}", timeout=30).json()["state"] == "succeeded":
            return collection
        import time

        time.sleep(0.1)
    raise AssertionError("enrolment did not finish")


def test_upload_page_shows_live_results(
    served: ServeProcess, faces: Path, browser, tmp_path: Path
) -> None:
    collection = _enrol_obama(served.url, faces)
    page = logged_in(browser, served)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(served.url + "/")
    page.select_option("#collection", collection)
    page.set_input_files("#photos", [str(faces / "obama.jpg"), str(faces / "multiface.jpg")])
    page.click("button[type=submit]")

    cards = page.locator("article.job")
    expect(cards).to_have_count(2)
    expect(page.locator("article.job[data-state=succeeded]")).to_have_count(2, timeout=60_000)
    multi = page.locator("article.job", has_text="multiface.jpg")
    expect(multi.locator("li.face")).to_have_count(6)
    obama = page.locator("article.job", has_text="obama.jpg")
    expect(obama.locator("li.face")).to_contain_text("Barack Obama")
    expect(obama.locator("p.model")).to_contain_text("(model facenet-untrained)")
    expect(page.locator("#untrained")).to_be_visible()
    expect(page.locator("#model")).to_contain_text("facenet-untrained (512-d, untrained")
    page.screenshot(path=str(tmp_path / "upload-page.png"), full_page=True)
    shot_dir = Path(__file__).resolve().parents[1] / "build"
    shot_dir.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "upload-page.png", shot_dir / "upload-page.png")
    assert not console_errors, console_errors


def test_upload_page_shows_a_refused_photo(served: ServeProcess, browser, tmp_path: Path) -> None:
    note = tmp_path / "note.jpg"
    note.write_text("definitely not a photo")
    page = logged_in(browser, served)
    page.set_input_files("#photos", [str(note)])
    page.click("button[type=submit]")
    card = page.locator("article.job")
    expect(card).to_have_attribute("data-state", "failed")
    expect(card.locator(".error")).to_contain_text("UNSUPPORTED_FORMAT")


def test_upload_page_shows_alerts_as_they_arrive(
    served: ServeProcess, faces: Path, browser
) -> None:
    url = served.url
    watch = unique("w")
    http.post(
        f"{url}/api/v1/collections",
        timeout=30,
        json={"name": watch, "alert_on_match": True, "alert_threshold": 0.95},
    )
    identity = http.post(
        f"{url}/api/v1/collections/{watch}/identities", json={"name": "Watched Person"}, timeout=30
    ).json()["id"]
    job = http.post(
        f"{url}/api/v1/collections/{watch}/identities/{identity}/faces",
        files=[("image", ("o.jpg", (faces / "obama.jpg").read_bytes()))],
        timeout=30,
    ).json()["jobs"][0]
    for _ in range(300):
        if http.get(f"{url}/api/v1/jobs/{job['id']}", timeout=30).json()["state"] != "queued":
            break
        time.sleep(0.1)
    page = logged_in(browser, served)
    page.set_input_files("#photos", [str(faces / "obama.jpg")])
    page.click("button[type=submit]")
    expect(page.locator("#alerts li", has_text="Watched Person")).to_have_count(1, timeout=60_000)


def test_page_follows_its_jobs_across_a_compute_restart(
    faces: Path, browser, tmp_path: Path
) -> None:
    import os
    import signal

    served = ServeProcess(tmp_path)
    served.start()
    try:
        page = browser.new_page()
        page.goto(served.login_url)  # the URL `facerec serve` printed
        expect(page).to_have_url(served.url + "/")
        # The largest photos first, so that most jobs are still queued when compute dies.
        names = ["angelina_jolie.jpg", "shea_whigham.jpg", "paul_rudd.jpg", "obama3.jpg"]
        page.set_input_files("#photos", [str(faces / n) for n in names])
        page.click("button[type=submit]")
        expect(page.locator("article.job[data-job-id]")).to_have_count(4)
        os.kill(served.compute_pid(), signal.SIGKILL)
        # The streams break, and reconnecting gets 503 until compute is back (seconds):
        # the page must keep following each job until it ends.
        expect(page.locator("article.job[data-state=succeeded]")).to_have_count(4, timeout=120_000)
        assert "the compute server is back" in served.log()
    finally:
        served.kill()

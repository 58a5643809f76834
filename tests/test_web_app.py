"""The web app as a new user meets it, in Debian's chromium against a real `facerec serve`
with SFace (real recognition): galleries, enrolment by drag-and-drop, a watchlist, live
results and alerts, history after a reload, bad files, and compute going away."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser import drop_files, logged_in
from tests.conftest import ServeProcess
from tests.helpers import child_pids
from tests.http import http


@pytest.fixture(scope="module")
def sface_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("webapp"), "--model", "sface")
    server.start()
    yield server
    server.kill()


def _console_errors(page: Page, refusals_expected: bool = False) -> list[str]:
    """Errors the page logs. Chromium also logs every 4xx answer; a test that sends bad
    input on purpose (and checks the message shown) expects those."""
    errors: list[str] = []

    def console(m: object) -> None:
        text = m.text  # type: ignore[attr-defined]
        if m.type != "error":  # type: ignore[attr-defined]
            return
        if refusals_expected and "the server responded with a status of 4" in text:
            return
        errors.append(text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_new_user_builds_a_watchlist_and_recognises(
    sface_served: ServeProcess, browser, faces: Path
) -> None:
    url = sface_served.url
    page = logged_in(browser, sface_served)
    errors = _console_errors(page)

    page.click("nav >> text=Galleries")
    page.fill("#new-collection", "staff")
    page.click("#create-collection button[type=submit]")
    expect(page).to_have_url(f"{url}/#/galleries/staff")
    page.fill("#new-person", "Barack Obama")
    page.click("#add-person button[type=submit]")
    person = page.locator("article.person", has_text="Barack Obama")
    expect(person).to_have_count(1)
    drop_files(page, "article.person .drop", [faces / "obama.jpg"])
    expect(person.locator(".enrolments")).to_contain_text("obama.jpg: enrolled", timeout=60_000)
    thumb = person.locator(".thumb img")
    expect(thumb).to_have_count(1)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 160", arg=thumb.element_handle()
    )

    page.check("#alert-on-match")
    page.fill("#alert-threshold", "0.45")
    page.click("#watchlist button[type=submit]")
    expect(page.locator("#alert-on-match")).to_be_checked()
    expect(page.locator("#alert-threshold")).to_have_value("0.45")

    page.click("nav >> text=Recognise")
    page.select_option("#collection", "staff")
    page.set_input_files("#photos", [str(faces / "obama3.jpg"), str(faces / "multiface.jpg")])
    page.click("#upload button[type=submit]")
    obama = page.locator("article.job", has_text="obama3.jpg")
    group = page.locator("article.job", has_text="multiface.jpg")
    expect(page.locator("article.job[data-state=succeeded]")).to_have_count(2, timeout=90_000)
    expect(obama.locator("li.face")).to_contain_text("Barack Obama (staff, similarity 0.")
    expect(group.locator("li.face")).to_have_count(6)
    for n in range(6):
        expect(group.locator("li.face").nth(n)).to_contain_text("no match")
    expect(page.locator("#alerts li", has_text="Barack Obama")).to_have_count(1, timeout=30_000)
    expect(page.locator("#model")).to_contain_text("sface (128-d, trained")
    expect(page.locator("#untrained")).to_be_hidden()

    ids = [obama.get_attribute("data-job-id"), group.get_attribute("data-job-id")]
    assert all(i and i.startswith("job_") for i in ids), ids

    # The job's own view: the photo at full size with numbered boxes, names, the model.
    obama.locator("a.more").click()
    expect(page).to_have_url(f"{url}/#/jobs/{ids[0]}")
    expect(page.locator(".job-detail tr.face")).to_have_count(1)
    expect(page.locator(".job-detail tr.face")).to_contain_text("Barack Obama (staff)")
    expect(page.locator(".job-detail")).to_contain_text("model sface")
    size = page.eval_on_selector("canvas.photo", "c => [c.width, c.height]")
    assert size[0] > 400, size

    # After a reload both jobs are in the history, and the alert in the log with its face.
    page.reload()
    page.click("nav >> text=Jobs")
    for job_id in ids:
        expect(
            page.locator(f'.jobs tr[data-job-id="{job_id}"][data-state=succeeded]')
        ).to_be_visible()
    # A job's URL opens its view directly (boxes drawn on an outline: the server kept no photo).
    page.goto(f"{url}/#/jobs/{ids[1]}")
    expect(page.locator(".job-detail tr.face")).to_have_count(6)
    page.click("nav >> text=Alerts")
    alert = page.locator("#alert-log li.alert", has_text="Barack Obama")
    expect(alert).to_have_count(1)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=alert.locator("img.crop").element_handle(),
    )
    assert not errors, errors


def test_bad_files_show_the_api_message_and_the_others_still_upload(
    sface_served: ServeProcess, browser, faces: Path, tmp_path: Path
) -> None:
    page = logged_in(browser, sface_served)
    text = tmp_path / "notes.txt"
    text.write_text("not a photo at all\n" * 10)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8" + bytes(30 * 1024 * 1024))
    page.set_input_files("#photos", [str(p) for p in (text, empty, huge, faces / "obama2.jpg")])
    page.click("#upload button[type=submit]")
    cards = {p.name: page.locator("article.job", has_text=p.name) for p in (text, empty, huge)}
    expect(cards["notes.txt"].locator(".error")).to_contain_text(
        "UNSUPPORTED_FORMAT", timeout=60_000
    )
    expect(cards["empty.jpg"].locator(".error")).to_contain_text("PHOTO_EMPTY", timeout=60_000)
    expect(cards["huge.jpg"].locator(".error")).to_contain_text("20 MiB limit", timeout=60_000)
    good = page.locator("article.job", has_text="obama2.jpg")
    expect(good).to_have_attribute("data-state", "succeeded", timeout=90_000)


def test_the_page_says_when_compute_is_down_and_recovers(browser, tmp_path: Path) -> None:
    served = ServeProcess(tmp_path, "--model", "sface")
    served.start()
    try:
        page = logged_in(browser, served)
        expect(page.locator("#compute-state")).to_have_text("Compute: up")
        expect(page.locator("#compute-down")).to_be_hidden()
        # Frozen (it holds its socket but answers nothing): said within seconds, and back.
        pid = served.compute_pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            expect(page.locator("#compute-down")).to_be_visible(timeout=8_000)
            expect(page.locator("#compute-state")).to_have_text("Compute: unreachable")
        finally:
            os.kill(pid, signal.SIGCONT)
        expect(page.locator("#compute-down")).to_be_hidden(timeout=10_000)
        # Killed: `facerec serve` starts it again and the page recovers by itself.
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while pid in child_pids(served.proc.pid, b"compute") or not child_pids(
            served.proc.pid, b"compute"
        ):
            assert time.monotonic() < deadline, "compute was not started again"
            time.sleep(0.2)
        page.wait_for_function(
            "() => fetch('/api/v1/status').then(r => r.json()).then(s => s.compute.reachable)",
            polling=500,
            timeout=120_000,
        )
        expect(page.locator("#compute-state")).to_have_text("Compute: up", timeout=10_000)
        expect(page.locator("#compute-down")).to_be_hidden()
        page.click("nav >> text=Galleries")
        expect(page.locator("#create-collection")).to_be_visible()
        expect(page.locator(".galleries .error")).to_have_count(0)
    finally:
        served.kill()


def test_managing_galleries_webhooks_jobs_and_alerts(
    sface_served: ServeProcess, browser, faces: Path, tmp_path: Path
) -> None:
    url = sface_served.url
    page = logged_in(browser, sface_served)
    errors = _console_errors(page, refusals_expected=True)  # the refused webhook
    page.on("dialog", lambda d: d.accept())  # the confirmations of deletes
    blank = tmp_path / "wall.png"
    Image.new("RGB", (400, 300), (200, 190, 180)).save(blank)

    page.goto(f"{url}/#/galleries")
    page.fill("#new-collection", "door")
    page.check("#new-watchlist")
    page.click("#create-collection button[type=submit]")
    expect(page).to_have_url(f"{url}/#/galleries/door")
    page.fill("#new-person", "Joe Biden")
    page.click("#add-person button[type=submit]")
    person = page.locator("article.person", has_text="Joe Biden")
    drop_files(page, "article.person .drop", [faces / "biden.jpg"])
    results = person.locator(".enrolments")
    expect(results).to_contain_text("biden.jpg: enrolled", timeout=90_000)
    expect(person.locator(".thumb")).to_have_count(1)
    drop_files(page, "article.person .drop", [blank, faces / "multiface.jpg"])
    expect(results.locator(".error")).to_contain_text("wall.png: ", timeout=90_000)
    expect(results.locator(".error")).to_contain_text("NO_FACE; the photo's doing")
    expect(results).to_contain_text("6 faces in the photo: the largest was used", timeout=90_000)
    expect(person.locator(".thumb")).to_have_count(2)
    person.locator(".thumb button").last.click()  # the face from the group photo, the newest
    expect(person.locator(".thumb")).to_have_count(1)

    # Webhooks: the secret is write-only; internal addresses are refused with the reason.
    page.fill("#webhook-url", "http://127.0.0.1:9/hook")
    page.fill("#webhook-secret", "a-long-secret-for-tests")
    page.click("#add-webhook button[type=submit]")
    expect(page.locator("#add-webhook .error")).to_contain_text("a loopback address")
    page.fill("#webhook-url", "https://hooks.invalid/facerec")
    page.click("#add-webhook button[type=submit]")
    expect(page.locator("li.webhook")).to_contain_text("https://hooks.invalid/facerec")
    assert "a-long-secret-for-tests" not in page.content()

    # An alert, and its webhook delivery attempts (this name resolves nowhere).
    page.goto(f"{url}/#/recognise")
    page.select_option("#collection", "door")
    page.set_input_files("#photos", [str(faces / "biden.jpg")])
    page.click("#upload button[type=submit]")
    expect(page.locator("#alerts li", has_text="Joe Biden")).to_have_count(1, timeout=90_000)
    page.goto(f"{url}/#/alerts")
    alert = page.locator("#alert-log li.alert", has_text="Joe Biden").first
    alert.locator("button", has_text="Webhook deliveries").click()
    expect(alert.locator("li.delivery")).to_contain_text("cannot resolve", timeout=30_000)

    # Jobs: filter by state.
    page.goto(f"{url}/#/jobs")
    page.check("input[name=state][value=failed]")
    expect(page.locator(".jobs tbody tr").first).to_have_attribute("data-state", "failed")
    states = page.locator(".jobs tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
    assert set(states) == {"failed"}, states

    # Delete the person, then the collection (each after a confirmation).
    page.goto(f"{url}/#/galleries/door")
    page.locator("article.person", has_text="Joe Biden").locator(
        "button", has_text="Delete person"
    ).click()
    expect(page.locator("article.person")).to_have_count(0)
    page.goto(f"{url}/#/galleries")
    card = page.locator("article.collection[data-collection=door]")
    page.locator("#create-collection").scroll_into_view_if_needed()
    card.locator("button", has_text="Delete").click()
    expect(card).to_have_count(0)
    assert not errors, errors


@pytest.mark.parametrize("width", [375, 1440])
def test_every_view_fits_the_screen_and_works_from_the_keyboard(
    sface_served: ServeProcess, browser, width: int
) -> None:
    url = sface_served.url
    page = logged_in(browser, sface_served, width=width)
    errors = _console_errors(page)
    http.post(f"{url}/api/v1/collections", json={"name": f"lobby-{width}"})
    for view in ("recognise", "jobs", "galleries", "alerts", f"galleries/lobby-{width}"):
        page.goto(f"{url}/#/{view}")
        expect(page.locator("main h2")).to_be_visible()
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (view, width, overflow)
    # Keyboard: the drop zone opens the file chooser; labels name every field.
    page.goto(f"{url}/#/recognise")
    expect(page.locator("main h2")).to_have_text("Recognise")
    page.wait_for_timeout(300)  # the view change moves focus to <main> first
    zone = page.locator(".recognise .drop")
    zone.focus()
    expect(zone).to_be_focused()
    # Enter opens the photo chooser (the input's click; whether the browser then shows a
    # dialog twice in one run is up to it).
    page.evaluate(
        "document.getElementById('photos').addEventListener('click', () => window.opened = true)"
    )
    page.keyboard.press("Enter")
    assert page.evaluate("window.opened === true")
    for field in ("photos", "collection", "top-k", "threshold", "min-face"):
        label = page.evaluate(
            "id => document.getElementById(id).labels[0].firstChild.textContent.trim()", field
        )
        assert label, f"#{field} has no label"
    assert not errors, errors


def test_a_queued_job_is_cancelled_from_the_history(browser, tmp_path: Path, faces: Path) -> None:
    served = ServeProcess(tmp_path, "--no-local-worker")  # no worker: jobs stay queued
    served.start()
    try:
        files = {"image": ("o.jpg", (faces / "obama.jpg").read_bytes(), "image/jpeg")}
        job = http.post(f"{served.url}/api/v1/jobs", files=files).json()
        page = logged_in(browser, served)
        errors = _console_errors(page)
        page.goto(f"{served.url}/#/jobs")
        page.check("input[name=state][value=queued]")
        row = page.locator(f'.jobs tr[data-job-id="{job["id"]}"]')
        expect(row).to_have_attribute("data-state", "queued")
        row.locator("button", has_text="Cancel").click()
        expect(page.locator(f'.jobs tr[data-job-id="{job["id"]}"]')).to_have_count(0)
        page.uncheck("input[name=state][value=queued]")
        expect(row).to_have_attribute("data-state", "cancelled")
        assert http.get(f"{served.url}/api/v1/jobs/{job['id']}").json()["state"] == "cancelled"
        assert not errors, errors
    finally:
        served.kill()

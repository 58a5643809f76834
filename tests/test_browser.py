"""The upload page in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.browser import logged_in
from tests.conftest import ServeProcess
from tests.helpers import unique
from tests.http import http


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


def test_another_site_can_neither_post_as_the_user_nor_frame_the_page(
    served: ServeProcess, browser, tmp_path: Path
) -> None:
    """A page on another port of the same host (same site, so the browser even sends the
    SameSite=Strict cookie) posts a form with the user's session, and frames the app."""
    import threading
    from http import server as http_server

    victim = logged_in(browser, served)
    name = unique("csrf")
    (tmp_path / "post.html").write_text(
        f'<form id="f" method="post" action="{served.url}/api/v1/collections"'
        ' enctype="text/plain"><input name=\'{"name": "' + name + '", "x": "\' value=\'"}\'>'
        '</form><script src="post.js"></script>'
    )
    (tmp_path / "post.js").write_text('document.getElementById("f").submit();')
    (tmp_path / "frame.html").write_text(f'<iframe id="app" src="{served.url}/"></iframe>')

    class Site(http_server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    site = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    other = f"http://127.0.0.1:{site.server_address[1]}"
    try:
        evil = victim.context.new_page()
        evil.goto(f"{other}/post.html")
        expect(evil).to_have_url(f"{served.url}/api/v1/collections")
        expect(evil.locator("body")).to_contain_text("CROSS_SITE")
        names = [
            c["name"] for c in http.get(f"{served.url}/api/v1/collections").json()["collections"]
        ]
        assert name not in names
        # The same page, unframed, renders its upload form; framed, it does not render.
        assert victim.locator("#photos").count() == 1
        evil.goto(f"{other}/frame.html")
        evil.wait_for_timeout(1000)
        (frame,) = [f for f in evil.frames if f != evil.main_frame]
        assert frame.locator("#photos").count() == 0
    finally:
        site.shutdown()

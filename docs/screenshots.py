"""Screenshots of every view of the web app, at 1280x800 and 375x800 (`make screenshots`).

Starts `facerec serve` with SFace in a temporary directory, enrols two people from the
shared test photos into a watchlist, recognises a few photos through the page, and writes
`build/screenshots/<view>-<width>.png`; the README's three are copied to `docs/`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import ARGS, CHROMIUM, drop_files, logged_in  # noqa: E402
from tests.conftest import FACES, ServeProcess  # noqa: E402
from tests.http import http  # noqa: E402

OUT = ROOT / "build" / "screenshots"
SIZES = (1280, 375)
IN_README = ("recognise-1280.png", "collection-1280.png", "jobs-375.png")


def prepare(page, url: str) -> str:
    """A watchlist with two people, and three recognised photos; the id of one job."""
    http.post(f"{url}/api/v1/collections", json={"name": "staff", "alert_on_match": True})
    http.patch(f"{url}/api/v1/collections/staff", json={"alert_threshold": 0.45})
    for name, photo in (("Barack Obama", "obama.jpg"), ("Joe Biden", "biden.jpg")):
        page.goto(f"{url}/#/galleries/staff")
        page.fill("#new-person", name)
        page.click("#add-person button[type=submit]")
        person = page.locator("article.person", has_text=name)
        drop_files(page, f'article.person:has-text("{name}") .drop', [FACES / photo])
        expect(person.locator(".enrolments")).to_contain_text("enrolled", timeout=120_000)
    page.goto(f"{url}/#/recognise")
    page.select_option("#collection", "staff")
    photos = [FACES / n for n in ("obama3.jpg", "multiface.jpg", "biden.jpg")]
    page.set_input_files("#photos", [str(p) for p in photos])
    page.click("#upload button[type=submit]")
    expect(page.locator("article.job[data-state=succeeded]")).to_have_count(3, timeout=120_000)
    return page.locator("article.job", has_text="obama3.jpg").get_attribute("data-job-id")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        served = ServeProcess(Path(tmp), "--model", "sface").start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                page = logged_in(browser, served)
                job_id = prepare(page, served.url)
                views = {
                    "recognise": None,
                    "jobs": "#/jobs",
                    "job": f"#/jobs/{job_id}",
                    "galleries": "#/galleries",
                    "collection": "#/galleries/staff",
                    "alerts": "#/alerts",
                }
                for width in SIZES:
                    page.set_viewport_size({"width": width, "height": 800})
                    for view, fragment in views.items():
                        if fragment:
                            page.goto(f"{served.url}/{fragment}")
                        else:
                            page.click("nav >> text=Recognise")
                        page.wait_for_timeout(1500)
                        page.evaluate("window.scrollTo(0, 0)")
                        page.screenshot(path=str(OUT / f"{view}-{width}.png"))
                browser.close()
        finally:
            served.kill()
    for name in IN_README:
        shutil.copy(OUT / name, ROOT / "docs" / name)
    print(f"wrote {len(SIZES) * 6} screenshots to {OUT}; {', '.join(IN_README)} to docs/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

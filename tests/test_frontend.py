"""The HTTP front end against real `facerec serve` / `facerec frontend` processes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from facerec.frontend.config import FrontendConfig, processes
from tests.conftest import ComputeProcess, ServeProcess, free_port
from tests.helpers import unique
from tests.http import http
from tests.sse import read_events

TIMEOUT = 30


def post_photo(
    url: str,
    path: Path | None = None,
    data: bytes | None = None,
    name: str = "photo.jpg",
    **fields: str,
) -> requests.Response:
    body = data if data is not None else path.read_bytes()
    files = {**{k: (None, v) for k, v in fields.items()}, "image": (name, body)}
    return http.post(f"{url}/api/v1/jobs", files=files, timeout=TIMEOUT)


def _blank_png() -> bytes:
    """A small photo without faces (its job queues like any other)."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 90, 90)).save(buf, format="PNG")
    return buf.getvalue()


def wait_job(url: str, job_id: str) -> dict:
    with http.get(f"{url}/api/v1/jobs/{job_id}/events", stream=True, timeout=TIMEOUT) as r:
        assert r.status_code == 200
        last = None
        for ev in read_events(r):
            if ev.event == "end":
                break
            last = ev.data
    return last


def test_upload_answers_202_then_events_stream_to_the_end(
    served: ServeProcess, faces: Path
) -> None:
    resp = post_photo(served.url, faces / "multiface.jpg")
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert resp.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["state"] == "queued" and job["faces"] == []
    assert job["image"] == {
        "width": 1200,
        "height": 630,
        "format": "JPEG",
        "size_bytes": (faces / "multiface.jpg").stat().st_size,
    }
    assert job["untrained_model"] is True

    with http.get(
        f"{served.url}/api/v1/jobs/{job['id']}/events", stream=True, timeout=TIMEOUT
    ) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        events = list(read_events(r))
    kinds = [e.event for e in events]
    assert kinds[0] == "snapshot" and kinds[-1] == "end"
    states = [e.data["state"] for e in events if e.event != "end"]
    assert states[-1] == "succeeded"
    if states[0] == "queued":
        assert "running" in states
    final = events[-2].data
    assert len(final["faces"]) == 6
    for face in final["faces"]:
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 <= 1200 and 0 <= y1 < y2 <= 630
        assert len(face["landmarks"]) == 5

    got = http.get(f"{served.url}{resp.headers['Location']}", timeout=TIMEOUT).json()
    assert got["state"] == "succeeded" and len(got["faces"]) == 6
    listed = http.get(
        f"{served.url}/api/v1/jobs?state=succeeded&page_size=500", timeout=TIMEOUT
    ).json()
    assert job["id"] in [j["id"] for j in listed["jobs"]]


def test_enrol_over_http_then_recognise(served: ServeProcess, faces: Path) -> None:
    url = served.url
    collection = unique()
    r = http.post(f"{url}/api/v1/collections", json={"name": collection}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    r = http.post(
        f"{url}/api/v1/collections/{collection}/identities",
        json={"name": "Barack Obama"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 201
    identity = r.json()["id"]
    r = http.post(
        f"{url}/api/v1/collections/{collection}/identities/{identity}/faces",
        files=[("image", ("a.jpg", (faces / "obama.jpg").read_bytes()))],
        timeout=TIMEOUT,
    )
    assert r.status_code == 202, r.text
    (enrol_job,) = r.json()["jobs"]
    assert wait_job(url, enrol_job["id"])["state"] == "succeeded"

    job = post_photo(url, faces / "obama.jpg", collection=collection).json()
    final = wait_job(url, job["id"])
    match = final["faces"][0]["matches"][0]
    assert match["identity_id"] == identity and match["name"] == "Barack Obama"
    assert match["similarity"] >= 0.99

    people = http.get(f"{url}/api/v1/collections/{collection}/identities", timeout=TIMEOUT).json()
    assert [p["face_count"] for p in people["identities"]] == [1]
    gone = http.delete(
        f"{url}/api/v1/collections/{collection}/identities/{identity}", timeout=TIMEOUT
    )
    assert gone.json() == {"deleted_faces": 1}


def _error(resp: requests.Response, status: int, code: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    if code:
        assert err["code"] == code
    assert err["message"]
    return err["message"]


def test_bad_requests_get_json_errors(served: ServeProcess, faces: Path) -> None:
    url = served.url
    no_file = http.post(f"{url}/api/v1/jobs", files={"collection": (None, "x")}, timeout=TIMEOUT)
    assert "image" in _error(no_file, 400, "IMAGE_REQUIRED")
    _error(post_photo(url, data=b""), 400, "PHOTO_EMPTY")
    _error(
        post_photo(url, data=b"just some text\n" * 20, name="fake.jpg"), 415, "UNSUPPORTED_FORMAT"
    )
    big = post_photo(url, data=b"\xff\xd8" + b"\0" * (21 * 1024 * 1024))
    assert "limit" in _error(big, 413, "PHOTO_TOO_LARGE")
    _error(http.post(f"{url}/api/v1/jobs", data=b"raw", timeout=TIMEOUT), 415)
    _error(http.get(f"{url}/api/v1/jobs/job_nope", timeout=TIMEOUT), 404, "NOT_FOUND")
    _error(http.get(f"{url}/api/v1/jobs/job_nope/events", timeout=TIMEOUT), 404)
    _error(
        http.post(
            f"{url}/api/v1/collections",
            data="{not json",
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT,
        ),
        400,
        "BAD_JSON",
    )
    _error(post_photo(url, faces / "obama.jpg", top_k="many"), 400, "BAD_FIELD")
    _error(post_photo(url, faces / "obama.jpg", top_k="500"), 400)
    # Integers past the contract's 32 bits: a 400 with the field named, not a 502.
    for field, value in (("top_k", 2**32), ("priority", 2**40), ("min_face_size", 10**30)):
        message = _error(post_photo(url, faces / "obama.jpg", **{field: str(value)}), 400)
        assert f"{field} is out of range" in message and len(message) < 120, message
    huge_page = _error(http.get(f"{url}/api/v1/jobs?page_size={2**40}", timeout=TIMEOUT), 400)
    assert "page_size is out of range" in huge_page
    negative = _error(http.get(f"{url}/api/v1/jobs?page_size=-5", timeout=TIMEOUT), 400)
    assert "page_size is out of range" in negative
    _error(post_photo(url, faces / "obama.jpg", collection="nope"), 404)
    _error(http.get(f"{url}/api/v1/jobs?state=bogus", timeout=TIMEOUT), 400)
    _error(http.get(f"{url}/api/v1/nothing-here", timeout=TIMEOUT), 404)
    # ...and it still serves.
    assert post_photo(url, faces / "obama2.jpg").status_code == 202


def test_health_ready_metrics(served: ServeProcess) -> None:
    health = http.get(f"{served.url}/healthz", timeout=TIMEOUT).json()
    assert health["status"] == "ok" and health["process"] == served.proc.pid
    ready = http.get(f"{served.url}/readyz", timeout=TIMEOUT)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["model"]["id"] == "facenet-untrained"
    model = http.get(f"{served.url}/api/v1/model", timeout=TIMEOUT).json()
    assert model["model"]["trained"] is False and model["model"]["embedding_dim"] == 512
    assert model["reembeddings"] == []
    text = http.get(f"{served.url}/metrics", timeout=TIMEOUT).text
    assert "# TYPE facerec_http_requests_total counter" in text
    assert 'facerec_http_requests_total{endpoint="/healthz",method="GET",status="200"}' in text


def test_upload_page_is_served_without_a_cdn(served: ServeProcess) -> None:
    import re

    page = http.get(served.url + "/", timeout=TIMEOUT)
    assert (
        page.status_code == 200 and '<script type="module" src="/static/js/main.js">' in page.text
    )
    assert "http://" not in page.text and "https://" not in page.text
    # Plain ES modules, no build step: every import is a module of the app itself.
    static = Path(__file__).resolve().parents[1] / "frontend" / "static" / "js"
    for module in static.glob("*.js"):
        served_js = http.get(f"{served.url}/static/js/{module.name}", timeout=TIMEOUT)
        assert served_js.status_code == 200 and "javascript" in served_js.headers["Content-Type"]
        for target in re.findall(r'^import .* from "([^"]+)";', module.read_text(), re.M):
            assert target.startswith("./") and (static / target[2:]).exists(), (module, target)


def test_compute_down_is_503_and_the_front_end_recovers(tmp_path: Path, faces: Path) -> None:
    port = free_port()
    compute = ComputeProcess(tmp_path / "data", "--grpc-port", str(port))
    compute.start()
    front = ServeProcess(
        tmp_path / "front",
        "--grpc-target",
        f"127.0.0.1:{port}",
        command="frontend",
        key=compute.key,
    )
    front.start()
    try:
        assert http.get(f"{front.url}/readyz", timeout=TIMEOUT).status_code == 200
        compute.kill()
        down = post_photo(front.url, faces / "obama.jpg")
        assert "compute server is unreachable" in _error(down, 503, "COMPUTE_UNAVAILABLE")
        assert down.headers["Retry-After"]
        not_ready = http.get(f"{front.url}/readyz", timeout=TIMEOUT)
        assert not_ready.status_code == 503 and "unreachable" in not_ready.json()["reason"]
        assert http.get(f"{front.url}/healthz", timeout=TIMEOUT).status_code == 200

        compute.start()
        deadline = time.monotonic() + 30
        while http.get(f"{front.url}/readyz", timeout=TIMEOUT).status_code != 200:
            assert time.monotonic() < deadline, "front end did not reconnect"
            time.sleep(0.2)
        resp = post_photo(front.url, faces / "obama.jpg")
        assert resp.status_code == 202
        assert wait_job(front.url, resp.json()["id"])["state"] == "succeeded"
    finally:
        front.kill()
        compute.kill()


def test_twenty_streams_keep_alive_and_do_not_starve_requests(tmp_path: Path) -> None:
    # No worker: jobs stay queued, so their event streams stay open.
    front = ServeProcess(tmp_path, "--no-local-worker", "--sse-keepalive-seconds", "0.3")
    front.start()
    url = front.url
    try:
        ids = [post_photo(url, data=_blank_png(), name="x.png").json()["id"] for _ in range(20)]
        streams = [
            http.get(f"{url}/api/v1/jobs/{i}/events", stream=True, timeout=TIMEOUT) for i in ids
        ]
        assert all(s.status_code == 200 for s in streams)
        comments: list[str] = []
        events = read_events(streams[0], comments)
        first = next(events)
        assert first.event == "snapshot" and first.data["state"] == "queued"
        # Keep-alives arrive while nothing happens; the parser collects them as comments.
        lines = streams[1].iter_lines(decode_unicode=True, chunk_size=1)
        keepalives = 0
        while keepalives < 2:
            keepalives += next(lines) == ": keep-alive"
        assert _gauge(url) == 20

        started = time.monotonic()
        for _ in range(10):
            assert http.get(f"{url}/healthz", timeout=5).status_code == 200
            assert http.get(f"{url}/api/v1/jobs?page_size=5", timeout=5).status_code == 200
        assert post_photo(url, data=_blank_png(), name="y.png").status_code == 202
        assert time.monotonic() - started < 10

        for s in streams:
            s.close()
        deadline = time.monotonic() + 10
        while _gauge(url) != 0:
            assert time.monotonic() < deadline, "streams of gone clients were not closed"
            time.sleep(0.2)
    finally:
        front.kill()


def _gauge(url: str) -> int:
    text = http.get(f"{url}/metrics", timeout=TIMEOUT).text
    line = next(x for x in text.splitlines() if x.startswith("facerec_event_streams "))
    return int(float(line.split()[1]))


def test_serve_restarts_a_compute_server_that_dies(tmp_path: Path, faces: Path) -> None:
    import signal

    served = ServeProcess(tmp_path)
    served.start()
    try:
        url = served.url
        first = served.compute_pid()
        jobs = [post_photo(url, faces / name).json()["id"] for name in ("obama.jpg", "biden.jpg")]
        os.kill(first, signal.SIGKILL)  # a crash in native code, or the OOM killer

        deadline = time.monotonic() + 120
        while http.get(f"{url}/readyz", timeout=TIMEOUT).status_code != 200:
            assert served.proc.poll() is None, served.log()
            assert time.monotonic() < deadline, served.log()
            time.sleep(0.2)
        second = served.compute_pid()
        assert second != first
        # The jobs accepted before the crash finish (resumed from disk if they had not),
        # and new uploads work through the same front end.
        assert [wait_job(url, j)["state"] for j in jobs] == ["succeeded", "succeeded"]
        again = post_photo(url, faces / "obama.jpg")
        assert again.status_code == 202
        assert wait_job(url, again.json()["id"])["state"] == "succeeded"
        log = served.log()
        assert "the compute server was killed by signal 9; starting it again" in log
        assert "the compute server is back" in log
    finally:
        served.kill()


def test_serve_stops_cleanly_on_ctrl_c(tmp_path: Path, faces: Path) -> None:
    import os
    import signal

    served = ServeProcess(tmp_path)
    served.start()
    job = post_photo(served.url, faces / "obama.jpg").json()
    assert wait_job(served.url, job["id"])["state"] == "succeeded"
    os.killpg(served.proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    assert served.proc.wait(60) == 0
    log = served.log()
    assert "facerec compute stopped" in log
    assert "Traceback" not in log, log
    try:
        http.get(f"{served.url}/healthz", timeout=2)
        raise AssertionError("the front end still answers after Ctrl-C")
    except requests.ConnectionError:
        pass


def test_alerts_over_http_resume_from_last_event_id(served: ServeProcess, faces: Path) -> None:
    url = served.url
    watch = unique("w")
    bad = http.post(
        f"{url}/api/v1/collections",
        timeout=TIMEOUT,
        json={"name": watch, "alert_on_match": True, "alert_threshold": 2},
    )
    assert _error(bad, 400) and "alert_threshold" in bad.json()["error"]["message"]
    bad_hook = http.post(
        f"{url}/api/v1/collections",
        timeout=TIMEOUT,
        json={
            "name": watch,
            "alert_on_match": True,
            "webhooks": [{"url": "nope", "secret": "x" * 20}],
        },
    )
    _error(bad_hook, 400)
    made = http.post(
        f"{url}/api/v1/collections",
        timeout=TIMEOUT,
        json={"name": watch, "alert_on_match": True, "alert_threshold": 0.95},
    )
    assert made.status_code == 201 and made.json()["alert_on_match"] is True
    identity = http.post(
        f"{url}/api/v1/collections/{watch}/identities", json={"name": "Obama"}, timeout=TIMEOUT
    ).json()["id"]
    r = http.post(
        f"{url}/api/v1/collections/{watch}/identities/{identity}/faces",
        files=[("image", ("o.jpg", (faces / "obama.jpg").read_bytes()))],
        timeout=TIMEOUT,
    )
    assert wait_job(url, r.json()["jobs"][0]["id"])["state"] == "succeeded"
    jobs = [post_photo(url, faces / "obama.jpg").json()["id"] for _ in range(2)]
    for j in jobs:
        wait_job(url, j)

    listed = http.get(f"{url}/api/v1/alerts?collection={watch}", timeout=TIMEOUT).json()
    assert sorted(a["job_id"] for a in listed["alerts"]) == sorted(jobs)
    first = min(a["id"] for a in listed["alerts"])
    with http.get(
        f"{url}/api/v1/alerts/events?collection={watch}",
        stream=True,
        headers={"Last-Event-ID": str(first)},
        timeout=TIMEOUT,
    ) as stream:
        event = next(read_events(stream))
    assert event.event == "alert" and int(event.id) > first
    assert event.data["name"] == "Obama" and event.data["collection"] == watch
    deliveries = http.get(f"{url}/api/v1/alerts/{first}/deliveries", timeout=TIMEOUT)
    assert deliveries.json() == {"deliveries": []}


def test_fields_after_the_image_cancel_the_upload(served: ServeProcess, faces: Path) -> None:
    url = served.url

    def count() -> int:
        return len(http.get(f"{url}/api/v1/jobs?page_size=500", timeout=TIMEOUT).json()["jobs"])

    before = count()
    files = [("image", ("o.jpg", (faces / "obama.jpg").read_bytes())), ("collection", (None, "x"))]
    late = http.post(f"{url}/api/v1/jobs", files=files, timeout=TIMEOUT)
    assert "after the image" in _error(late, 400, "FIELD_AFTER_IMAGE")
    two = http.post(
        f"{url}/api/v1/jobs",
        timeout=TIMEOUT,
        files=[("image", ("a.jpg", b"x")), ("image", ("b.jpg", b"y"))],
    )
    _error(two, 400, "ONE_IMAGE_PER_JOB")
    time.sleep(0.5)
    assert count() == before
    in_query = http.post(
        f"{url}/api/v1/jobs?top_k=2",
        timeout=TIMEOUT,
        files=[("image", ("o.jpg", (faces / "obama2.jpg").read_bytes()))],
    )
    assert in_query.status_code == 202


def test_serve_stops_cleanly_on_sigterm_with_streams_open(tmp_path: Path) -> None:
    import signal

    # No worker: the job stays queued, so its event streams stay open until the shutdown.
    served = ServeProcess(tmp_path, "--no-local-worker")
    served.start()
    url = served.url
    job_id = post_photo(url, data=_blank_png(), name="x.png").json()["id"]
    paths = [f"/api/v1/jobs/{job_id}/events"] * 4 + ["/api/v1/alerts/events"] * 4
    streams = [http.get(url + p, stream=True, timeout=TIMEOUT) for p in paths]
    assert all(s.status_code == 200 for s in streams)
    job_events = [read_events(s) for s in streams[:4]]
    assert all(next(e).data["state"] == "queued" for e in job_events)

    served.proc.send_signal(signal.SIGTERM)  # what `docker stop` does: the parent only
    assert served.proc.wait(60) == 0
    # Each stream ended cleanly (no broken chunked body) and without `end`, which would
    # tell a browser that the job's stream is complete instead of reconnecting.
    for events in job_events:
        assert [e.event for e in events] == []
    for s in streams[4:]:
        assert [e.event for e in read_events(s)] == []
    log = served.log()
    assert "facerec compute stopped" in log
    assert "Traceback" not in log and "still running" not in log, log


def test_several_front_end_processes_share_the_port(
    compute: ComputeProcess, tmp_path: Path, faces: Path
) -> None:
    front = ServeProcess(
        tmp_path / "front",
        "--grpc-target",
        compute.target,
        "--http-processes",
        "3",
        command="frontend",
        key=compute.key,
    )
    front.start()
    try:
        processes = set()
        deadline = time.monotonic() + 60
        while len(processes) < 3 and time.monotonic() < deadline:
            # A new connection each time: the kernel spreads connections over the processes.
            with requests.Session() as s:
                processes.add(s.get(f"{front.url}/healthz", timeout=TIMEOUT).json()["process"])
        assert len(processes) == 3
        siblings = processes - {front.proc.pid}
        jobs = {post_photo(front.url, faces / "obama.jpg").json()["id"] for _ in range(6)}
        for job_id in jobs:
            got = http.get(f"{front.url}/api/v1/jobs/{job_id}", timeout=TIMEOUT)
            assert got.status_code == 200
        assert front.interrupt() == 0
        for pid in siblings:
            _gone(pid)
    finally:
        front.kill()


def _gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} still runs")


def test_front_end_processes_default_to_two_or_a_quarter_of_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for cores, want in ((1, 1), (2, 2), (4, 2), (8, 2), (12, 3), (16, 4), (64, 4)):
        monkeypatch.setattr(os, "cpu_count", lambda n=cores: n)
        assert processes(FrontendConfig()) == want, cores
    monkeypatch.setattr(sys, "platform", "darwin")
    assert processes(FrontendConfig()) == 1
    assert processes(FrontendConfig(http_processes=3)) == 3


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("frontend", ["--http-processes", "1", "--grpc-target", "127.0.0.1:1"]),
        ("frontend", ["--http-processes", "2", "--grpc-target", "127.0.0.1:1"]),
        ("serve", ["--grpc-port", "0", "--allow-untrained"]),
    ],
)
def test_a_taken_http_port_is_refused_plainly(
    command: str, extra: list[str], tmp_path: Path
) -> None:
    import socket

    # A server that shares its port (as a second `facerec serve` would offer to): several
    # front-end processes bind with SO_REUSEPORT, which must not let them join it.
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "facerec.compute.cli", command, "--http-port", str(port)]
            + extra
            + (["--data-dir", str(tmp_path / "d")] if command == "serve" else []),
            capture_output=True,
            text=True,
            env={**os.environ, "FACEREC_WEIGHTS_URL": ""},
            timeout=120,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"cannot listen on 127.0.0.1:{port}" in out and "--http-port" in out, out
    assert "Traceback" not in out, out
    if command == "serve":
        assert "facerec compute stopped" in out, out  # the compute child it had started


def test_collection_settings_webhooks_face_crops_and_status(
    served: ServeProcess, faces: Path
) -> None:
    url = served.url
    name = unique()
    assert http.post(f"{url}/api/v1/collections", json={"name": name}).status_code == 201
    got = http.get(f"{url}/api/v1/collections/{name}").json()
    assert got["alert_on_match"] is False and got["webhooks"] == []
    assert http.get(f"{url}/api/v1/collections/nope-{name}").status_code == 404
    # Webhooks need a watchlist; a watchlist with webhooks cannot stop being one.
    hook = {"url": "https://hooks.example.com/x", "secret": "s" * 20}
    refused = http.post(f"{url}/api/v1/collections/{name}/webhooks", json=hook)
    assert refused.status_code == 400 and "only watchlists" in refused.json()["error"]["message"]
    patched = http.patch(
        f"{url}/api/v1/collections/{name}", json={"alert_on_match": True, "alert_threshold": 0.7}
    ).json()
    assert patched["alert_on_match"] and patched["alert_threshold"] == 0.7
    assert not patched["model_threshold"]
    added = http.post(f"{url}/api/v1/collections/{name}/webhooks", json=hook)
    assert added.status_code == 201 and "secret" not in added.json()
    hook_id = added.json()["id"]
    listed = http.get(f"{url}/api/v1/collections/{name}").json()["webhooks"]
    assert listed == [{"id": hook_id, "url": hook["url"]}]
    internal = http.post(
        f"{url}/api/v1/collections/{name}/webhooks",
        json={"url": "http://169.254.169.254/", "secret": "s" * 20},
    )
    assert internal.status_code == 400 and "link-local" in internal.json()["error"]["message"]
    stop = http.patch(f"{url}/api/v1/collections/{name}", json={"alert_on_match": False})
    assert stop.status_code == 400 and "webhooks first" in stop.json()["error"]["message"]
    assert http.delete(f"{url}/api/v1/collections/{name}/webhooks/{hook_id}").status_code == 200
    assert http.delete(f"{url}/api/v1/collections/{name}/webhooks/{hook_id}").status_code == 404
    back = http.patch(f"{url}/api/v1/collections/{name}", json={"alert_threshold": None}).json()
    assert back["model_threshold"] and back["alert_on_match"]
    for bad in ({"alert_threshold": "high"}, {"colour": "red"}, {"alert_threshold": 3}):
        assert http.patch(f"{url}/api/v1/collections/{name}", json=bad).status_code == 400, bad

    # An enrolled face's crop is a PNG, never cached; a user key may not read it.
    person = http.post(
        f"{url}/api/v1/collections/{name}/identities", json={"name": "Someone"}
    ).json()["id"]
    job = http.post(
        f"{url}/api/v1/collections/{name}/identities/{person}/faces",
        files=[("image", ("o.jpg", (faces / "obama.jpg").read_bytes()))],
    ).json()["jobs"][0]
    assert wait_job(url, job["id"])["state"] == "succeeded"
    (face,) = http.get(f"{url}/api/v1/collections/{name}/identities/{person}").json()["faces"]
    crop = http.get(f"{url}/api/v1/faces/{face['id']}/crop")
    assert crop.status_code == 200 and crop.headers["Content-Type"] == "image/png"
    assert crop.headers["Cache-Control"] == "no-store"
    assert Image.open(io.BytesIO(crop.content)).size == (160, 160)
    assert http.get(f"{url}/api/v1/faces/987654321/crop").status_code == 404

    status = http.get(f"{url}/api/v1/status").json()
    assert status["compute"]["reachable"] and status["model"]["id"] == "facenet-untrained"
    assert status["caller"]["role"] == "admin"
    assert status["queue"]["queued"] >= 0 and status["workers"][0]["id"].startswith("local/")
    anonymous = requests.get(f"{url}/api/v1/status", timeout=TIMEOUT).json()
    assert anonymous["compute"]["reachable"] and anonymous["caller"] is None
    assert anonymous["queue"] is None


def test_uploads_right_after_compute_restarts_are_accepted(tmp_path: Path, faces: Path) -> None:
    """Two front-end processes: whichever takes an upload just after compute came back (its
    channel possibly between reconnection attempts) waits for it instead of answering 503."""
    port = free_port()
    compute = ComputeProcess(tmp_path / "data", "--grpc-port", str(port), "--no-local-worker")
    compute.start()
    front = ServeProcess(
        tmp_path / "front",
        "--grpc-target",
        f"127.0.0.1:{port}",
        "--http-processes",
        "2",
        command="frontend",
        key=compute.key,
    )
    front.start()
    try:
        for _ in range(2):
            compute.kill()
            for _ in range(4):  # both processes see compute down
                assert post_photo(front.url, faces / "obama.jpg").status_code == 503
            compute.start()
            deadline = time.monotonic() + 60
            while http.get(f"{front.url}/readyz").status_code != 200:
                assert time.monotonic() < deadline, "never ready"
                time.sleep(0.05)
            codes = [post_photo(front.url, faces / "obama2.jpg").status_code for _ in range(6)]
            assert codes == [202] * 6, codes
    finally:
        front.kill()
        compute.kill()

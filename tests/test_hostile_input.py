"""Hostile input, table-driven: every kind of bad request over HTTP and over gRPC gets its
expected status, reason and a message a person understands (short, no internals), and the
server keeps serving after each.

Each row: an id, the request, the expected status, the expected error code (HTTP) or
`facerec-reason` (gRPC; "" where the status says it all), and words the message must hold.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import requests
from PIL import Image

from facerec.compute.cli.client import Api
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import worker_service_pb2 as wpb
from tests.conftest import ServeProcess
from tests.helpers import connected, reason, recognize, unique
from tests.test_bad_input import bomb_png
from tests.test_security import make_key

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"
TIMEOUT = 30
MAX_UPLOAD = 3 * 1024 * 1024
# Internals a message must never show a person.
LEAKS = ("Traceback", "Exception iterating", "codec can't", "Errno", "grpc._", 'File "')


def _png(size: tuple[int, int], color: tuple[int, int, int] = (90, 90, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    return (FACES / "obama.jpg").read_bytes()


def _bad_crc_png() -> bytes:
    good = bytearray(_png((64, 64), (10, 200, 30)))
    good[40] ^= 0x55
    return bytes(good)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(
        tmp_path_factory.mktemp("hostile"),
        "--max-upload-bytes",
        str(MAX_UPLOAD),
        "--max-photo-bytes",
        str(MAX_UPLOAD),
    ).start()
    yield server
    server.terminate()


@pytest.fixture(scope="module")
def api(served: ServeProcess) -> Iterator[Api]:
    with connected(served.compute_target, served.key) as client:
        yield client


@pytest.fixture(scope="module")
def world(served: ServeProcess, api: Api) -> dict[str, str]:
    """What the rows refer to: a collection with an identity, and a finished job."""
    name, watchlist = unique("hostile"), unique("watch")
    api.gallery.CreateCollection(gpb.CreateCollectionRequest(name=name), timeout=TIMEOUT)
    api.gallery.CreateCollection(
        gpb.CreateCollectionRequest(name=watchlist, alert_on_match=True), timeout=TIMEOUT
    )
    ident = api.gallery.CreateIdentity(
        gpb.CreateIdentityRequest(collection=name, name="Someone"), timeout=TIMEOUT
    )
    done = recognize(api, FACES / "obama2.jpg")
    worker_key = make_key(served, "worker")
    api.target = served.compute_target  # type: ignore[attr-defined]
    return {
        "collection": name,
        "watchlist": watchlist,
        "identity": ident.identity.id,
        "job": done.id,
        "worker_key": worker_key,
    }


# -- HTTP ---------------------------------------------------------------------------------

Http = Callable[[str, dict[str, str]], requests.Response]


def upload(fields: dict[str, str] | None = None, data: bytes | None = None, name="image") -> Http:
    def send(url: str, headers: dict[str, str]) -> requests.Response:
        files = {} if data is None else {name: ("photo", data)}
        return requests.post(
            f"{url}/api/v1/jobs", data=fields or {}, files=files, headers=headers, timeout=TIMEOUT
        )

    return send


def raw(method: str, path: str, body: bytes | str = b"", **extra_headers: str) -> Http:
    def send(url: str, headers: dict[str, str]) -> requests.Response:
        target = path.format(**_WORLD)
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        return requests.request(
            method,
            f"{url}{target}",
            data=data,
            headers={**headers, **extra_headers},
            timeout=TIMEOUT,
        )

    return send


def as_json(method: str, path: str, doc: dict[str, Any]) -> Http:
    def send(url: str, headers: dict[str, str]) -> requests.Response:
        filled = {
            k: v.format(**_WORLD) if isinstance(v, str) and "{" in v else v for k, v in doc.items()
        }
        body = json.dumps(filled)
        return raw(method, path, body, **{"Content-Type": "application/json"})(url, headers)

    return send


_WORLD: dict[str, str] = {}
LONG = "x" * 100_000
DEEP = "[" * 50_000 + "]" * 50_000
MULTIPART = "multipart/form-data; boundary=b"

HTTP_CASES: list[tuple[str, Http, int, str, str]] = [
    # uploads: the photo
    (
        "no image field",
        raw(
            "POST",
            "/api/v1/jobs",
            b'--b\r\nContent-Disposition: form-data; name="top_k"\r\n\r\n3\r\n--b--\r\n',
            **{"Content-Type": MULTIPART},
        ),
        400,
        "IMAGE_REQUIRED",
        "image",
    ),
    ("form-urlencoded body", upload({"top_k": "1"}), 415, "NOT_MULTIPART", "multipart"),
    ("empty photo", upload(data=b""), 400, "PHOTO_EMPTY", "empty"),
    ("text as photo", upload(data=b"hello, I am not a photo"), 415, "UNSUPPORTED_FORMAT", "JPEG"),
    (
        "svg as photo",
        upload(data=b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        415,
        "UNSUPPORTED_FORMAT",
        "known format",
    ),
    ("pdf as photo", upload(data=b"%PDF-1.4\n%%EOF"), 415, "UNSUPPORTED_FORMAT", "known format"),
    ("truncated jpeg", upload(data=_jpeg()[:5000]), 415, "PHOTO_CORRUPT", ""),
    ("png with a damaged header", upload(data=_bad_crc_png()), 415, "PHOTO_CORRUPT", "damaged"),
    ("png bomb header", upload(data=bomb_png()), 413, "PHOTO_TOO_MANY_PIXELS", "megapixels"),
    ("1x1 photo", upload(data=_png((1, 1))), 400, "PHOTO_TOO_SMALL", "12 pixels"),
    ("1x2000 strip", upload(data=_png((1, 2000))), 400, "PHOTO_TOO_SMALL", "1x2000"),
    (
        "costly for its smallest face",
        upload({"min_face_size": "12"}, _png((4000, 4000))),
        413,
        "PHOTO_TOO_COSTLY",
        "min_face_size of at least",
    ),
    (
        "over the upload limit",
        upload(data=b"\xff\xd8" + b"\0" * (MAX_UPLOAD + 10)),
        413,
        "PHOTO_TOO_LARGE",
        "MiB limit",
    ),
    (
        "two images in one job",
        raw(
            "POST",
            "/api/v1/jobs",
            b'--b\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\nxx\r\n'
            b'--b\r\nContent-Disposition: form-data; name="image"; filename="b"\r\n\r\nyy\r\n'
            b"--b--\r\n",
            **{"Content-Type": MULTIPART},
        ),
        400,
        "ONE_IMAGE_PER_JOB",
        "one image",
    ),
    ("unexpected file field", upload(data=_jpeg(), name="photo"), 400, "UNEXPECTED_FILE", "photo"),
    # uploads: the form
    (
        "json instead of multipart",
        as_json("POST", "/api/v1/jobs", {"image": "x"}),
        415,
        "",
        "multipart",
    ),
    (
        "multipart without boundary",
        raw("POST", "/api/v1/jobs", b"x", **{"Content-Type": "multipart/form-data"}),
        400,
        "BAD_MULTIPART",
        "boundary",
    ),
    (
        "multipart never closed",
        raw(
            "POST",
            "/api/v1/jobs",
            b'--b\r\nContent-Disposition: form-data; name="top_k"\r\n\r\n3',
            **{"Content-Type": MULTIPART},
        ),
        400,
        "",
        "multipart",
    ),
    (
        "part without disposition",
        raw("POST", "/api/v1/jobs", b"--b\r\n\r\nxx\r\n--b--\r\n", **{"Content-Type": MULTIPART}),
        400,
        "",
        "",
    ),
    ("top_k zero", upload({"top_k": "0"}, _jpeg()), 400, "", "top_k"),
    ("top_k 2^32", upload({"top_k": str(2**32)}, _jpeg()), 400, "BAD_FIELD", "top_k"),
    ("top_k not a number", upload({"top_k": "many"}, _jpeg()), 400, "BAD_FIELD", "top_k"),
    ("top_k negative", upload({"top_k": "-3"}, _jpeg()), 400, "BAD_FIELD", "negative"),
    ("priority 2^40", upload({"priority": str(2**40)}, _jpeg()), 400, "BAD_FIELD", "priority"),
    ("min_similarity 2", upload({"min_similarity": "2"}, _jpeg()), 400, "", "min_similarity"),
    ("min_similarity nan", upload({"min_similarity": "nan"}, _jpeg()), 400, "", "min_similarity"),
    ("min_similarity inf", upload({"min_similarity": "inf"}, _jpeg()), 400, "", "min_similarity"),
    (
        "min_detection_score -1",
        upload({"min_detection_score": "-1"}, _jpeg()),
        400,
        "",
        "min_detection_score",
    ),
    ("min_face_size 5", upload({"min_face_size": "5"}, _jpeg()), 400, "", "min_face_size"),
    (
        "unknown collection",
        upload({"collection": "no-such-collection"}, _jpeg()),
        404,
        "",
        "no-such-collection",
    ),
    (
        "request_id of 100000 characters",
        upload({"request_id": LONG}, _jpeg()),
        400,
        "",
        "request_id",
    ),
    (
        "collection field not utf-8",
        raw(
            "POST",
            "/api/v1/jobs",
            b'--b\r\nContent-Disposition: form-data; name="collection"\r\n\r\n'
            b"\xff\xfe\r\n--b--\r\n",
            **{"Content-Type": MULTIPART},
        ),
        400,
        "BAD_TEXT",
        "UTF-8",
    ),
    # jobs
    ("unknown job", raw("GET", "/api/v1/jobs/job_0000"), 404, "NOT_FOUND", "job_0000"),
    ("job id of 100000 characters", raw("GET", "/api/v1/jobs/" + LONG), 404, "", ""),
    ("cancel an unknown job", raw("POST", "/api/v1/jobs/job_0000/cancel"), 404, "", "job_0000"),
    (
        "cancel a finished job",
        raw("POST", "/api/v1/jobs/{job}/cancel"),
        409,
        "",
        "already finished",
    ),
    ("events of an unknown job", raw("GET", "/api/v1/jobs/job_0000/events"), 404, "", "job_0000"),
    ("list with a bogus state", raw("GET", "/api/v1/jobs?state=sleeping"), 400, "", "state"),
    (
        "list with page_size -1",
        raw("GET", "/api/v1/jobs?page_size=-1"),
        400,
        "BAD_FIELD",
        "page_size",
    ),
    (
        "list with page_size 2^40",
        raw("GET", f"/api/v1/jobs?page_size={2**40}"),
        400,
        "BAD_FIELD",
        "page_size",
    ),
    (
        "list with a forged page token",
        raw("GET", "/api/v1/jobs?page_token=AAAA%25"),
        400,
        "",
        "page_token",
    ),
    # collections and identities: JSON bodies
    (
        "invalid json",
        raw("POST", "/api/v1/collections", "{name:", **{"Content-Type": "application/json"}),
        400,
        "",
        "JSON",
    ),
    (
        "json nested 50000 deep",
        raw("POST", "/api/v1/collections", DEEP, **{"Content-Type": "application/json"}),
        400,
        "",
        "JSON",
    ),
    (
        "json array, not an object",
        raw("POST", "/api/v1/collections", '["a"]', **{"Content-Type": "application/json"}),
        400,
        "BAD_JSON",
        "object",
    ),
    (
        "json not utf-8",
        raw(
            "POST",
            "/api/v1/collections",
            b'{"name": "\xff"}',
            **{"Content-Type": "application/json"},
        ),
        400,
        "",
        "JSON",
    ),
    (
        "lone surrogate in a name",
        raw(
            "POST",
            "/api/v1/collections",
            '{"name": "a\\ud800b"}',
            **{"Content-Type": "application/json"},
        ),
        400,
        "BAD_TEXT",
        "Unicode",
    ),
    (
        "collection name empty",
        as_json("POST", "/api/v1/collections", {"name": ""}),
        400,
        "",
        "name",
    ),
    (
        "collection name of 100000 characters",
        as_json("POST", "/api/v1/collections", {"name": LONG}),
        400,
        "",
        "name",
    ),
    (
        "collection name with a slash",
        as_json("POST", "/api/v1/collections", {"name": "a/b"}),
        400,
        "",
        "name",
    ),
    (
        "threshold not a number",
        as_json("POST", "/api/v1/collections", {"name": "t1", "alert_threshold": "high"}),
        400,
        "",
        "alert_threshold",
    ),
    (
        "threshold 5",
        as_json("POST", "/api/v1/collections", {"name": "t2", "alert_threshold": 5}),
        400,
        "",
        "alert_threshold",
    ),
    (
        "duplicate collection",
        as_json("POST", "/api/v1/collections", {"name": "{collection}"}),
        409,
        "",
        "exists",
    ),
    (
        "15 MB description",
        as_json("POST", "/api/v1/collections", {"name": "big", "description": "d" * 2_000_000}),
        413,
        "BODY_TOO_LARGE",
        "1 MiB",
    ),
    (
        "body past the server's limit",
        raw(
            "POST", "/api/v1/collections", b"{" * 15_000_000, **{"Content-Type": "application/json"}
        ),
        413,
        "BODY_TOO_LARGE",
        "larger than",
    ),
    (
        "json with text/plain type",
        raw("POST", "/api/v1/collections", '{"name": "plain"}', **{"Content-Type": "text/plain"}),
        400,
        "BAD_JSON",
        "JSON",
    ),
    (
        "patch an unknown collection",
        as_json("PATCH", "/api/v1/collections/nope", {"alert_on_match": True}),
        404,
        "",
        "nope",
    ),
    (
        "webhook on a plain collection",
        as_json(
            "POST",
            "/api/v1/collections/{collection}/webhooks",
            {"url": "http://93.184.216.34/x", "secret": "a-long-enough-secret"},
        ),
        400,
        "",
        "alert_on_match",
    ),
    (
        "webhook with an ftp url",
        as_json(
            "POST",
            "/api/v1/collections/{watchlist}/webhooks",
            {"url": "ftp://example.com/x", "secret": "a-long-enough-secret"},
        ),
        400,
        "",
        "http",
    ),
    (
        "webhook to a private address",
        as_json(
            "POST",
            "/api/v1/collections/{watchlist}/webhooks",
            {"url": "http://10.1.2.3/hook", "secret": "a-long-enough-secret"},
        ),
        400,
        "",
        "10.1.2.3",
    ),
    (
        "delete an unknown webhook",
        raw("DELETE", "/api/v1/collections/{collection}/webhooks/999999"),
        404,
        "",
        "",
    ),
    (
        "identity in an unknown collection",
        as_json("POST", "/api/v1/collections/nope/identities", {"name": "A"}),
        404,
        "",
        "nope",
    ),
    (
        "identity without a name",
        as_json("POST", "/api/v1/collections/{collection}/identities", {}),
        400,
        "",
        "name",
    ),
    (
        "unknown identity",
        raw("GET", "/api/v1/collections/{collection}/identities/id_0000"),
        404,
        "",
        "id_0000",
    ),
    (
        "enrol with no photo",
        raw(
            "POST",
            "/api/v1/collections/{collection}/identities/{identity}/faces",
            b"--b--\r\n",
            **{"Content-Type": MULTIPART},
        ),
        400,
        "IMAGE_REQUIRED",
        "photo",
    ),
    (
        "enrol text as a photo",
        raw(
            "POST",
            "/api/v1/collections/{collection}/identities/{identity}/faces",
            b'--b\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n'
            b"not a photo\r\n--b--\r\n",
            **{"Content-Type": MULTIPART},
        ),
        415,
        "UNSUPPORTED_FORMAT",
        "",
    ),
    (
        "delete an unknown face",
        raw("DELETE", "/api/v1/collections/{collection}/identities/{identity}/faces/999999"),
        404,
        "",
        "",
    ),
    ("crop of an unknown face", raw("GET", "/api/v1/faces/999999/crop"), 404, "", ""),
    # alerts
    (
        "alert stream after -5",
        raw("GET", "/api/v1/alerts/events?after=-5"),
        400,
        "BAD_FIELD",
        "after",
    ),
    (
        "alert stream after abc",
        raw("GET", "/api/v1/alerts/events?after=abc"),
        400,
        "BAD_FIELD",
        "after",
    ),
    (
        "alerts with page_size -1",
        raw("GET", "/api/v1/alerts?page_size=-1"),
        400,
        "BAD_FIELD",
        "page_size",
    ),
    (
        "alert stream with a bad Last-Event-ID",
        raw("GET", "/api/v1/alerts/events", **{"Last-Event-ID": "yesterday"}),
        400,
        "",
        "Last-Event-ID",
    ),
    (
        "deliveries of an unknown alert",
        raw("GET", "/api/v1/alerts/99999999/deliveries"),
        404,
        "",
        "",
    ),
    # the HTTP layer itself
    ("unknown route", raw("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND", ""),
    ("wrong method", raw("PUT", "/api/v1/jobs"), 405, "METHOD_NOT_ALLOWED", ""),
    (
        "foreign Host header",
        raw("GET", "/api/v1/jobs", Host="evil.example"),
        400,
        "",
        "evil.example",
    ),
    (
        "cross-site form post",
        raw(
            "POST",
            "/api/v1/collections",
            '{"name": "csrf"}',
            **{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
        ),
        403,
        "",
        "site",
    ),
]


@pytest.mark.parametrize(
    ("case", "send", "status", "code", "words"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES]
)
def test_http(
    served: ServeProcess,
    world: dict[str, str],
    case: str,
    send: Http,
    status: int,
    code: str,
    words: str,
) -> None:
    _WORLD.update(world)
    answer = send(served.url, {"Authorization": f"Bearer {served.key}"})
    assert answer.status_code == status, f"{case}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text[:200]
    error = answer.json()["error"]
    if code:
        assert error["code"] == code, error
    message = error["message"]
    assert words.format(**world) in message, message
    assert 10 < len(message) < 600, message
    assert not any(leak in message for leak in LEAKS), message
    assert requests.get(f"{served.url}/healthz", timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer frk_00_nope"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_http_without_a_working_key(served: ServeProcess, header: dict, status: int) -> None:
    answer = requests.get(f"{served.url}/api/v1/jobs", headers=header, timeout=TIMEOUT)
    assert answer.status_code == status
    assert "key" in answer.json()["error"]["message"]


# -- gRPC ---------------------------------------------------------------------------------

Grpc = Callable[[Api, dict[str, str]], Any]


def _submit(*messages: rpb.SubmitJobRequest) -> Grpc:
    return lambda api, w: api.recognition.SubmitJob(iter(messages), timeout=TIMEOUT)


def _photo(spec: job_pb2.JobSpec, data: bytes) -> Grpc:
    return _submit(rpb.SubmitJobRequest(spec=spec), rpb.SubmitJobRequest(chunk=data))


def _reused_request_id(api: Api, w: dict[str, str]) -> Any:
    rid = uuid.uuid4().hex
    _photo(job_pb2.JobSpec(request_id=rid), _jpeg())(api, w)
    return _photo(job_pb2.JobSpec(request_id=rid), (FACES / "biden.jpg").read_bytes())(api, w)


class ItemError(grpc.RpcError):
    """A `Recognize` stream's per-photo error, shaped like the error of a call."""

    def __init__(self, error: rpb.RecognizeError) -> None:
        self.error = error

    def code(self) -> grpc.StatusCode:
        return next(c for c in grpc.StatusCode if c.value[0] == self.error.code)

    def details(self) -> str:
        return self.error.message

    def trailing_metadata(self) -> tuple:
        return ()


def _recognize(*messages: rpb.RecognizeRequest) -> Grpc:
    """Runs a Recognize stream; raises the first per-photo error as an ItemError."""

    def run(api: Api, w: dict[str, str]) -> Any:
        for answer in api.recognition.Recognize(iter(messages), timeout=TIMEOUT):
            if answer.WhichOneof("outcome") == "error":
                raise ItemError(answer.error)
        return None

    return run


def _r(client_id: str, **kw: Any) -> rpb.RecognizeRequest:
    return rpb.RecognizeRequest(client_id=client_id, **kw)


START, END = rpb.PhotoStart(spec=job_pb2.JobSpec()), rpb.PhotoEnd()


def _work(*messages: wpb.WorkRequest) -> Grpc:
    """A Work stream with a worker key (an admin key may not act as a worker)."""

    def run(api: Api, w: dict[str, str]) -> Any:
        with connected(api.target, w["worker_key"]) as worker:
            return list(worker.workers.Work(iter(messages), timeout=TIMEOUT))

    return run


HELLO = wpb.WorkRequest(
    hello=wpb.WorkerHello(worker_id="hostile", capabilities=["detect:mtcnn"], max_tasks=1)
)


def _search(vector: list[float], **kw: Any) -> Grpc:
    return lambda api, w: api.gallery.SearchFaces(
        gpb.SearchFacesRequest(embedding=vector, **kw), timeout=TIMEOUT
    )


def _unknown_method(api: Api, w: dict[str, str]) -> Any:
    call = api.channel.unary_unary("/facerec.v1.RecognitionService/Nothing")
    return call(b"", timeout=TIMEOUT)


SPEC = job_pb2.JobSpec
MODEL = "facenet-untrained"
GRPC_CASES: list[tuple[str, Grpc, grpc.StatusCode, str, str]] = [
    ("empty SubmitJob stream", _submit(), grpc.StatusCode.INVALID_ARGUMENT, "", "spec"),
    (
        "chunk before the spec",
        _submit(rpb.SubmitJobRequest(chunk=b"x")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "spec",
    ),
    (
        "two specs",
        _submit(rpb.SubmitJobRequest(spec=SPEC()), rpb.SubmitJobRequest(spec=SPEC())),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "spec",
    ),
    (
        "spec but no photo",
        _submit(rpb.SubmitJobRequest(spec=SPEC())),
        grpc.StatusCode.INVALID_ARGUMENT,
        "PHOTO_EMPTY",
        "empty",
    ),
    (
        "top_k 1000",
        _photo(SPEC(top_k=1000), _jpeg()),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "top_k",
    ),
    (
        "min_similarity nan",
        _photo(SPEC(min_similarity=float("nan")), _jpeg()),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "min_similarity",
    ),
    (
        "priority past the range",
        _photo(SPEC(priority=2**31 - 1), _jpeg()),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "priority",
    ),
    (
        "unknown collection",
        _photo(SPEC(collection="no-such"), _jpeg()),
        grpc.StatusCode.NOT_FOUND,
        "",
        "no-such",
    ),
    (
        "photo over the size limit",
        _photo(SPEC(), b"\0" * (MAX_UPLOAD + 1)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "PHOTO_TOO_LARGE",
        "MiB limit",
    ),
    (
        "photo too costly",
        _photo(SPEC(min_face_size=12), _png((4000, 4000))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "PHOTO_TOO_COSTLY",
        "megapixels",
    ),
    (
        "tiny photo",
        _photo(SPEC(), _png((5, 5))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "PHOTO_TOO_SMALL",
        "5x5",
    ),
    (
        "request_id reused with another photo",
        _reused_request_id,
        grpc.StatusCode.ALREADY_EXISTS,
        "REQUEST_ID_REUSED",
        "another photo",
    ),
    (
        "GetJob unknown",
        lambda a, w: a.recognition.GetJob(rpb.GetJobRequest(job_id="job_0"), timeout=TIMEOUT),
        grpc.StatusCode.NOT_FOUND,
        "",
        "job_0",
    ),
    (
        "ListJobs forged page token",
        lambda a, w: a.recognition.ListJobs(
            rpb.ListJobsRequest(page_token="garbage!"), timeout=TIMEOUT
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "page_token",
    ),
    (
        "ListJobs page size past the maximum",
        lambda a, w: a.recognition.ListJobs(
            rpb.ListJobsRequest(page_size=100_000), timeout=TIMEOUT
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "page_size",
    ),
    (
        "CancelJob finished",
        lambda a, w: a.recognition.CancelJob(
            rpb.CancelJobRequest(job_id=w["job"]), timeout=TIMEOUT
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "",
        "already finished",
    ),
    (
        "WatchJob unknown",
        lambda a, w: list(
            a.recognition.WatchJob(rpb.WatchJobRequest(job_id="job_0"), timeout=TIMEOUT)
        ),
        grpc.StatusCode.NOT_FOUND,
        "",
        "job_0",
    ),
    (
        "Recognize client id reused",
        _recognize(
            _r("a", start=START), _r("a", chunk=_jpeg()), _r("a", end=END), _r("a", start=START)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "used for a photo already",
    ),
    (
        "Recognize chunk before start",
        _recognize(_r("b", chunk=b"xx")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "b",
    ),
    (
        "Recognize end without start",
        _recognize(_r("c", end=END)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "c",
    ),
    (
        "Recognize text as a photo",
        _recognize(_r("d", start=START), _r("d", chunk=b"text"), _r("d", end=END)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "known format",
    ),
    (
        "CreateCollection empty name",
        lambda a, w: a.gallery.CreateCollection(
            gpb.CreateCollectionRequest(name=""), timeout=TIMEOUT
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "name",
    ),
    (
        "CreateCollection duplicate",
        lambda a, w: a.gallery.CreateCollection(
            gpb.CreateCollectionRequest(name=w["collection"]), timeout=TIMEOUT
        ),
        grpc.StatusCode.ALREADY_EXISTS,
        "",
        "exists",
    ),
    (
        "CreateCollection threshold 3",
        lambda a, w: a.gallery.CreateCollection(
            gpb.CreateCollectionRequest(name=unique(), alert_threshold=3), timeout=TIMEOUT
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "alert_threshold",
    ),
    (
        "DeleteCollection unknown",
        lambda a, w: a.gallery.DeleteCollection(
            gpb.DeleteCollectionRequest(name="nope"), timeout=TIMEOUT
        ),
        grpc.StatusCode.NOT_FOUND,
        "",
        "nope",
    ),
    (
        "CreateIdentity unknown collection",
        lambda a, w: a.gallery.CreateIdentity(
            gpb.CreateIdentityRequest(collection="nope", name="A"), timeout=TIMEOUT
        ),
        grpc.StatusCode.NOT_FOUND,
        "",
        "nope",
    ),
    (
        "EnrollFaces without photos",
        lambda a, w: a.gallery.EnrollFaces(
            iter([gpb.EnrollFacesRequest(spec=gpb.EnrollFacesSpec(identity_id=w["identity"]))]),
            timeout=TIMEOUT,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "photo",
    ),
    (
        "SearchFaces wrong dimension",
        _search([7**-0.5] * 7, model_id=MODEL),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "7",
    ),
    (
        "SearchFaces nan",
        _search([float("nan")] * 512, model_id=MODEL),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "finite",
    ),
    (
        "SearchFaces without a model id",
        _search([0.1] * 512),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "model_id",
    ),
    (
        "SearchFaces unknown model",
        _search(list(np.ones(512) / 512**0.5), model_id="nope"),
        grpc.StatusCode.FAILED_PRECONDITION,
        "MODEL_MISMATCH",
        "nope",
    ),
    (
        "Work without hello",
        _work(wpb.WorkRequest(heartbeat=wpb.TaskHeartbeat())),
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
        "hello",
    ),
    ("Work with two hellos", _work(HELLO, HELLO), grpc.StatusCode.INVALID_ARGUMENT, "", "hello"),
    (
        "Work with a capability of another model",
        _work(
            wpb.WorkRequest(
                hello=wpb.WorkerHello(worker_id="w", capabilities=["embed:sface"], max_tasks=1)
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "",
        "sface",
    ),
    ("unknown method", _unknown_method, grpc.StatusCode.UNIMPLEMENTED, "", ""),
]


@pytest.mark.parametrize(
    ("case", "call", "status", "why", "words"), GRPC_CASES, ids=[c[0] for c in GRPC_CASES]
)
def test_grpc(
    api: Api,
    world: dict[str, str],
    case: str,
    call: Grpc,
    status: grpc.StatusCode,
    why: str,
    words: str,
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        call(api, world)
    err = info.value
    assert err.code() == status, f"{case}: {err.code()} {err.details()}"
    if why:
        assert reason(err) == why, (reason(err), err.details())
    message = err.details() or ""
    assert words in message, message
    assert status == grpc.StatusCode.UNIMPLEMENTED or 10 < len(message) < 600, message
    assert not any(leak in message for leak in LEAKS), message
    api.recognition.ListJobs(rpb.ListJobsRequest(page_size=1), timeout=TIMEOUT)


def test_still_recognising_after_all_of_it(api: Api, served: ServeProcess) -> None:
    job = recognize(api, FACES / "obama3.jpg")
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED and len(job.faces) >= 1
    assert requests.get(f"{served.url}/readyz", timeout=TIMEOUT).status_code == 200


def test_the_table_is_as_wide_as_promised() -> None:
    assert len(HTTP_CASES) + len(GRPC_CASES) >= 60
    for table in (HTTP_CASES, GRPC_CASES):
        assert len({c[0] for c in table}) == len(table)

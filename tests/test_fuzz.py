"""Property-based fuzzing (Hypothesis) of the code that reads what clients send: the photo
checks, the multipart decoder, form fields and JSON bodies, and the proto to JSON conversion.
No input may raise anything but the clear error each of them documents.

CI runs a short pass (FACEREC_FUZZ_EXAMPLES, 60 examples per target by default);
`make fuzz` runs thousands.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from facerec.compute.api import convert as compute_convert
from facerec.compute.dispatch.submitter import Submitter
from facerec.compute.errors import InvalidArgument
from facerec.compute.models import photo
from facerec.frontend import convert, uploads
from facerec.frontend.compute_client import _job_spec
from facerec.frontend.errors import ApiError
from facerec.frontend.gallery_api import _check_text, _flag, _text, _threshold
from facerec.frontend.multipart import FileChunk, FileStart, FormField, parts
from facerec.v1 import alert_pb2, gallery_pb2, job_pb2
from tests.test_multipart import BOUNDARY, ShortReads, body

EXAMPLES = int(os.environ.get("FACEREC_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
LIMITS = photo.PhotoLimits(max_pixels=50_000_000, max_detection_cost=64, min_face_size=40)
REASONS = {
    "PHOTO_EMPTY",
    "UNSUPPORTED_FORMAT",
    "PHOTO_TOO_SMALL",
    "PHOTO_TOO_MANY_PIXELS",
    "PHOTO_TOO_COSTLY",
    "PHOTO_CORRUPT",
}


def _seed_photos() -> list[bytes]:
    out = []
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"):
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 30, 90)).save(buf, fmt)
        out.append(buf.getvalue())
    return out


SEEDS = _seed_photos()


@st.composite
def damaged_photos(draw: st.DrawFn) -> bytes:
    """A real small photo with bytes flipped, cut, inserted or repeated."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "set"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif data:
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
    return bytes(data)


def _checked(tmp: Path, data: bytes) -> None:
    path = tmp / "photo"
    path.write_bytes(data)
    try:
        header = photo.check(path, len(data), LIMITS)
    except InvalidArgument as exc:
        assert exc.reason in REASONS, exc.reason
        assert 10 < len(exc.message) < 600
        return
    assert header.width >= photo.MIN_SIDE and header.height >= photo.MIN_SIDE
    # Accepted: the worker decodes it in bounded time and memory, or its task runner fails
    # the job for good with PHOTO_UNREADABLE (it catches whatever decoding raises).
    try:
        img = photo.load_rgb(path)
    except Exception:
        return
    assert img.size in ((header.width, header.height), (header.height, header.width))


@FUZZ
@given(data=damaged_photos())
def test_photo_check_on_damaged_photos(tmp_path: Path, data: bytes) -> None:
    _checked(tmp_path, data)


@FUZZ
@given(data=st.binary(max_size=4096))
@example(data=b"\x89PNG\r\n\x1a\n")
@example(data=b"\xff\xd8\xff")
@example(data=b"GIF89a")
@example(data=b"RIFF\x00\x00\x00\x00WEBPVP8 ")
def test_photo_check_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    _checked(tmp_path, data)


names = st.text(st.characters(codec="ascii", exclude_characters='"\r\n\\'), min_size=1, max_size=12)
values = st.binary(max_size=300).filter(lambda v: BOUNDARY not in v)


@FUZZ
@given(items=st.lists(st.tuples(names, values, st.booleans()), max_size=5), step=st.integers(1, 70))
def test_multipart_round_trip(items: list[tuple[str, bytes, bool]], step: int) -> None:
    """Any well-formed body reads back as sent, however the reads split it."""
    got: list[tuple[str, bytes, bool]] = []
    try:
        for part in parts(ShortReads(body(*items), step), BOUNDARY, 10_000):
            if isinstance(part, FormField):
                got.append((part.name, part.value.encode(), False))
            elif isinstance(part, FileStart):
                got.append((part.name, b"", True))
            elif isinstance(part, FileChunk):
                name, value, _ = got.pop()
                got.append((name, value + part.data, True))
    except ApiError as exc:
        # Only a form field that is not UTF-8 is refused.
        assert exc.code == "BAD_TEXT", exc.message
        assert any(not f and not _utf8(v) for _, v, f in items)
        return
    assert got == items


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@FUZZ
@given(data=st.binary(max_size=2000), step=st.integers(1, 100))
@example(data=b"--" + BOUNDARY + b"\r\n\r\n", step=3)
@example(data=b"--" + BOUNDARY + b"--", step=1)
def test_multipart_garbage_is_400_or_413(data: bytes, step: int) -> None:
    try:
        for _ in parts(ShortReads(data, step), BOUNDARY, 500):
            pass
    except ApiError as exc:
        assert exc.status in (400, 413), (exc.status, exc.message)
        assert 10 < len(exc.message) < 600


@FUZZ
@given(
    data=st.binary(max_size=1500).map(lambda b: body(("image", b, True)) + b),
    step=st.integers(1, 100),
)
def test_multipart_with_trailing_garbage_is_clean(data: bytes, step: int) -> None:
    test_multipart_garbage_is_400_or_413.hypothesis.inner_test(data, step)


FIELDS = (
    "top_k",
    "priority",
    "min_similarity",
    "min_detection_score",
    "min_face_size",
    "collection",
    "request_id",
)
numberish = st.one_of(
    st.text(max_size=30),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["1e400", "-0", "0x10", "\uff11\uff12", "nan", "inf", " 3 ", "2147483648", "1_0"]
    ),
)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(FIELDS), numberish, max_size=len(FIELDS)))
def test_form_fields_become_a_valid_proto_or_a_400(fields: dict[str, str]) -> None:
    try:
        spec = uploads.job_spec(fields)
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "BAD_FIELD", exc.message
        return
    pb = _job_spec(spec)  # must not overflow a 32-bit field or reject a value
    job_pb2.JobSpec.FromString(pb.SerializeToString())
    # What compute then checks raises only InvalidArgument.
    with contextlib.suppress(InvalidArgument):
        Submitter.check_ranges(compute_convert.spec_from_pb(pb, 0.5))


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["name", "description", "alert_on_match", "alert_threshold", "url", "secret"]
        ),
        json_values,
    )
)
@example(body={"name": "a\ud800b"})
def test_json_fields_are_read_or_refused_with_400(body: dict[str, object]) -> None:
    try:
        _check_text(body)  # what every JSON body goes through first
    except ApiError as exc:
        assert exc.status == 400 and exc.code in ("BAD_TEXT", "BAD_JSON"), exc.message
        return
    for read in (
        lambda: _text(body, "name"),
        lambda: _text(body, "description", required=False),
        lambda: _flag(body, "alert_on_match"),
        lambda: _threshold(body),
    ):
        try:
            value = read()
        except ApiError as exc:
            assert exc.status == 400, exc.message
            continue
        if isinstance(value, str):
            value.encode("utf-8")  # what reaches a proto encodes


MESSAGES = [
    (job_pb2.Job, convert.job_json),
    (gallery_pb2.Collection, convert.collection_json),
    (gallery_pb2.Identity, convert.identity_json),
    (alert_pb2.Alert, convert.alert_json),
    (alert_pb2.WebhookDelivery, convert.delivery_json),
]


@pytest.mark.parametrize(("message", "to_json"), MESSAGES, ids=[m[0].__name__ for m in MESSAGES])
def test_any_decodable_proto_converts_to_json(message: type, to_json) -> None:
    """Whatever a (buggy or newer) compute server sends, the front end answers with JSON."""

    @FUZZ
    @given(data=st.binary(max_size=400))
    def run(data: bytes) -> None:
        try:
            pb = message.FromString(data)
        except Exception:
            return
        json.dumps(to_json(pb))

    run()

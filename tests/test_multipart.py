"""The streaming multipart reader against werkzeug's own decoder, on bodies made to confuse it."""

from __future__ import annotations

import io

import pytest
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from facerec.frontend.errors import ApiError
from facerec.frontend.multipart import FileChunk, FileEnd, FileStart, FormField, parts

BOUNDARY = b"b0undary"


class ShortReads(io.BytesIO):
    """A body that arrives `step` bytes per read, so delimiters straddle reads."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self.step)


def body(*items: tuple[str, bytes, bool]) -> bytes:
    out = b""
    for name, value, is_file in items:
        filename = b'; filename="p.jpg"' if is_file else b""
        out += b'--%s\r\nContent-Disposition: form-data; name="%s"%s\r\n\r\n%s\r\n' % (
            BOUNDARY,
            name.encode(),
            filename,
            value,
        )
    return out + b"--" + BOUNDARY + b"--\r\n"


def ours(data: bytes, step: int) -> list[tuple[str, str, bytes]]:
    out: list[tuple[str, str, bytes]] = []
    for part in parts(ShortReads(data, step), BOUNDARY, 1 << 30):
        if isinstance(part, FormField):
            out.append(("field", part.name, part.value.encode()))
        elif isinstance(part, FileStart):
            out.append(("file", part.name, b""))
        elif isinstance(part, FileChunk):
            kind, name, so_far = out[-1]
            out[-1] = (kind, name, so_far + part.data)
        else:
            assert isinstance(part, FileEnd)
    return out


def reference(data: bytes, step: int) -> list[tuple[str, str, bytes]]:
    """werkzeug's decoder as it comes, fed `step` bytes at a time."""
    decoder = MultipartDecoder(BOUNDARY)
    out: list[tuple[str, str, bytes]] = []
    at = 0
    while not isinstance(event := decoder.next_event(), Epilogue):
        if isinstance(event, NeedData):
            decoder.receive_data(data[at : at + step] or None)
            at += step
        elif isinstance(event, (File, Field)):
            out.append(("file" if isinstance(event, File) else "field", event.name, b""))
        elif isinstance(event, Data):
            kind, name, so_far = out[-1]
            out[-1] = (kind, name, so_far + event.data)
    return out


TRICKY = [
    b"plain photo bytes" * 1000,
    b"--" + BOUNDARY + b" not after a line break, so data",
    b"x\r\n--" + BOUNDARY + b"x is longer than the boundary, so data",
    b"ends in a line break\r\n",
    b"\r\r\n\n--" + BOUNDARY[:-1],
    b"",
]


@pytest.mark.parametrize("step", [1, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("content", TRICKY, ids=range(len(TRICKY)))
def test_parts_match_werkzeug(content: bytes, step: int) -> None:
    """Wherever the reads split the body, it reads as werkzeug reads it whole (werkzeug's own
    decoder, fed a byte at a time, keeps a "\r" of a delimiter cut after "--boundary-" as
    data; the reader here does not)."""
    data = body(("collection", b"people", False), ("image", content, True), ("x", b"y", False))
    whole = [("field", "collection", b"people"), ("file", "image", content), ("field", "x", b"y")]
    assert reference(data, len(data)) == whole
    assert ours(data, step) == whole


@pytest.mark.parametrize(
    "data",
    [
        body(("image", b"abc", True))[:-12],  # cut before the closing delimiter
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="image"\r\n',
    ],
)
def test_truncated_bodies_are_refused(data: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        ours(data, 5)
    assert caught.value.status == 400 and caught.value.code == "BAD_MULTIPART"

"""The photo spool: content-addressed files, kept once however often they are uploaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from facerec.compute.errors import InvalidArgument
from facerec.compute.store.spool import PhotoSpool


def spooled(spool: PhotoSpool, data: bytes) -> Path:
    upload = spool.upload(1 << 20)
    upload.write(data[:10])
    upload.write(data[10:])
    sha = upload.finish()
    assert sha == hashlib.sha256(data).hexdigest()
    with spool.lock:
        path = spool.keep(upload, sha)
    upload.discard()
    assert not upload.path.exists()
    return path


def test_same_bytes_are_kept_once(tmp_path: Path) -> None:
    spool = PhotoSpool(tmp_path)
    first = spooled(spool, b"photo bytes " * 100)
    inode = first.stat().st_ino
    again = spooled(spool, b"photo bytes " * 100)
    other = spooled(spool, b"other photo")
    assert again == first and first.stat().st_ino == inode  # not rewritten
    assert first.read_bytes() == b"photo bytes " * 100 and other.read_bytes() == b"other photo"
    assert spool.stored() == {first.name, other.name}
    assert list((tmp_path / "tmp").iterdir()) == []
    assert spool.prune({other.name}) == 1 and spool.stored() == {other.name}


def test_a_stored_copy_of_another_size_is_replaced(tmp_path: Path) -> None:
    spool = PhotoSpool(tmp_path)
    path = spooled(spool, b"photo bytes")
    path.write_bytes(b"")  # as a power cut can leave a renamed file whose data never landed
    assert spooled(spool, b"photo bytes").read_bytes() == b"photo bytes"


def test_oversize_and_discarded_uploads_leave_nothing(tmp_path: Path) -> None:
    spool = PhotoSpool(tmp_path)
    upload = spool.upload(10)
    with pytest.raises(InvalidArgument):
        upload.write(b"x" * 11)
    upload.discard()
    assert list((tmp_path / "tmp").iterdir()) == [] and spool.stored() == set()

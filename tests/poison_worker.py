"""`facerec worker` whose photo decoder crashes the process on photos carrying a marker.

Stands in for a native decoder bug (a segfault in libjpeg, say): the whole worker dies on
that photo, every time, and a supervisor restarts it. Other photos work as usual.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

from facerec.compute.cli import main as cli
from facerec.compute.models import photo

MARKER = b"FACEREC-TEST-POISON"
_load_rgb = photo.load_rgb


def _crashing_load_rgb(source: BinaryIO):  # type: ignore[no-untyped-def]
    data = source.read()
    source.seek(0)
    if MARKER in data:
        os.abort()
    return _load_rgb(source)


if __name__ == "__main__":
    photo.load_rgb = _crashing_load_rgb
    sys.exit(cli.main(["worker", *sys.argv[1:]]))

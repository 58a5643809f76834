"""Slow and idle HTTP clients: deadlines end them with 408, and hundreds of them leave the
front end answering everyone else."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServeProcess
from tests.http import http


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(
        tmp_path_factory.mktemp("slow"),
        "--no-local-worker",
        "--http-header-timeout-seconds",
        "2",
        "--http-min-body-rate",
        "2000",
        "--http-idle-timeout-seconds",
        "3",
    ).start()
    yield server
    server.terminate()


def _connect(served: ServeProcess) -> socket.socket:
    host, port = served.url.split("//")[1].rstrip("/").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=15)


def _answer(sock: socket.socket) -> tuple[int, dict[str, object], bool]:
    """Status, JSON body, and whether the server closed the connection after it."""
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body), True


def test_headers_that_never_finish_get_408(served: ServeProcess) -> None:
    sock = _connect(served)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    t0 = time.monotonic()
    status, body, closed = _answer(sock)
    assert (status, closed) == (408, True)
    assert body["error"]["code"] == "REQUEST_TIMEOUT"
    assert "headers did not arrive within 2 s" in body["error"]["message"]
    assert 1.5 < time.monotonic() - t0 < 10


def test_a_trickling_body_gets_408(served: ServeProcess) -> None:
    sock = _connect(served)
    sock.sendall(
        b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data;"
        b" boundary=x\r\nContent-Length: 100000\r\n\r\n--x\r\n"
    )
    t0 = time.monotonic()
    sock.settimeout(1)
    # One byte a second stays under the 2000 bytes/s floor; the server must end it.
    while time.monotonic() - t0 < 15:
        try:
            sock.sendall(b"a")
            piece = sock.recv(65536, socket.MSG_PEEK)
        except TimeoutError:
            continue
        except OSError:
            break
        if piece:
            break
    sock.settimeout(15)
    status, body, _ = _answer(sock)
    assert status == 408
    assert "slower than" in body["error"]["message"]
    assert time.monotonic() - t0 < 12


def test_idle_keep_alive_connections_are_closed(served: ServeProcess) -> None:
    sock = _connect(served)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    length = int(first.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(first.partition(b"\r\n\r\n")[2]) < length:
        first += sock.recv(65536)
    t0 = time.monotonic()
    assert sock.recv(65536) == b""  # the server closed it, without a word
    assert 2 < time.monotonic() - t0 < 10


def test_hundreds_of_slow_clients_leave_the_others_served(
    served: ServeProcess, faces: Path
) -> None:
    # More than waitress's default limit (100) of connections per process, each sending part
    # of its headers and then a byte now and then.
    slow = []
    for n in range(300):
        sock = _connect(served)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" if n % 2 else b"G")
        slow.append(sock)
    try:
        for _ in range(3):
            assert http.get(f"{served.url}/healthz", timeout=5).status_code == 200
        photo = (faces / "obama.jpg").read_bytes()
        answer = http.post(f"{served.url}/api/v1/jobs", files={"image": photo}, timeout=10)
        assert answer.status_code == 202, answer.text
    finally:
        for sock in slow:
            sock.close()

"""Unit tests for the in-container dashboard: cgroup readers, CPU maths, rendering, and
the websocket echo and streaming endpoints of the app served in-process."""

import base64
import http.client
import importlib.util
import os
import socket
import struct
import threading
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

APP_PATH = Path(__file__).resolve().parents[2] / "user_dashboard" / "app.py"


def _load_app():
    spec = importlib.util.spec_from_file_location("user_dashboard_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = _load_app()


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- memory ---

def test_memory_v2_with_limit(tmp_path):
    _write(tmp_path, "memory.current", "12345678\n")
    _write(tmp_path, "memory.max", "134217728\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 12345678, "limit_bytes": 134217728}


def test_memory_v2_unlimited(tmp_path):
    _write(tmp_path, "memory.current", "4096\n")
    _write(tmp_path, "memory.max", "max\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 4096, "limit_bytes": None}


def test_memory_v2_unreadable_max(tmp_path):
    _write(tmp_path, "memory.current", "4096\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 4096, "limit_bytes": None}


def test_memory_v1_subtracts_inactive_file(tmp_path):
    _write(tmp_path, "memory/memory.usage_in_bytes", "10000000\n")
    _write(tmp_path, "memory/memory.stat", "cache 5000\ninactive_file 999\ntotal_inactive_file 2000000\n")
    _write(tmp_path, "memory/memory.limit_in_bytes", "134217728\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 8000000, "limit_bytes": 134217728}


def test_memory_v1_unlimited_and_no_stat(tmp_path):
    _write(tmp_path, "memory/memory.usage_in_bytes", "10000000\n")
    _write(tmp_path, "memory/memory.limit_in_bytes", "9223372036854771712\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 10000000, "limit_bytes": None}


def test_memory_missing_files(tmp_path):
    assert app.memory_usage(tmp_path) == {"usage_bytes": None, "limit_bytes": None}


def test_memory_garbage_is_none(tmp_path):
    _write(tmp_path, "memory.current", "not a number\n")
    _write(tmp_path, "memory.max", "also not\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": None, "limit_bytes": None}


# --- cpu counters ---

def test_cpu_v2_usage_usec_in_ns(tmp_path):
    _write(tmp_path, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    assert app.cpu_usage_ns(tmp_path) == 1_500_000


def test_cpu_v1_cpuacct(tmp_path):
    _write(tmp_path, "cpuacct/cpuacct.usage", "987654321\n")
    assert app.cpu_usage_ns(tmp_path) == 987654321


def test_cpu_v1_combined_mount(tmp_path):
    _write(tmp_path, "cpu,cpuacct/cpuacct.usage", "42\n")
    assert app.cpu_usage_ns(tmp_path) == 42


def test_cpu_missing(tmp_path):
    assert app.cpu_usage_ns(tmp_path) is None


# --- cpu percent ---

@pytest.mark.parametrize(
    ("prev", "cur", "expected"),
    [
        (None, (1_000, 10.0), 0.0),                          # first reading
        ((0, 10.0), (500_000_000, 11.0), 50.0),               # half a core for 1 s
        ((0, 10.0), (4_000_000_000, 12.0), 200.0),            # two cores for 2 s
        ((1_000, 10.0), (1_000, 10.0), 0.0),                  # no wall time elapsed
        ((5_000, 10.0), (1_000, 11.0), 0.0),                  # counter went backwards
        ((0, 10.0), None, None),                              # counter unreadable
    ],
)
def test_cpu_percent(prev, cur, expected):
    assert app.cpu_percent(prev, cur) == expected


def test_cpu_sampler_keeps_previous_reading(tmp_path, monkeypatch):
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(app.time, "monotonic", lambda: next(clock))
    sampler = app.CpuSampler(tmp_path)
    _write(tmp_path, "cpu.stat", "usage_usec 1000000\n")
    assert sampler.sample() == 0.0
    _write(tmp_path, "cpu.stat", "usage_usec 2000000\n")
    assert sampler.sample() == 50.0  # 1 s of CPU over 2 s of wall time


def test_cpu_sampler_unreadable(tmp_path):
    assert app.CpuSampler(tmp_path).sample() is None


# --- rendering ---

def test_render_page_escapes_everything():
    info = {
        "username": "<script>alert(1)</script>",
        "container_id": "abc\"def",
        "started_at": "2024-01-01T00:00:00+00:00",
        "uptime_s": 3725.0,
        "cpu_percent": None,
        "memory": {"usage_bytes": 10 * 1024 * 1024, "limit_bytes": None},
        "recent_activity": [{"method": "GET", "path": "/<img src=x>", "time": "00:00:01"}],
    }
    page = app.render_page(info)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page
    assert "01:02:05" in page and "10.0 MiB" in page


# --- served in-process: websocket echo and streaming ---

@pytest.fixture
def port():
    server = app.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _ws(port: int):
    return connect(f"ws://127.0.0.1:{port}/ws/echo", open_timeout=5, close_timeout=5)


def _health(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
        return resp.status


def test_websocket_echoes_text_and_binary(port):
    with _ws(port) as ws:  # the client checks Sec-WebSocket-Accept
        ws.send("héllo")
        assert ws.recv(timeout=5) == "héllo"
        ws.send(b"\x00\xffbinary")
        assert ws.recv(timeout=5) == b"\x00\xffbinary"


@pytest.mark.parametrize("size", [125, 126, 65_535, 70_000])  # 7-bit, 16-bit (both ends), 64-bit length
def test_websocket_echoes_every_length_encoding(port, size):
    payload = os.urandom(size)
    with _ws(port) as ws:
        ws.send(payload)
        assert ws.recv(timeout=5) == payload


def test_websocket_reassembles_fragmented_messages(port):
    with _ws(port) as ws:
        ws.send(["frag", "ment", "ed ✓"])
        assert ws.recv(timeout=5) == "fragmented ✓"
        ws.send([b"\x01", b"\x02" * 70_000, b"\x03"])
        assert ws.recv(timeout=5) == b"\x01" + b"\x02" * 70_000 + b"\x03"


def test_websocket_answers_ping_with_pong(port):
    with _ws(port) as ws:
        assert ws.ping(b"marco").wait(5), "no pong carrying the ping's payload"


def test_websocket_close_handshake_echoes_the_code(port):
    with _ws(port) as ws:
        ws.close(4000, "bye")
    assert ws.close_code == 4000  # 1006 when the server does not answer our close frame


@pytest.mark.parametrize("fragments", [1, 2], ids=["one-frame", "fragmented"])
def test_websocket_closes_oversized_messages_with_1009(port, fragments):
    with _ws(port) as ws:
        ws.send(b"x" * app.WS_MAX_MESSAGE)
        assert len(ws.recv(timeout=5)) == app.WS_MAX_MESSAGE
        too_big = b"x" * (app.WS_MAX_MESSAGE + 1)
        ws.send(too_big if fragments == 1 else [too_big[:-1], too_big[-1:]])
        with pytest.raises(ConnectionClosedError) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


def test_websocket_closes_invalid_utf8_text_with_1007(port):
    with _ws(port) as ws:
        ws.send(b"\xff\xfe", text=True)
        with pytest.raises(ConnectionClosedError) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1007


def _raw_upgrade(port: int) -> socket.socket:
    """A socket past a hand-written handshake, for frames no well-behaved client sends."""
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall((
        "GET /ws/echo HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += sock.recv(1)  # byte by byte: nothing after the headers gets swallowed
    assert head.startswith(b"HTTP/1.1 101")
    return sock


def _recv_close_code(sock: socket.socket) -> int:
    """Read one whole close frame from the server; returns its code."""
    data = b""
    while len(data) < 2 or len(data) < 2 + data[1]:
        chunk = sock.recv(4096)
        assert chunk, f"connection ended after {data!r}"
        data += chunk
    assert data[0] == 0x88 and len(data) == 2 + data[1], data
    return struct.unpack("!H", data[2:4])[0]


def test_websocket_closes_unmasked_client_frames_with_1002(port):
    with _raw_upgrade(port) as sock:
        sock.sendall(b"\x81\x02hi")  # FIN + text, mask bit clear
        assert _recv_close_code(sock) == 1002


def test_websocket_reads_the_rest_of_an_oversized_message_before_closing(port):
    # Closing with unread input makes the kernel reset the connection, which may
    # destroy the 1009 close frame before the client (or a proxy) reads it.
    size = app.WS_MAX_MESSAGE + 1
    half = size // 2
    with _raw_upgrade(port) as sock:
        # Header (masked, all-zero key) and half the payload: the server has input it did not read.
        sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, size) + bytes(4) + bytes(half))
        assert _recv_close_code(sock) == 1009
        sock.sendall(bytes(size - half) + b"\x88\x80" + bytes(4))  # the rest, then our close frame
        assert sock.recv(4096) == b""  # an orderly end of stream, not a reset


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}, 400),
        ({"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": base64.b64encode(b"short").decode()}, 400),
        ({"Connection": "Upgrade", "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": base64.b64encode(bytes(16)).decode()}, 400),
        ({"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "8",
          "Sec-WebSocket-Key": base64.b64encode(bytes(16)).decode()}, 426),
    ],
    ids=["missing-key", "short-key", "no-upgrade-header", "old-version"],
)
def test_websocket_refuses_bad_upgrade_requests(port, headers, status):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/ws/echo", headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == status
    if status == 426:
        assert resp.getheader("Sec-WebSocket-Version") == "13"


def test_plain_http_is_served_while_a_websocket_is_open(port):
    with _ws(port) as ws:
        assert _health(port) == 200
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"


def test_websocket_sessions_are_capped(port, monkeypatch):
    monkeypatch.setattr(app, "WS_SLOTS", threading.BoundedSemaphore(1))
    with _ws(port):
        with pytest.raises(InvalidStatus) as refused:
            _ws(port)
        assert refused.value.response.status_code == 503
        assert _health(port) == 200
    with _ws(port) as ws:  # the slot came back when the first session ended
        ws.send("again")
        assert ws.recv(timeout=5) == "again"


def test_websocket_closes_idle_sessions_with_1001(port, monkeypatch):
    monkeypatch.setattr(app, "WS_IDLE_TIMEOUT", 0.2)
    with _ws(port) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1001


def test_stream_sends_each_chunk_as_it_is_produced(port, monkeypatch):
    released = threading.Event()
    # The server holds chunk 2 until the client has read chunk 1: buffering would deadlock.
    monkeypatch.setattr(app, "_stream_pause", lambda seconds: released.wait(10))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/stream?n=3")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Length") is None
    assert resp.readline() == b"chunk 1/3\n"
    released.set()
    assert resp.read() == b"chunk 2/3\nchunk 3/3\n"
    conn.request("GET", "/health")  # the terminating chunk leaves the connection reusable
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 200


@pytest.mark.parametrize("query", ["n=0", "n=101", "n=abc", "n=2&delay_ms=5000", "n=2&delay_ms=-1"])
def test_stream_refuses_bad_parameters(port, query):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", f"/stream?{query}")
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 400

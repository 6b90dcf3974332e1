"""Per-user dashboard served from inside each user's container.

Standard library only, so the image stays tiny and the process starts fast.
Resource figures are read from the container's own cgroup (v2 or v1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
ACTIVITY_SIZE = 20
# cgroup v1 reports "no limit" as a huge page-aligned number rather than "max".
UNLIMITED_THRESHOLD = 1 << 60

STARTED_MONO = time.monotonic()
STARTED_AT = datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- cgroup readers: every one returns None when the data is unavailable ---

def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(path: Path) -> int | None:
    text = _read_text(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _read_keyed(path: Path, key: str) -> int | None:
    """Value of `key` in a "key value" per-line file such as memory.stat or cpu.stat."""
    text = _read_text(path)
    if text is None:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            try:
                return int(parts[1])
            except ValueError:
                return None
    return None


def _limit_or_none(value: int | None) -> int | None:
    return None if value is None or value >= UNLIMITED_THRESHOLD else value


def memory_usage(root: Path = CGROUP_ROOT) -> dict:
    """Return {"usage_bytes", "limit_bytes"}; a limit of None means unlimited or unknown."""
    if (root / "memory.current").exists():
        usage = _read_int(root / "memory.current")
        raw_max = _read_text(root / "memory.max")
        limit = None if raw_max in (None, "max") else _read_int(root / "memory.max")
        return {"usage_bytes": usage, "limit_bytes": _limit_or_none(limit)}
    v1 = root / "memory"
    usage = _read_int(v1 / "memory.usage_in_bytes")
    inactive = _read_keyed(v1 / "memory.stat", "total_inactive_file")
    if usage is not None and inactive is not None:
        usage = max(usage - inactive, 0)  # same "working set" figure docker stats shows
    return {"usage_bytes": usage, "limit_bytes": _limit_or_none(_read_int(v1 / "memory.limit_in_bytes"))}


def cpu_usage_ns(root: Path = CGROUP_ROOT) -> int | None:
    """Cumulative CPU time of the cgroup in nanoseconds."""
    usec = _read_keyed(root / "cpu.stat", "usage_usec")
    if usec is not None:
        return usec * 1000
    for v1_dir in ("cpuacct", "cpu,cpuacct"):
        nsec = _read_int(root / v1_dir / "cpuacct.usage")
        if nsec is not None:
            return nsec
    return None


def cpu_percent(prev: tuple[int, float] | None, cur: tuple[int, float] | None) -> float | None:
    """CPU% between two (usage_ns, wall_seconds) samples; 100% is one full core."""
    if cur is None:
        return None
    if prev is None:
        return 0.0
    wall = cur[1] - prev[1]
    used = cur[0] - prev[0]
    if wall <= 0 or used < 0:
        return 0.0
    return round(used / (wall * 1e9) * 100, 2)


class CpuSampler:
    """Keeps the previous counter reading so each request reports usage since the last one."""

    def __init__(self, root: Path = CGROUP_ROOT) -> None:
        self._root = root
        self._prev: tuple[int, float] | None = None
        self._lock = threading.Lock()

    def sample(self) -> float | None:
        usage = cpu_usage_ns(self._root)
        cur = None if usage is None else (usage, time.monotonic())
        with self._lock:
            percent = cpu_percent(self._prev, cur)
            if cur is not None:
                self._prev = cur
        return percent


# --- application state ---

CPU = CpuSampler()
ACTIVITY: deque = deque(maxlen=ACTIVITY_SIZE)


def container_id() -> str:
    return _read_text(Path("/etc/hostname")) or socket.gethostname()


def uptime_s() -> float:
    return round(time.monotonic() - STARTED_MONO, 1)


def collect_info() -> dict:
    return {
        "username": os.environ.get("SAAS_USERNAME", ""),
        "container_id": container_id(),
        "started_at": STARTED_AT,
        "uptime_s": uptime_s(),
        "cpu_percent": CPU.sample(),
        "memory": memory_usage(),
        "recent_activity": list(ACTIVITY),
    }


# --- HTML rendering ---

PAGE_CSS = """
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--muted:#5f6b7a;--line:#e3e6eb;--accent:#3b6fe0}
@media (prefers-color-scheme:dark){:root{--bg:#11141a;--card:#1a1f28;--fg:#e6e9ef;--muted:#98a2b3;--line:#2a313d;--accent:#7aa2ff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:860px;margin:0 auto;padding:24px 16px}h1{font-size:1.5rem;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 20px;word-break:break-all}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-bottom:20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px}
.label{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.value{font-size:1.3rem;font-weight:600;color:var(--accent);word-break:break-all}
table{width:100%;border-collapse:collapse;font-size:.9rem}td,th{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line)}
td.path{word-break:break-all}
"""


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def _fmt_uptime(seconds: float) -> str:
    s = int(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    return (f"{days}d " if days else "") + f"{hours:02d}:{minutes:02d}:{s:02d}"


def _card(label: str, value: str) -> str:
    return f'<div class="card"><div class="label">{html.escape(label)}</div><div class="value">{html.escape(value)}</div></div>'


def render_page(info: dict) -> str:
    mem = info["memory"]
    memory = _fmt_bytes(mem["usage_bytes"])
    if mem["limit_bytes"] is not None:
        memory += f" / {_fmt_bytes(mem['limit_bytes'])}"
    cpu = "n/a" if info["cpu_percent"] is None else f"{info['cpu_percent']:.1f} %"
    rows = "".join(
        f"<tr><td>{html.escape(a['time'])}</td><td>{html.escape(a['method'])}</td>"
        f'<td class="path">{html.escape(a["path"])}</td></tr>'
        for a in reversed(info["recent_activity"])
    ) or '<tr><td colspan="3">No requests yet.</td></tr>'
    name = html.escape(info["username"] or "anonymous")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>{name} · dashboard</title><style>{PAGE_CSS}</style></head>
<body><main>
<h1>Hello, {name}</h1>
<p class="sub">Container {html.escape(info["container_id"])} · started {html.escape(info["started_at"])}</p>
<div class="grid">
{_card("Uptime", _fmt_uptime(info["uptime_s"]))}
{_card("CPU", cpu)}
{_card("Memory", memory)}
</div>
<div class="card"><div class="label">Recent activity</div>
<table><thead><tr><th>Time</th><th>Method</th><th>Path</th></tr></thead><tbody>{rows}</tbody></table></div>
</main></body></html>"""


# --- WebSocket echo (RFC 6455) ---

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_MAX_MESSAGE = 1 << 20  # bytes of one (reassembled) message; more closes with 1009
WS_IDLE_TIMEOUT = 300.0  # seconds without a frame from the client before closing with 1001
WS_CLOSE_TIMEOUT = 5.0  # seconds to wait for the client's close frame after ours
WS_DRAIN_LIMIT = 4 * WS_MAX_MESSAGE  # bytes read and dropped while waiting for that frame
# Every session holds a thread, and the container's pids limit counts threads: a cap
# keeps room for plain HTTP (the health check) however many sockets are open.
WS_SLOTS = threading.BoundedSemaphore(16)

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DATA_OPCODES = (OP_TEXT, OP_BINARY)
CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)
# Close codes a peer may send (RFC 6455 7.4); 1004-1006 and 1015 never go on the wire.
VALID_CLOSE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


def websocket_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def _header_tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",")}


def handshake_error(headers) -> tuple[int, str] | None:
    """(status, reason) when the request is not a valid WebSocket upgrade, else None."""
    if "websocket" not in _header_tokens(headers.get("Upgrade")):
        return 400, "expected Upgrade: websocket"
    if "upgrade" not in _header_tokens(headers.get("Connection")):
        return 400, "expected Connection: Upgrade"
    if headers.get("Sec-WebSocket-Version", "").strip() != "13":
        return 426, "only Sec-WebSocket-Version 13 is supported"
    try:
        nonce = base64.b64decode(headers.get("Sec-WebSocket-Key", "").strip(), validate=True)
    except binascii.Error:
        nonce = b""
    if len(nonce) != 16:
        return 400, "Sec-WebSocket-Key must be 16 bytes, base64"
    return None


def _unmask(payload: bytes, mask: bytes) -> bytes:
    # One big-integer XOR instead of a Python loop over up to a MiB of bytes.
    if not payload:
        return payload
    key = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One unfragmented, unmasked frame, as a server sends it."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


class WebSocketClose(Exception):
    """Ends the session with a close frame carrying `code`."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class EchoSession:
    """Echoes every message of one upgraded connection back to the client."""

    def __init__(self, sock: socket.socket, rfile, wfile) -> None:
        self._sock = sock
        self._rfile = rfile
        self._wfile = wfile
        self._unread = 0  # payload bytes of the current frame not read yet

    def run(self) -> None:
        try:
            self._sock.settimeout(WS_IDLE_TIMEOUT)
            code = self._echo_until_close()
            self._send(OP_CLOSE, b"" if code is None else struct.pack("!H", code))
        except WebSocketClose as close:
            self._send_close(close.code, close.reason)
            self._await_client_close()
        except TimeoutError:
            # A socket that timed out refuses further reads: no waiting for the reply.
            self._send_close(1001, "idle timeout")
        except (OSError, EOFError):
            pass  # the client went away: nobody to tell

    def _send_close(self, code: int, reason: str) -> None:
        try:
            self._send(OP_CLOSE, struct.pack("!H", code) + reason.encode())
        except OSError:
            pass

    def _echo_until_close(self) -> int | None:
        """Echo messages until the client's close frame; returns its close code."""
        opcode, parts, size = None, [], 0
        while True:
            fin, frame_op, length, mask = self._read_header()
            if frame_op == OP_CLOSE:
                return self._parse_close(self._read_payload(length, mask))
            if frame_op == OP_PING:
                self._send(OP_PONG, self._read_payload(length, mask))
                continue
            if frame_op == OP_PONG:
                self._read_payload(length, mask)
                continue
            if frame_op == OP_CONTINUATION and opcode is None:
                raise WebSocketClose(1002, "continuation frame outside a message")
            if frame_op != OP_CONTINUATION and opcode is not None:
                raise WebSocketClose(1002, "new message before the previous one ended")
            size += length
            if size > WS_MAX_MESSAGE:
                raise WebSocketClose(1009, f"message over {WS_MAX_MESSAGE} bytes")
            opcode = opcode if frame_op == OP_CONTINUATION else frame_op
            parts.append(self._read_payload(length, mask))
            if fin:
                message = b"".join(parts)
                if opcode == OP_TEXT:
                    _decode_utf8(message)
                self._send(opcode, message)
                opcode, parts, size = None, [], 0

    def _read_exact(self, n: int) -> bytes:
        data = self._rfile.read(n)
        if len(data) < n:
            raise EOFError
        return data

    def _read_header(self) -> tuple[bool, int, int, bytes]:
        """(fin, opcode, payload length, mask) of the next frame, checked against the RFC."""
        first, second = self._read_exact(2)
        fin, opcode, length = bool(first & 0x80), first & 0x0F, second & 0x7F
        if first & 0x70:
            raise WebSocketClose(1002, "reserved bits set")
        if opcode not in DATA_OPCODES + CONTROL_OPCODES + (OP_CONTINUATION,):
            raise WebSocketClose(1002, "unknown opcode")
        if not second & 0x80:
            raise WebSocketClose(1002, "client frames must be masked")
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
            if length >> 63:
                raise WebSocketClose(1002, "invalid length")
        if opcode in CONTROL_OPCODES and (not fin or length > 125):
            raise WebSocketClose(1002, "invalid control frame")
        mask = self._read_exact(4)
        self._unread = length
        return fin, opcode, length, mask

    def _read_payload(self, length: int, mask: bytes) -> bytes:
        payload = _unmask(self._read_exact(length), mask)
        self._unread = 0
        return payload

    def _parse_close(self, payload: bytes) -> int | None:
        if not payload:
            return None
        if len(payload) < 2:
            raise WebSocketClose(1002, "truncated close code")
        (code,) = struct.unpack("!H", payload[:2])
        if code not in VALID_CLOSE_CODES and not 3000 <= code <= 4999:
            raise WebSocketClose(1002, "invalid close code")
        _decode_utf8(payload[2:])
        return code

    def _await_client_close(self) -> None:
        """After our close frame, drop frames until the client's own close (RFC 6455 7.1.1).

        Closing the socket with unread data makes the kernel send a reset, which can
        destroy our close frame before the client reads it.
        """
        budget = WS_DRAIN_LIMIT
        try:
            self._sock.settimeout(WS_CLOSE_TIMEOUT)
            while budget >= self._unread:
                budget -= self._unread
                self._skip(self._unread)
                _, opcode, _, _ = self._read_header()
                if opcode == OP_CLOSE:
                    return
        except (WebSocketClose, OSError, EOFError):
            pass

    def _skip(self, n: int) -> None:
        while n:
            n -= len(self._read_exact(min(n, 1 << 16)))
        self._unread = 0

    def _send(self, opcode: int, payload: bytes) -> None:
        try:
            self._wfile.write(encode_frame(opcode, payload))
        except TimeoutError:
            # A client that stops reading is gone, not idle: no close frame after a partial write.
            raise ConnectionError("client stopped reading") from None


def _decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketClose(1007, "invalid UTF-8") from None


# --- HTTP ---

STREAM_MAX_CHUNKS = 100
STREAM_MAX_DELAY_MS = 2000


def _stream_pause(seconds: float) -> None:
    time.sleep(seconds)


class Handler(BaseHTTPRequestHandler):
    server_version = "user-dashboard/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, each reply waits ~40 ms for the
    # client's delayed ACK (Nagle), on every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        ACTIVITY.append({
            "method": self.command,
            "path": self.path[:200],
            "time": datetime.now(timezone.utc).strftime("%H:%M:%S"),
        })
        if path == "/health":
            self._json(200, {"status": "ok", "uptime_s": uptime_s()})
        elif path == "/api/info":
            self._json(200, collect_info())
        elif path == "/":
            self._send(200, render_page(collect_info()).encode(), "text/html; charset=utf-8")
        elif path == "/echo-headers":
            self._json(200, {k: v for k, v in self.headers.items()})
        elif path == "/ws/echo":
            self._websocket_echo()
        elif path == "/stream":
            self._stream(urllib.parse.parse_qs(query))
        else:
            self._json(404, {"error": "not found", "path": path})

    def _websocket_echo(self) -> None:
        error = handshake_error(self.headers)
        if error:
            status, reason = error
            self._json(status, {"error": reason}, {"Sec-WebSocket-Version": "13"} if status == 426 else None)
            return
        if not WS_SLOTS.acquire(blocking=False):
            self._json(503, {"error": "too many websocket connections"}, {"Retry-After": "5"})
            return
        try:
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", websocket_accept(self.headers["Sec-WebSocket-Key"].strip()))
            self.end_headers()
            self.close_connection = True
            EchoSession(self.connection, self.rfile, self.wfile).run()
        finally:
            WS_SLOTS.release()

    def _stream(self, params: dict[str, list[str]]) -> None:
        """n lines of text, one chunk each (chunked encoding), delay_ms apart."""
        try:
            n = int(params.get("n", ["5"])[0])
            delay_ms = int(params.get("delay_ms", ["100"])[0])
        except ValueError:
            n = delay_ms = -1
        if not (1 <= n <= STREAM_MAX_CHUNKS and 0 <= delay_ms <= STREAM_MAX_DELAY_MS):
            self._json(400, {"error": f"n must be 1-{STREAM_MAX_CHUNKS} and delay_ms 0-{STREAM_MAX_DELAY_MS}"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        try:
            for i in range(1, n + 1):
                if i > 1:
                    _stream_pause(delay_ms / 1000)
                line = f"chunk {i}/{n}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code="-", size="-") -> None:
        if self.path != "/health":  # health probes would drown everything else
            sys.stdout.write(f"{self.command} {self.path[:200]} {code}\n")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass


def _exit_on_sigterm(signum, frame) -> None:
    # serve_forever() may be blocked in select(); leaving right away is the fast clean exit.
    sys.stdout.flush()
    os._exit(0)


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    # One thread per connection: an open websocket or stream must not stall other requests.
    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = make_server("0.0.0.0", port)
    print(f"user-dashboard listening on :{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

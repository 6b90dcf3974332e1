"""Per-user dashboard served from inside each user's container.

Standard library only, so the image stays tiny and the process starts fast.
Resource figures are read from the container's own cgroup (v2 or v1).
"""

from __future__ import annotations

import html
import json
import os
import signal
import socket
import sys
import threading
import time
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


# --- HTTP ---

class Handler(BaseHTTPRequestHandler):
    server_version = "user-dashboard/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
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
        else:
            self._json(404, {"error": "not found", "path": path})

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
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


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print(f"user-dashboard listening on :{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

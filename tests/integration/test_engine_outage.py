"""The engine goes away and comes back: the collector says so, then recovers by itself.

The engine is reached through a unix-socket relay that the test cuts and
restores, so the real dockerd (and every other container) keeps running.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import docker
import pytest

from saas_panel.errors import EngineUnavailable
from saas_panel.runtime.docker_runtime import DockerRuntime
from saas_panel.services.monitor import Collector

ENGINE_SOCKET = "/var/run/docker.sock"


class SocketRelay:
    """Forwards connections from `path` to the engine's socket until stopped."""

    def __init__(self, path: Path):
        self.path = path
        self._server: socket.socket | None = None
        self._connections: list[socket.socket] = []

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(64)
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for connection in self._connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        self._connections.clear()
        self.path.unlink(missing_ok=True)

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(ENGINE_SOCKET)
            self._connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relay(tmp_path, docker_client):
    relay = SocketRelay(tmp_path / "engine.sock")
    relay.start()
    yield relay
    relay.stop()


def _runtime(relay: SocketRelay) -> DockerRuntime:
    client = docker.DockerClient(base_url=f"unix://{relay.path}", version="1.41", timeout=5)
    return DockerRuntime(client=client)


def test_collector_reports_the_outage_and_recovers(relay):
    runtime = _runtime(relay)
    collector = Collector(runtime)
    assert runtime.ping()
    collector.sweep(store=False)

    relay.stop()
    assert not runtime.ping()
    with pytest.raises(EngineUnavailable, match="unavailable"):
        collector.sweep(store=False)

    relay.start()
    deadline = time.monotonic() + 10
    while not runtime.ping() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runtime.ping(), "the same runtime did not reconnect"
    assert collector.sweep(store=False).containers is not None


def test_event_stream_ends_when_the_engine_goes_and_reopens(relay):
    """The follower in state/live.py reconnects whenever its stream ends, with or without an error."""
    runtime = _runtime(relay)
    stream = runtime.events()

    def follow() -> None:
        try:
            for _ in stream:
                pass
        except EngineUnavailable:
            pass

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    time.sleep(0.2)
    relay.stop()
    reader.join(timeout=10)
    assert not reader.is_alive(), "the event stream did not notice the engine was gone"
    relay.start()
    assert runtime.events() is not None  # a new stream opens once the engine is back

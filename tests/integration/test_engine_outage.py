"""The engine goes away and comes back: the collector says so, then recovers by itself.

The engine is reached through a unix-socket relay that the test cuts and
restores, so the real dockerd (and every other container) keeps running.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from pathlib import Path

import docker
import pytest

from devtools.events import eventually, following
from saas_panel.errors import EngineUnavailable
from saas_panel.runtime.docker_runtime import DockerRuntime
from saas_panel.services import provisioning
from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from tests.integration.recording_publisher import RecordingPublisher, running, until

ENGINE_SOCKET = "/var/run/docker.sock"
# Sweeps far enough apart that a change published between two of them can only come from events.
OUTAGE_SWEEP_S = 3.0


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
    collector.sweep(store=False)  # raises EngineUnavailable unless the same collector recovered


def test_event_stream_ends_when_the_engine_goes_and_reopens(relay):
    """The collector loop's event follower reconnects whenever its stream ends, with or without an error."""
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
    runtime.events().close()  # opening raises EngineUnavailable unless the engine answers again


def test_the_loop_shows_the_outage_then_follows_events_again(relay, engine, make_user):
    make_user("gina")
    gina = provisioning.provision("gina")
    watching = LocalWatchers()
    watching.add("gina")
    publisher = RecordingPublisher()
    loop = CollectorLoop(Collector(_runtime(relay)), publisher, LocalLease(), watching, OUTAGE_SWEEP_S)

    async def scenario() -> None:
        async with running(loop):
            await until(publisher.sweeps, "the first sweep")
            relay.stop()
            await until(lambda: None in publisher.sweeps(), "a sweep reporting the engine gone")
            relay.start()
            await until(lambda: publisher.sweeps()[-1] is not None, "a sweep after the engine is back")
            sweeps_before_kill = len(publisher.sweeps())
            await asyncio.to_thread(subprocess.run, ["docker", "kill", gina.name], check=True, capture_output=True)
            await until(lambda: publisher.published("status"), "gina's stop")
            assert len(publisher.sweeps()) == sweeps_before_kill, "the stop was seen by a sweep: events were not followed again"

    asyncio.run(scenario())
    assert ("gina", None, None) in publisher.published("usage")  # her dashboard was told the engine is gone
    assert publisher.published("status") == [("gina", "stopped")]


def test_the_inventory_is_listed_again_after_the_event_stream_drops(relay, engine, make_user, monkeypatch):
    monkeypatch.setattr(provisioning, "EVENT_TRAIL_S", 0.0)
    make_user("hank")
    hank = provisioning.provision("hank")
    collector = Collector(_runtime(relay))
    with following(collector):
        collector.sweep()
        relay.stop()  # the stream's connection is cut
        eventually(lambda: not collector.inventory.following, "the stream to end")
        subprocess.run(["docker", "kill", hank.name], check=True, capture_output=True)  # nobody hears of it
        relay.start()
        lists = collector.inventory.lists
        assert ("hank", "stopped") in collector.sweep().changed  # no stream: the sweep lists
        assert collector.inventory.lists == lists + 1
    with following(collector):  # a new stream, and a list after it opened
        collector.sweep()
        subprocess.run(["docker", "start", hank.name], check=True, capture_output=True)
        eventually(lambda: any(info.name == hank.name and info.running for info in collector.inventory.containers()),
                   "the start event")
        assert "hank" in [usage.owner for usage in collector.sweep().containers]
    assert collector.inventory.lists == lists + 2

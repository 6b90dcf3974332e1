"""A PostgreSQL and a Redis of the fault tests' own (never the shared ones of the second run), to
stop and start: started by scripts/test_services.sh on other ports, with data under /tmp."""

from __future__ import annotations

import glob
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from devtools.panel import free_port
from saas_panel.config import PROJECT_ROOT


@dataclass
class OwnServices:
    run_dir: Path
    pg_port: int
    redis_port: int
    db_url: str
    redis_url: str

    @classmethod
    def start(cls) -> OwnServices:
        run_dir, pg_port, redis_port = Path(f"/tmp/saas-faults-{uuid.uuid4().hex[:8]}"), free_port(), free_port()
        exports = subprocess.run(
            ["bash", "scripts/test_services.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PG_PORT": str(pg_port), "REDIS_PORT": str(redis_port), "RUN_DIR": str(run_dir)},
        ).stdout
        urls = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines())
        return cls(run_dir, pg_port, redis_port, urls["SAAS_PANEL_TEST_DB_URL"], urls["SAAS_PANEL_TEST_REDIS_URL"])

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
        options = f"-p {self.pg_port} -k /tmp -h 127.0.0.1 -c fsync=off -c max_connections=300"
        command = f"{pg_ctl} -D {self.run_dir / 'pg'} -l {self.run_dir / 'pg' / 'server.log'} -w -m fast -o '{options}' {' '.join(args)}"
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True, capture_output=True)

    def stop_postgres(self) -> None:
        self._pg_ctl("stop")

    def start_postgres(self) -> None:
        self._pg_ctl("start")

    def stop_redis(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"], capture_output=True)

    def start_redis(self) -> None:
        subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "yes",
                        "--daemonize", "yes", "--logfile", str(self.run_dir / "redis.log"), "--dir", str(self.run_dir)], check=True)

    def stop(self) -> None:
        """Both stopped for good and their data removed (idempotent)."""
        self.stop_redis()
        try:
            self.stop_postgres()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.run_dir, ignore_errors=True)

"""The edge's Caddyfile: valid for Caddy in both modes, with the defences it is trusted for."""

from __future__ import annotations

import shutil
import subprocess

from saas_panel.config import Settings
from saas_panel.services.edge_config import caddyfile
from tests.prerequisites import skip_outside_ci


def _adapt(text: str, tmp_path) -> str:
    if shutil.which("caddy") is None:
        skip_outside_ci("caddy is not installed (make test installs it)")
    path = tmp_path / "Caddyfile"
    path.write_text(text)
    result = subprocess.run(["caddy", "adapt", "--config", str(path), "--adapter", "caddyfile"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_local_http_edge(tmp_path, monkeypatch):
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.delenv("SAAS_PANEL_PUBLIC_URL", raising=False)
    text = caddyfile(Settings())
    adapted = _adapt(text, tmp_path)
    assert ":8000 {" in text and "*.apps.localhost" in text and "auto_https off" in text
    assert "request_header -X-Saas-Upstream" in text  # a client never picks the upstream
    assert "respond /_edge/* 404" in text  # only the edge reaches the panel's edge endpoints
    assert "127.0.0.1:8001" in adapted and "forward_auth" not in adapted  # adapted into a reverse_proxy subrequest


def test_production_edge_asks_the_panel_before_any_certificate(tmp_path, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_PUBLIC_URL", "https://panel.example.com")
    monkeypatch.setenv("SAAS_PANEL_APPS_DOMAIN", "apps.example.com")
    text = caddyfile(Settings())
    adapted = _adapt(text, tmp_path)
    assert "ask http://127.0.0.1:" in text and "/_edge/ask" in text and "on_demand" in text
    assert "panel.example.com" in adapted and "auto_https off" not in text

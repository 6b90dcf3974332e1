"""Users reach their own app through the edge, on its own origin, behind the panel's login."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import uuid
from urllib.parse import urlsplit

from playwright.sync_api import expect

from saas_panel.services import activity
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import enter_app, log_in, log_out, open_when_ready, reload_when_ready, sign_up

PROVISION_TIMEOUT_MS = 60_000


def _through_edge(url: str, cookies: list[dict] | None = None, accept: str = "*/*", **headers: str) -> tuple[int, dict, str]:
    """A request to an app host as any client would send it (not a browser: no *.localhost lookup)."""
    parts = urlsplit(url)
    jar = "; ".join(f"{c['name']}={c['value']}" for c in cookies or [] if c["domain"].lstrip(".") == parts.hostname)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection.request("GET", target, headers={"Host": parts.netloc, "Accept": accept, **({"Cookie": jar} if jar else {}), **headers})
    response = connection.getresponse()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode(errors="replace")
    connection.close()
    return result


def _owner_with_app(page) -> tuple[str, str]:
    name = f"e{uuid.uuid4().hex[:10]}"
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=PROVISION_TIMEOUT_MS)
    return name, page.locator("#open-app").get_attribute("href")


def test_the_owner_opens_the_app_on_its_own_origin(page, panel):
    name, app_url = _owner_with_app(page)
    port = panel.rsplit(":", 1)[1]
    assert app_url == f"http://{name}.apps.localhost:{port}/"
    enter_app(page, app_url)
    expect(page.locator("body")).to_contain_text(name)

    received = json.loads(page.goto(app_url + "echo-headers").text())
    headers = {key.lower(): value for key, value in received.items()}
    assert "authorization" not in headers and "saas_app" not in headers.get("cookie", "")
    page.goto(panel + "/dashboard")
    panel_token = page.evaluate("() => window.localStorage.getItem('saas_panel_session')")
    assert panel_token and panel_token not in json.dumps(received)


def test_strangers_and_other_users_are_kept_out(browser, page, panel):
    _, app_url = _owner_with_app(page)

    status, headers, _ = _through_edge(app_url, accept="text/html")
    assert status == 302 and headers["location"].startswith(panel + "/open?")
    assert _through_edge(app_url + "health")[0] == 401
    forged = [{"name": "saas_app", "value": "1.1.x.9999999999.0000", "domain": urlsplit(app_url).hostname}]
    assert _through_edge(app_url + "health", forged)[0] == 401

    other = browser.new_context(base_url=panel)
    other_page = other.new_page()
    sign_up(other_page, f"o{uuid.uuid4().hex[:10]}")
    other_page.wait_for_url("**/dashboard**")
    open_when_ready(other_page, app_url)
    expect(other_page.locator("#app-open-error")).to_contain_text("another user", timeout=30_000)
    assert other_page.url.startswith(panel)
    other.close()


def test_an_anonymous_visitor_logs_in_and_lands_in_the_app(browser, page, panel):
    name, app_url = _owner_with_app(page)
    visitor = browser.new_context(base_url=panel)
    tab = visitor.new_page()
    open_when_ready(tab, app_url + "health")
    tab.wait_for_url("**/login**")
    tab.fill("#username", name)
    tab.fill("#password", "e2e user password")
    tab.click("#login-submit")
    tab.wait_for_url(f"{app_url}health")
    assert "ok" in tab.content()
    visitor.close()


def test_logout_ends_app_access_within_seconds(page, panel):
    _, app_url = _owner_with_app(page)
    enter_app(page, app_url)
    cookies = page.context.cookies()
    assert _through_edge(app_url + "health", cookies)[0] == 200
    open_when_ready(page, panel + "/dashboard")
    log_out(page)
    ended = time.monotonic()
    while _through_edge(app_url + "health", cookies)[0] == 200 and time.monotonic() - ended < 10:
        time.sleep(0.25)
    print(f"app access ended {time.monotonic() - ended:.1f}s after logout")
    assert _through_edge(app_url + "health", cookies)[0] == 401


def test_an_admin_visit_is_on_the_owners_timeline(browser, page, panel):
    name, app_url = _owner_with_app(page)
    admin = browser.new_context(base_url=panel)
    admin_page = admin.new_page()
    log_in(admin_page, "admin", ADMIN_PASSWORD)
    admin_page.wait_for_url("**/admin**")
    enter_app(admin_page, app_url)
    expect(admin_page.locator("body")).to_contain_text(name)
    admin.close()
    reload_when_ready(page)
    expect(page.locator("#activity-timeline")).to_contain_text(f"admin {activity.Action.VISIT_APP.value.replace('_', ' ')}")


def test_a_websocket_echoes_through_the_edge(page, panel):
    _, app_url = _owner_with_app(page)
    enter_app(page, app_url)
    echoed = page.evaluate(
        """(url) => new Promise((resolve, reject) => {
            const socket = new WebSocket(url);
            socket.onopen = () => socket.send("through the edge");
            socket.onmessage = (event) => { resolve(event.data); socket.close(); };
            socket.onerror = () => reject("websocket failed");
        })""",
        app_url.replace("http://", "ws://") + "ws/echo",
    )
    assert echoed == "through the edge"


def test_visiting_a_stopped_app_wakes_it(page, panel):
    name, app_url = _owner_with_app(page)
    container = page.locator("#container-name").inner_text()
    subprocess.run(["docker", "stop", "-t", "1", container], check=True, capture_output=True)
    open_when_ready(page, app_url)
    expect(page.locator("#app-starting")).to_be_visible(timeout=30_000)
    page.wait_for_url(f"{app_url}**", timeout=60_000)
    expect(page.locator("body")).to_contain_text(name)


def test_an_unknown_app_host_is_a_404_from_the_edge(page, panel):
    port = panel.rsplit(":", 1)[1]
    status, _, body = _through_edge(f"http://nobody-{uuid.uuid4().hex[:6]}.apps.localhost:{port}/")
    assert status == 404 and "No such app" in body


def test_clients_cannot_pick_the_upstream_or_call_the_edge_endpoints(page, panel, panel_process):
    _, app_url = _owner_with_app(page)
    backend = f"127.0.0.1:{panel_process.env['SAAS_PANEL_BACKEND_PORT']}"
    status, _, body = _through_edge(app_url + "ping", **{"X-Saas-Upstream": backend})
    assert status == 401 and "Log in" in body  # refused by the panel's verdict, never proxied to the forged upstream
    for path in ("/_edge/verify", "/_edge/ask?domain=x", "/_edge/callback?ticket=x"):
        assert _through_edge(panel + path)[0] == 404


def test_a_websocket_without_the_apps_cookie_is_refused(page, panel):
    _, app_url = _owner_with_app(page)
    parts = urlsplit(app_url)
    for cookie in ("", "saas_app=1.1.x.9999999999.forged"):
        connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
        connection.request("GET", "/ws/echo", headers={
            "Host": parts.netloc, "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **({"Cookie": cookie} if cookie else {}),
        })
        assert connection.getresponse().status == 401
        connection.close()


def test_streamed_responses_pass_through_chunk_by_chunk(page, panel):
    _, app_url = _owner_with_app(page)
    enter_app(page, app_url)
    status, headers, body = _through_edge(app_url + "stream?n=3&delay_ms=50", page.context.cookies())
    assert status == 200 and headers.get("transfer-encoding") == "chunked"
    assert [line for line in body.splitlines() if line.startswith("chunk")] == ["chunk 1/3", "chunk 2/3", "chunk 3/3"]

"""One validated settings object: built once per environment, read from the environment and
`.env`, clear about bad values, and documented by the README table generated from it."""

from __future__ import annotations

import ipaddress

import pytest

from saas_panel.__main__ import main
from saas_panel.config import PROJECT_ROOT, InvalidSettings, Settings, get_settings
from saas_panel.settings_table import README_BEGIN, README_END, settings_table


def test_a_changed_variable_is_seen_by_the_next_call(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "5")
    first = get_settings()
    assert first.idle_stop_minutes == 5
    assert get_settings() is first  # unchanged environment: the same object
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "7")
    assert get_settings().idle_stop_minutes == 7
    monkeypatch.delenv("SAAS_PANEL_IDLE_STOP_MINUTES")
    assert get_settings().idle_stop_minutes == 60


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SAAS_PANEL_IDLE_STOP_MINUTES", "abc", "be a valid number"),
        ("PORT", "70000", "be less than or equal to 65535"),
        ("SAAS_PANEL_BACKEND_PORT", "0", "be greater than or equal to 1"),
        ("SAAS_PANEL_SIGNUP", "maybe", "be one of open, closed"),
        ("SAAS_PANEL_EDGE", "nginx", "be one of caddy, none"),
        ("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.0/8,not-a-cidr", "be a comma-separated list of CIDRs"),
        ("SAAS_PANEL_ALLOWED_ORIGINS", " , ", "be a comma-separated list of origins"),
        ("SAAS_PANEL_METRICS_INTERVAL", "-1", "be greater than 0"),
        ("SAAS_PANEL_PUBLIC_URL", "panel.example.com", "match pattern"),
        ("SAAS_PANEL_TRUST_PROXY", "perhaps", "be a valid boolean"),
        ("SAAS_PANEL_LOG_MAX_SIZE", "lots", "match pattern"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_variable_the_value_and_what_is_expected(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidSettings) as error:
        get_settings()
    assert str(error.value).startswith(f"{variable} must {expected}")
    assert str(error.value).endswith(f", not {value!r}")
    assert "\n" not in str(error.value)
    monkeypatch.delenv(variable)
    assert get_settings()  # the bad value was not kept


def test_every_bad_value_is_named_in_the_one_error_and_secrets_are_not_shown(monkeypatch):
    monkeypatch.setenv("PORT", "http")
    monkeypatch.setenv("SAAS_PANEL_SECRET_KEY", "too short to be a secret")
    with pytest.raises(ValueError) as error:
        Settings()
    lines = str(error.value).splitlines()
    assert lines == [
        "PORT must be a valid integer, unable to parse string as an integer, not 'http'",
        "SAAS_PANEL_SECRET_KEY must have at least 32 characters, not the value given (not shown: a secret)",
    ]  # no complaint about the defaults derived from PORT


def test_derived_defaults_follow_the_port_the_edge_and_the_public_url(monkeypatch):
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("SAAS_PANEL_PUBLIC_URL", "https://panel.example.com/")
    behind_edge = Settings()
    assert (behind_edge.backend_host, behind_edge.backend_port) == ("127.0.0.1", 9001)
    assert behind_edge.public_url == "https://panel.example.com"
    assert behind_edge.allowed_origins == ("https://panel.example.com", "http://localhost:9000", "http://127.0.0.1:9000")
    assert behind_edge.secret_file == PROJECT_ROOT / "data" / "secret_key"
    monkeypatch.setenv("SAAS_PANEL_EDGE", " None ")
    alone = Settings()
    assert (alone.edge, alone.backend_host, alone.backend_port) == ("none", "0.0.0.0", 9000)


def test_lists_are_parsed_and_empty_variables_mean_unset(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_ALLOWED_ORIGINS", "https://a.example/, https://b.example")
    monkeypatch.setenv("SAAS_PANEL_TRUSTED_PROXIES", "10.0.0.1/8, fd00::/8")
    monkeypatch.setenv("SAAS_PANEL_APPS_DOMAIN", "")
    settings = Settings()
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    assert settings.apps_domain == "apps.localhost"


def test_a_dotenv_file_is_read_and_the_environment_wins_over_it(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("SAAS_PANEL_IDLE_STOP_MINUTES=15\nPORT=9100\nGRANIAN_WORKERS=2  # for compose, ignored here\n")
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "25")
    settings = Settings(_env_file=env_file)
    assert (settings.port, settings.backend_port, settings.idle_stop_minutes) == (9100, 9101, 25)
    assert Settings.model_config["env_file"] == PROJECT_ROOT / ".env"  # the file README.md names


def test_settings_are_frozen():
    with pytest.raises(ValueError, match="frozen"):
        get_settings().port = 1  # type: ignore[misc]


def test_the_readme_table_is_the_generated_one():
    readme = (PROJECT_ROOT / "README.md").read_text()
    documented = readme.split(README_BEGIN + "\n", 1)[1].split(README_END, 1)[0]
    assert documented == settings_table(), "README.md is stale: paste `python -m saas_panel settings-table` between its settings markers"
    assert all(field.description for field in Settings.model_fields.values())


def test_the_command_prints_the_table(capsys):
    assert main(["settings-table"]) == 0
    assert capsys.readouterr().out == settings_table()


def test_an_operator_command_with_a_bad_value_says_so_without_a_traceback(monkeypatch, capsys):
    from saas_panel.__main__ import main

    monkeypatch.setenv("SAAS_PANEL_SIGNUP", "maybe")
    assert main(["caddyfile"]) == 1
    assert capsys.readouterr().err == "error: SAAS_PANEL_SIGNUP must be one of open, closed, not 'maybe'\n"

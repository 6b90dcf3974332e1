"""README.md's settings table, generated from the fields of `Settings` (`python -m saas_panel settings-table`)."""

from __future__ import annotations

from pydantic.fields import FieldInfo

from saas_panel.config import Settings, env_variable

README_BEGIN = "<!-- settings:begin -->"
README_END = "<!-- settings:end -->"


def _shown_default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    value = field.default
    if value in (None, "", ()):
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def settings_table() -> str:
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    rows += [
        f"| `{env_variable(name, field)}` | {_shown_default(field)} | {field.description} |"
        for name, field in Settings.model_fields.items()
    ]
    return "\n".join(rows) + "\n"

"""SECURITY.md points each claim to its test: every test it names must exist."""

from __future__ import annotations

import re

from saas_panel.config import PROJECT_ROOT

REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`|`::(\w+)`")


def _named_tests() -> list[tuple[str, str]]:
    """(file, test) pairs; `::test` after a full reference in the same cell means that file."""
    named, current = [], None
    for match in REFERENCE.finditer((PROJECT_ROOT / "SECURITY.md").read_text()):
        path, test, same_file_test = match.groups()
        if path:
            current = path
        named.append((current, test or same_file_test))
    return named


def test_every_test_named_in_security_md_exists():
    named = _named_tests()
    assert len(named) > 60
    missing = [
        f"{path}::{test}"
        for path, test in named
        if not re.search(rf"^(async )?def {test}\(", (PROJECT_ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []

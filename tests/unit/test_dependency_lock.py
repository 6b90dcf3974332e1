"""requirements.lock (what the set-up and the panel image install) pins every dependency that
pyproject.toml declares, at a version it allows: a dependency changed without `bash scripts/lock.sh`
fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in project["dependencies"] + project["optional-dependencies"]["test"]]


def _locked() -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall((ROOT / "requirements.lock").read_text())}


def test_lock_pins_every_declared_dependency_within_its_range():
    locked = _locked()
    stale = []
    for requirement in _declared():
        version = locked.get(canonicalize_name(requirement.name))
        if version is None or version not in requirement.specifier:
            stale.append(f"{requirement} (locked: {version or 'nothing'})")
    assert not stale, "pyproject.toml changed without the lock; run `bash scripts/lock.sh`:\n" + "\n".join(stale)

"""Each user's host label: the first name in `<label>.apps.<domain>`, where their app answers.

A label is stored once per account (`User.host_label`, unique) and never derived on the fly:
accounts made before usernames had to be valid labels got a cleaned-up one (migration 0004).
"""

from __future__ import annotations

import re

from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import User
from saas_panel.services.validation import PUNYCODE_PREFIX

# RFC 1123: 1-63 letters, digits and '-', not starting or ending with '-'. Labels are stored in
# lowercase; a host name from a request is compared after lowercasing it.
LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def is_valid_label(text: str) -> bool:
    """Whether `text` is a label this panel can give out (punycode ones never are)."""
    return isinstance(text, str) and bool(LABEL_RE.fullmatch(text)) and not text.startswith(PUNYCODE_PREFIX)


def user_for_label(label: str) -> tuple[int, str] | None:
    """(id, username) of the account whose host label is `label`, or None."""
    if not is_valid_label(label):
        return None
    with session_scope() as session:
        row = session.exec(select(User.id, User.username).where(User.host_label == label)).first()
    return (row[0], row[1]) if row else None


def label_for(username: str) -> str | None:
    """The host label of the account named `username`, or None if there is none."""
    with session_scope() as session:
        return session.exec(select(User.host_label).where(User.username == username)).first()

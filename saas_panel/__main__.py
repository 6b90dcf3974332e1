"""Operator commands: `python -m saas_panel bootstrap | migrate | create-admin`."""

from __future__ import annotations

import argparse
import getpass
import sys

from saas_panel import migrations
from saas_panel.services import users
from saas_panel.errors import DomainError


def _bootstrap() -> int:
    migrations.upgrade()
    result = users.ensure_admin()
    if result.generated_password:
        print(
            "\n  First admin created. Log in as 'admin' with this password (shown once):\n"
            f"\n      {result.generated_password}\n\n"
            "  Change it with: python -m saas_panel create-admin\n",
            flush=True,
        )
    elif result.created:
        print("First admin 'admin' created with SAAS_PANEL_ADMIN_PASSWORD.", flush=True)
    return 0


def _create_admin() -> int:
    migrations.upgrade()
    password = getpass.getpass("New password for 'admin': ")
    if password != getpass.getpass("Repeat it: "):
        print("The passwords do not match.", file=sys.stderr)
        return 1
    users.set_admin_password(password)
    print("Password for 'admin' set; its old sessions were ended.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m saas_panel")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("bootstrap", help="apply migrations and create the first admin if none exists")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("create-admin", help="create user 'admin' or set its password")
    args = parser.parse_args(argv)
    try:
        if args.command == "migrate":
            migrations.upgrade()
            return 0
        if args.command == "create-admin":
            return _create_admin()
        return _bootstrap()
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Operator commands: `python -m saas_panel bootstrap | migrate | create-admin | backup | restore | recover | serve | caddyfile | settings-table`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from saas_panel import migrations
from saas_panel.bootstrap import bootstrap
from saas_panel.services import backup, users
from saas_panel.config import InvalidSettings
from saas_panel.errors import DomainError


def _create_admin() -> int:
    migrations.upgrade()
    password = getpass.getpass("New password for 'admin': ")
    if password != getpass.getpass("Repeat it: "):
        print("The passwords do not match.", file=sys.stderr)
        return 1
    users.set_admin_password(password)
    print("Password for 'admin' set; its old sessions were ended.")
    return 0


def _backup(path: Path, force: bool) -> int:
    manifest = backup.create(path, force=force)
    print(f"Backed up the {manifest.database} database (revision {manifest.alembic_revision}) to {path}.")
    return 0


def _ask(question: str) -> bool:
    print(question, "Type 'yes' to go on: ", sep="\n", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() == "yes"
    except EOFError:  # no terminal and no --yes: never replace data unasked
        return False


def _restore(path: Path, yes: bool) -> int:
    manifest = backup.restore(path, confirm=(lambda _question: True) if yes else _ask)
    print(f"Restored the backup made {manifest.created_at} from {path}; the database is migrated to this version.")
    return 0


def _recover() -> int:
    from saas_panel.services import recovery

    report = recovery.recover()
    for label, items in (("deleted", report.deleted), ("provisioned", report.provisioned),
                         ("adopted", report.adopted), ("removed", report.removed)):
        if items:
            print(f"{label}: {', '.join(items)}")
    for subject, why in report.failed:
        print(f"failed: {subject}: {why}", file=sys.stderr)
    if not report.anything:
        print("nothing was left half done")
    return 1 if report.failed else 0


def _serve(host: str) -> int:
    """Production server for images: the prebuilt frontend (.web/build/client) served by the backend.

    `reflex run --env prod --single-port` would rebuild the frontend with bun at
    every start; an image carries the build instead and needs no JavaScript tooling.
    """
    import os

    os.environ.setdefault("REFLEX_ENV_MODE", "prod")
    # The frontend is prebuilt and the image has no bun: skip Reflex's compile step
    # (REFLEX_SKIP_COMPILE is an internal variable, so Reflex reads it with a "__" prefix).
    os.environ.setdefault("__REFLEX_SKIP_COMPILE", "true")
    from reflex.utils.exec import run_backend_prod
    from reflex_base.constants import LogLevel

    from saas_panel.config import PROJECT_ROOT, get_settings

    if not (PROJECT_ROOT / ".web" / "build" / "client" / "index.html").exists():
        print("error: no built frontend in .web/build/client; run `make image-inputs` first", file=sys.stderr)
        return 1
    bootstrap()
    run_backend_prod(host, get_settings().backend_port, LogLevel.WARNING, mount_frontend_compiled_app=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m saas_panel")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("bootstrap", help="apply migrations and create the first admin if none exists")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("create-admin", help="create user 'admin' or set its password")
    backup_command = sub.add_parser("backup", help="write the panel's database to FILE (see README, Backups)")
    backup_command.add_argument("file", type=Path)
    backup_command.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore_command = sub.add_parser("restore", help="replace ALL the panel's data with the backup in FILE, then migrate it")
    restore_command.add_argument("file", type=Path)
    restore_command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser("recover", help="finish or undo what a panel process that died left half done (each start does it too)")
    serve = sub.add_parser("serve", help="bootstrap, then serve the prebuilt app (used by the Docker image)")
    serve.add_argument("--host", default="0.0.0.0")
    sub.add_parser("caddyfile", help="print the edge's Caddyfile for the current settings")
    sub.add_parser("settings-table", help="print README.md's settings table, generated from the settings")
    args = parser.parse_args(argv)
    try:
        return _run(args.command, args)
    except (DomainError, InvalidSettings) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(command: str, args: argparse.Namespace) -> int:
    if command == "settings-table":
        from saas_panel.settings_table import settings_table

        print(settings_table(), end="")
    elif command == "caddyfile":
        from saas_panel.services.edge_config import caddyfile

        print(caddyfile(), end="")
    elif command == "migrate":
        migrations.upgrade()
    elif command == "create-admin":
        return _create_admin()
    elif command == "backup":
        return _backup(args.file, args.force)
    elif command == "restore":
        return _restore(args.file, args.yes)
    elif command == "recover":
        return _recover()
    elif command == "serve":
        return _serve(args.host)
    else:
        bootstrap()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""nova-manage's `db` category: sync (apply migrations), version, and the archive of deleted rows.

    ./manage.py db sync             # migrate quietly, then print the schema version
    ./manage.py db version          # one number: how many migrations are applied
    ./manage.py db version --apps   # the latest applied migration of every app
    ./manage.py db archive_deleted_rows [--max-rows N] [--before DATE] [--until-complete]
                                    # soft-deleted rows (and their dependents) to shadow tables
    ./manage.py db purge (--before DATE | --all)   # archived rows deleted for good

The seeds printed one number (sqlalchemy-migrate's version). Django versions each app on its
own, so the single number here is the count of applied migrations: it only grows as the schema
moves forward, and two databases with the same number and no pending migrations match.
"""
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError

from cloudproj import db_archive
from cloudproj.cli import CategoryCommand


def parse_date(value: str):
    """YYYY-MM-DD or an ISO date-time; naive values are UTC."""
    from datetime import datetime, time, timezone

    from django.utils.dateparse import parse_date as date_of
    from django.utils.dateparse import parse_datetime

    try:
        moment = parse_datetime(value) or (datetime.combine(date_of(value), time()) if date_of(value) else None)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"Invalid date {value!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM].")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def positive_int(value: str) -> int:
    import argparse

    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value!r}")
    return int(value)


def migration_state(alias: str = DEFAULT_DB_ALIAS) -> dict[str, dict]:
    """{app_label: {"applied": [names], "pending": [names]}} for every app with migrations."""
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    state: dict[str, dict] = {}
    for app_label, name in sorted(loader.graph.nodes):
        entry = state.setdefault(app_label, {"applied": [], "pending": []})
        entry["applied" if (app_label, name) in loader.applied_migrations else "pending"].append(name)
    return state


class Command(CategoryCommand):
    help = "Database schema: sync (apply migrations) and version."
    actions = {
        "sync": "Apply all migrations (quietly) and print the resulting schema version.",
        "version": "Print the schema version (count of applied migrations); --apps for each app's latest.",
        "archive_deleted_rows": "Move soft-deleted rows and their dependents to shadow tables.",
        "purge": "Delete archived rows from the shadow tables (--before DATE, or --all).",
    }

    def add_action_arguments(self, name, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")
        if name == "version":
            parser.add_argument("--apps", action="store_true", help="show the latest applied migration per app")
        if name == "archive_deleted_rows":
            parser.add_argument("--max-rows", type=positive_int, default=1000,
                                help="deleted resources of each kind per batch (default 1000)")
            parser.add_argument("--before", help="only resources deleted before this date (YYYY-MM-DD)")
            parser.add_argument("--until-complete", action="store_true", help="repeat batches until none is left")
        if name == "purge":
            group = parser.add_mutually_exclusive_group(required=True)
            group.add_argument("--before", help="purge rows of resources deleted before this date")
            group.add_argument("--all", action="store_true", help="purge every archived row")

    def _state(self, alias):
        if alias not in connections:
            raise CommandError(f"Unknown database alias {alias!r}.")
        try:
            return migration_state(alias)
        except DatabaseError as exc:
            raise CommandError(f"Cannot read the migration state: {str(exc).strip().splitlines()[0]}") from None

    def action_sync(self, options):
        alias = options["database"]
        self._state(alias)  # fails cleanly when the database is unreachable
        try:
            call_command("migrate", database=alias, interactive=False, verbosity=0)
        except DatabaseError as exc:
            raise CommandError(f"Migration failed: {str(exc).strip().splitlines()[0]}") from None
        self.stdout.write(str(self._version(self._state(alias))))

    @staticmethod
    def _version(state) -> int:
        return sum(len(entry["applied"]) for entry in state.values())

    def action_version(self, options):
        state = self._state(options["database"])
        pending = sum(len(entry["pending"]) for entry in state.values())
        if options["apps"]:
            rows = [
                [app, entry["applied"][-1] if entry["applied"] else "(none)", len(entry["applied"]),
                 len(entry["pending"])]
                for app, entry in state.items()
            ]
            self.table(["app", "latest applied", "applied", "pending"], rows)
        else:
            self.stdout.write(str(self._version(state)))
        if pending:
            self.stderr.write(f"{pending} migration(s) not applied: run `./manage.py db sync`.")

    def _counts(self, counts: dict, header: str) -> None:
        if not counts:
            self.stdout.write("Nothing was archived." if "Archived" in header else "Nothing was purged.")
            return
        self.table(["Table", header], [[table, n] for table, n in sorted(counts.items())])

    def action_archive_deleted_rows(self, options):
        before = parse_date(options["before"]) if options.get("before") else None
        if options["until_complete"]:
            counts = db_archive.archive_until_complete(
                options["max_rows"], before, progress=lambda batch: self.stderr.write(
                    f"archived a batch: {sum(batch.values())} rows"))
        else:
            counts = db_archive.archive(options["max_rows"], before)
        self._counts(counts, "Number of Rows Archived")

    def action_purge(self, options):
        before = None if options["all"] else parse_date(options["before"])
        self._counts(db_archive.purge(before), "Number of Rows Purged")

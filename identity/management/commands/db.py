"""nova-manage's `db` category: sync (apply migrations) and version.

    ./manage.py db sync             # migrate quietly, then print the schema version
    ./manage.py db version          # one number: how many migrations are applied
    ./manage.py db version --apps   # the latest applied migration of every app

The seeds printed one number (sqlalchemy-migrate's version). Django versions each app on its
own, so the single number here is the count of applied migrations: it only grows as the schema
moves forward, and two databases with the same number and no pending migrations match.
"""
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError

from cloudproj.cli import CategoryCommand


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
    }

    def add_action_arguments(self, name, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")
        if name == "version":
            parser.add_argument("--apps", action="store_true", help="show the latest applied migration per app")

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

"""A base for the operator commands named after the seeds' nova-manage categories.

    ./manage.py <category> <action> [args]      e.g. ./manage.py service list

Each action is a method `action_<name>(self, options)` with its arguments declared in
`add_action_arguments(name, parser)`. A bad argument or a failed lookup raises CommandError,
which Django prints as one line on stderr with exit status 1.
"""
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, ProgrammingError


class OneLineErrorParser(CommandParser):
    """Bad arguments: one line on stderr and exit status 2, not argparse's usage dump."""

    def error(self, message):
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}")


class CategoryCommand(BaseCommand):
    #: {"list": "help text", ...}
    actions: dict[str, str] = {}

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineErrorParser  # the action subparsers inherit it
        return parser

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="action", metavar="ACTION", title="actions", parser_class=OneLineErrorParser
        )
        sub.required = True
        for name, help_text in self.actions.items():
            action_parser = sub.add_parser(name, help=help_text, description=help_text)
            # Let Django's own error handling print bad-argument errors as one line.
            action_parser.called_from_command_line = getattr(parser, "called_from_command_line", None)
            self.add_action_arguments(name, action_parser)

    def add_action_arguments(self, name, parser):
        """Override to declare the arguments of action `name`."""

    def handle(self, *args, **options):
        action = options["action"]
        handler = getattr(self, f"action_{action.replace('-', '_')}", None)
        if handler is None:
            raise CommandError(f"unknown action {action!r}")
        try:
            return handler(options)
        except (OperationalError, ProgrammingError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"database not ready ({first_line}); run ./manage.py db sync") from exc

    def table(self, headers: list[str], rows: list[list]) -> None:
        """Print rows as aligned columns, as nova-manage does."""
        cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
        for row in cells:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())

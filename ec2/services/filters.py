"""EC2's Filter.N parameters over a list of rows: each filter name reads some values of a row
(`tag:<key>` its tag's value); a row is kept when every filter matches one of its values.
Values may use the wildcards * and ?."""
import re
from collections.abc import Callable, Iterable

from .errors import invalid_value


def _pattern(value: str) -> re.Pattern:
    return re.compile("^" + re.escape(value).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.DOTALL)


def apply(rows: Iterable, filters: dict[str, list[str]], table: dict[str, Callable], tags: Callable | None = None):
    """The rows that match. table: {filter name: row -> value or list of values}."""
    checks = []
    for name, values in filters.items():
        patterns = [_pattern(v) for v in values]
        if name in table:
            read = table[name]
        elif tags is not None and name.startswith("tag:"):
            key = name[4:]
            read = (lambda k: lambda row: [v for t, v in tags(row).items() if t == k])(key)
        elif tags is not None and name == "tag-key":
            read = lambda row: list(tags(row))  # noqa: E731
        elif tags is not None and name == "tag-value":
            read = lambda row: list(tags(row).values())  # noqa: E731
        else:
            raise invalid_value(f"The filter '{name[:64]}' is invalid")
        checks.append((read, patterns))
    kept = []
    for row in rows:
        ok = True
        for read, patterns in checks:
            got = read(row)
            got = [got] if not isinstance(got, list | tuple) else got
            if not any(p.match("" if g is None else str(g)) for g in got for p in patterns):
                ok = False
                break
        if ok:
            kept.append(row)
    return kept


def tag_set(tags: dict) -> list[dict]:
    return [{"key": k, "value": v} for k, v in sorted((tags or {}).items())]

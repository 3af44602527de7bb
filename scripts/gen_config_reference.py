#!/usr/bin/env python3
"""Write docs/configuration.md from cloudproj/settings.py, so the reference cannot drift.

Every environment variable the settings module reads (`env("X")`, `env.str/.bool/.int/
.float/.list/.db("X", default=...)`, `os.environ.get("X")`, `os.getenv("X")`) is one row:
its name, type, default (the expression in settings.py) and description. The description is
the `#:` comment right above the line that reads the variable (several `#:` lines join), or
a `#:` comment at the end of that line. `# --- title ---` comments start a section.

    .venv/bin/python scripts/gen_config_reference.py          # rewrite docs/configuration.md
    .venv/bin/python scripts/gen_config_reference.py --check  # exit 1 if it is out of date

The settings module is parsed, never imported: no Django, database or environment needed.
"""
from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PATH = ROOT / "cloudproj" / "settings.py"
REFERENCE_PATH = ROOT / "docs" / "configuration.md"
REGENERATE = ".venv/bin/python scripts/gen_config_reference.py"

TYPES = {
    "str": "string",
    "bool": "boolean",
    "int": "integer",
    "float": "number",
    "list": "comma-separated list",
    "db": "database URL",
}
SECTION = re.compile(r"^#\s*---\s*(.+?)\s*-*\s*$")
GENERAL_SECTION = "general"


@dataclass(frozen=True)
class Setting:
    name: str
    type: str
    default: str | None  # None: no default (the variable is required)
    description: str
    section: str
    line: int


def _env_read(node: ast.Call) -> tuple[str, str, ast.expr | None] | None:
    """(variable, type, default expression) when the call reads the environment."""
    func = node.func
    if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
        return None
    name = node.args[0].value
    default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
    if default is None and len(node.args) > 1:
        default = node.args[1]
    if isinstance(func, ast.Name) and func.id == "env":
        return name, TYPES["str"], default
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "env" and func.attr in TYPES:
            return name, TYPES[func.attr], default
        if func.value.id == "os" and func.attr == "getenv":
            return name, TYPES["str"], default
    if (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Attribute)
            and func.value.attr == "environ" and isinstance(func.value.value, ast.Name) and func.value.value.id == "os"):
        return name, TYPES["str"], default
    return None


def _environ_subscripts(tree: ast.AST) -> list[tuple[str, int]]:
    """os.environ["X"] reads (a required variable)."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            found.append((node.slice.value, node.lineno))
    return found


def render_default(node: ast.expr | None) -> str | None:
    """The default as a reader wants it: `str(STATE_PATH / "images")` is STATE_PATH/images."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.List | ast.Tuple):
        return ",".join(render_default(item) or "" for item in node.elts)
    if isinstance(node, ast.JoinedStr):
        return "".join(render_default(part.value if isinstance(part, ast.FormattedValue) else part) or ""
                       for part in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
        return render_default(node.args[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return f"{render_default(node.left)}/{render_default(node.right)}"
    return ast.unparse(node)


def _comments(source: str) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Per line: its `#:` description comment (whole line or trailing), and section titles."""
    whole_line: dict[int, str] = {}
    trailing: dict[int, str] = {}
    sections: dict[int, str] = {}
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        row, col = token.start
        text = token.string
        alone = not lines[row - 1][:col].strip()
        if text.startswith("#:"):
            (whole_line if alone else trailing)[row] = text[2:].strip()
        elif alone and (match := SECTION.match(text)):
            sections[row] = match.group(1)
    return whole_line, trailing, sections


def _description(line: int, whole_line: dict[int, str], trailing: dict[int, str]) -> str:
    parts: list[str] = []
    above = line - 1
    while above in whole_line:
        parts.insert(0, whole_line[above])
        above -= 1
    if line in trailing:
        parts.append(trailing[line])
    return " ".join(part for part in parts if part)


def read_settings(path: Path = SETTINGS_PATH) -> list[Setting]:
    """Every environment variable the settings module reads, in the order it reads them."""
    source = path.read_text()
    tree = ast.parse(source)
    whole_line, trailing, sections = _comments(source)
    reads: list[tuple[str, str, ast.expr | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (read := _env_read(node)):
            reads.append((*read, node.lineno))
    reads += [(name, TYPES["str"], None, line) for name, line in _environ_subscripts(tree)]
    settings = []
    for name, kind, default, line in sorted(reads, key=lambda read: read[3]):
        section_lines = [row for row in sections if row < line]
        section = sections[max(section_lines)] if section_lines else GENERAL_SECTION
        settings.append(Setting(name, kind, render_default(default), _description(line, whole_line, trailing),
                                section, line))
    return settings


def duplicates(settings: list[Setting]) -> list[str]:
    names = [s.name for s in settings]
    return sorted({name for name in names if names.count(name) > 1})


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def render(settings: list[Setting]) -> str:
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by scripts/gen_config_reference.py from cloudproj/settings.py: do not edit.",
        f"     Regenerate with: {REGENERATE} -->",
        "",
        "Every setting comes from an environment variable, read in `cloudproj/settings.py`. With",
        "none set, the cloud runs on one machine on embedded defaults (SQLite and kombu's",
        "filesystem broker under `STATE_PATH`). `make run` also reads `CLOUD_DIR/env` (it keeps",
        "the generated `SECRET_KEY` there); real environment variables win over that file.",
        "Defaults are shown as settings.py computes them (`STATE_PATH/images` is that directory",
        "under `STATE_PATH`; `BASE_DIR` is the repository). Lists are comma-separated; a boolean",
        "is true for `true`, `yes`, `y`, `on`, `ok` or `1` and false otherwise. Intervals and",
        "timeouts are seconds unless said otherwise.",
        "",
        "Where each setting is used and how the parts fit: [the operator guide](operator-guide.md).",
        "To document a new setting, put a `#:` comment right above the line of `cloudproj/settings.py`",
        f"that reads it, then run `{REGENERATE}`.",
        "",
    ]
    section = None
    for setting in settings:
        if setting.section != section:
            section = setting.section
            title, _, note = section.partition(" (")
            out += [f"## {title[:1].upper()}{title[1:]}", ""]
            if note:
                out += [f"{note[:1].upper()}{note[1:].removesuffix(')')}.", ""]
            out += ["| variable | type | default | description |", "|---|---|---|---|"]
        default = "required" if setting.default is None else _code(setting.default) if setting.default else "empty"
        out.append(f"| `{setting.name}` | {setting.type} | {_cell(default)} | {_cell(setting.description)} |")
        if settings[-1] is setting or settings[settings.index(setting) + 1].section != section:
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def documented_names(reference: str) -> list[str]:
    """The variables a configuration.md lists (first cell of each table row)."""
    return re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", reference, flags=re.MULTILINE)


def problems(settings: list[Setting]) -> list[str]:
    found = [f"{s.name} (cloudproj/settings.py line {s.line}) has no description: put a `#:` comment "
             f"right above that line" for s in settings if not s.description]
    found += [f"{name} is read more than once in cloudproj/settings.py: read it once" for name in duplicates(settings)]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/configuration.md is out of date")
    args = parser.parse_args(argv)
    settings = read_settings()
    if errors := problems(settings):
        print("\n".join(errors), file=sys.stderr)
        return 1
    text = render(settings)
    if args.check:
        if not REFERENCE_PATH.exists() or REFERENCE_PATH.read_text() != text:
            print(f"docs/configuration.md is out of date: run {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    REFERENCE_PATH.parent.mkdir(exist_ok=True)
    REFERENCE_PATH.write_text(text)
    print(f"wrote {REFERENCE_PATH.relative_to(ROOT)} ({len(settings)} settings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

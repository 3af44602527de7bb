#!/usr/bin/env python3
"""Django entry point and the operator CLI (the seeds' nova-manage verbs)."""
import os
import sys
from pathlib import Path


def _use_project_venv():
    """Run under the project's .venv (made by `make run`/`make test`) when started from outside it."""
    venv_python = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != venv_python.parent.parent.resolve():
        os.execv(str(venv_python), [str(venv_python), *sys.argv])


def main():
    _use_project_venv()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Django entry point and the operator CLI (the seeds' nova-manage verbs)."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

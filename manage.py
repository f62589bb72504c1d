#!/usr/bin/env python
import os
import sys
from pathlib import Path

# The development settings `make run` writes; PORTAL_ENV_FILE names another file, or
# none when it is empty. portal/settings.py reads what PORTAL_ENV_FILE names.
DEVELOPMENT_ENV_FILE = Path(__file__).resolve().parent / ".env"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if DEVELOPMENT_ENV_FILE.is_file():
        os.environ.setdefault("PORTAL_ENV_FILE", str(DEVELOPMENT_ENV_FILE))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

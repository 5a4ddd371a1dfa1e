#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
    from vigil.core.bootstrap import load_demo_keys

    load_demo_keys()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)

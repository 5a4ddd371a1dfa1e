"""Searching the bytes of the SQLite files (and others) for text that must not be there.

The files are read in a child process. If this process opened and closed the database file
itself, POSIX would drop every lock SQLite holds on it here (sqlite.org/howtocorrupt.html,
section 2.2), and the next process to open the database would take its shared memory for
abandoned and reset it under our feet: "database disk image is malformed", or SIGBUS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_SCAN = """
import json, sys
request = json.load(sys.stdin)
needles = [bytes.fromhex(n) for n in request["needles"]]
found = []
for name in request["files"]:
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        continue
    found += [[name, n.hex()] for n in needles if n in data]
json.dump(found, sys.stdout)
"""


def hits(needles: list[bytes], files: list[Path]) -> list[str]:
    """ "file: needle" for every needle found in every file."""
    request = json.dumps({"needles": [n.hex() for n in needles], "files": [str(f) for f in files]})
    done = subprocess.run(
        [sys.executable, "-c", _SCAN], input=request, capture_output=True, text=True, check=True, timeout=120
    )
    return [f"{Path(name).name}: {bytes.fromhex(needle)!r}" for name, needle in json.loads(done.stdout)]

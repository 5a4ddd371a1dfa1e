"""Writing encrypted files under MEDIA_ROOT (report photos, evidence)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` (already encrypted) to `path`, readable by our user only, all or nothing:
    into a `.part` file that is fsynced, then renamed into place."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove_orphan_files(
    root: Path, known: set[str], *, older_than: float, stop: Callable[[], bool] = lambda: False
) -> int:
    """Delete the files under `root` that no row names (`known`: paths relative to MEDIA_ROOT,
    the parent of `root`) and that were last written before `older_than` (a timestamp: an
    upload in progress is not an orphan). The number deleted."""
    if not root.is_dir():
        return 0
    media = root.parent
    removed = 0
    for path in sorted(root.rglob("*")):
        if stop():
            break
        if not path.is_file() or path.relative_to(media).as_posix() in known:
            continue
        try:
            if path.stat().st_mtime > older_than:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed

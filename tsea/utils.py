"""Small helpers shared by every layer: atomic file writes.

Kept free of torch and Lightning imports so the command line can use it before they load.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def check_output_dir(path) -> None:
    """FileNotFoundError naming the folder when the folder that would hold ``path`` is missing."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(2, "output directory not found", os.path.dirname(str(path)) or parent)


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)``, flush the temp file to disk, then move it over ``path``.

    The temp file lies next to ``path`` (same file system, so :func:`os.replace` is atomic):
    a crash or kill at any moment leaves either the old file or the complete new one, and a
    failing ``write`` removes its temp file and leaves ``path`` untouched.
    """
    path = str(path)
    check_output_dir(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """:func:`atomic_write` of a UTF-8 text."""

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    atomic_write(path, write)

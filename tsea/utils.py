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


def _temp_prefix(path: str) -> str:
    return f".{Path(path).name}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but not ours, or cannot tell: keep its file
    return True


def remove_stale_temps(path) -> list[str]:
    """Remove the temp files ``.NAME.<pid>-*.tmp`` that earlier writes of ``path`` left behind
    when killed (their process is gone); returns the paths removed. A temp file of a write
    still running (its process alive on this machine) is kept."""
    path = str(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = _temp_prefix(path)
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.remove(os.path.join(directory, name))
            removed.append(os.path.join(directory, name))
    return removed


def _make_temp(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(
        prefix=f"{_temp_prefix(path)}{os.getpid()}-", suffix=".tmp", dir=directory
    )
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_files(*paths):
    """Write several files as a set: yields one temp path per target (next to it, named
    ``.NAME.<pid>-XXXX.tmp``); when the block ends without error every temp file is flushed to
    disk, and only then each is moved over its target (:func:`os.replace`, in the given order).
    An error inside the block removes the temp files and leaves every target untouched. Stale
    temp files of the same targets left by killed writes are removed first.

    The replacements are atomic one by one, not together: a crash between two of them (a few
    microseconds) can pair a new file with an old one.
    """
    paths = [str(p) for p in paths]
    for p in paths:
        check_output_dir(p)
    for p in paths:
        remove_stale_temps(p)
    temps = []
    try:
        for p in paths:
            temps.append(_make_temp(p))
        yield list(temps)
        for tmp in temps:
            _fsync_path(tmp)
        for tmp, p in zip(temps, paths, strict=True):
            os.replace(tmp, p)
    except BaseException:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        raise


def atomic_write(path, write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)``, flush the temp file to disk, then move it over ``path``.

    The temp file lies next to ``path`` (same file system, so :func:`os.replace` is atomic):
    a crash or kill at any moment leaves either the old file or the complete new one, and a
    failing ``write`` removes its temp file and leaves ``path`` untouched. A temp file left by
    a killed earlier write of ``path`` is removed on the next write (:func:`remove_stale_temps`).
    """
    with atomic_files(path) as (tmp,):
        write(tmp)


def atomic_write_text(path, text: str) -> None:
    """:func:`atomic_write` of a UTF-8 text."""

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    atomic_write(path, write)

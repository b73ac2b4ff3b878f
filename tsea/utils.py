"""Small helpers shared by every layer: atomic file writes, seeds, thread limits, the
device, quiet Lightning.

Importing this module never imports torch or Lightning (the command line uses it before they
load): the helpers that need them import them when called.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import logging
import os
import random
import re
import secrets
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np


def check_output_dir(path) -> None:
    """FileNotFoundError naming the folder when the folder that would hold ``path`` is missing,
    NotADirectoryError when it is a file, and OSError naming ``path`` when no file can be
    created there (a read-only folder, a name too long): said before any work, by trying.
    A path without a file name ("", "out/") is a ValueError; an existing folder is left to the
    callers, which say that it is one."""
    if os.path.isdir(path):
        return
    if not Path(path).name or str(path).endswith(("/", os.sep)):
        raise ValueError(f"an output needs a file name, got {str(path)!r}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        shown = os.path.dirname(str(path)) or parent
        if os.path.exists(parent):
            raise NotADirectoryError(20, "the output's folder is a file", shown)
        raise FileNotFoundError(2, "output directory not found", shown)
    try:
        os.remove(_make_temp(str(path)))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write a file there ({exc.strerror})", str(path)) from None


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Longest target name kept whole in its temp files' names: a file system's limit (255
#: bytes) must leave room for the dot, the pid, the random part and ``.tmp``.
_NAME_IN_TEMP = 200


def _temp_prefix(path: str) -> str:
    name = Path(path).name
    if len(name.encode()) > _NAME_IN_TEMP:  # a short stand-in, the same for every write of it
        digest = hashlib.sha1(name.encode()).hexdigest()[:16]
        name = name.encode()[:100].decode(errors="ignore") + "~" + digest
    return f".{name}."


#: What follows the prefix in a temp file's name: ``<pid>-<8 hex digits>.tmp``.
_TEMP_TAIL = re.compile(r"(\d+)-[0-9a-f]{8}\.tmp")


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
        # exactly this target's: ".e." also begins the temp files of "e.2024-12.csv"
        tail = _TEMP_TAIL.fullmatch(name[len(prefix):]) if name.startswith(prefix) else None
        if tail is None or _pid_alive(int(tail.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.remove(os.path.join(directory, name))
            removed.append(os.path.join(directory, name))
    return removed


def _make_temp(path: str) -> str:
    """A new empty file beside ``path``, created with mode 0o666 less the umask, as ``open``
    creates files (``tempfile.mkstemp``'s 0o600 would make every output private)."""
    directory = os.path.dirname(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(directory, f"{_temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temp file name beside {path!r}")


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
        if os.path.isdir(p):  # else the temp file is written beside it, then fails to move
            raise IsADirectoryError(f"cannot write {p!r}: it is a directory, not a file path")
    for p in paths:
        remove_stale_temps(p)
    temps = []
    try:
        for p in paths:
            temps.append(_make_temp(p))
        yield list(temps)
        for tmp, p in zip(temps, paths, strict=True):
            _fsync_path(tmp)
            # the mode of the file being replaced, set once written (a read-only one's mode
            # set before would refuse the writing)
            with contextlib.suppress(OSError):
                os.chmod(tmp, os.stat(p).st_mode & 0o7777)
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


# -- messages -----------------------------------------------------------------------------------
def did_you_mean(word: str, choices, *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'X'?)`` naming the choice that ``word`` misspells: one equal to it but
    for case first, else the closest by :func:`difflib.get_close_matches`; ``""`` when none is
    close enough."""
    choices = sorted(set(choices) - {word})
    close = [c for c in choices if c.lower() == str(word).lower()]
    close = close or difflib.get_close_matches(str(word), choices, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- seeds --------------------------------------------------------------------------------------
#: Seeds are the integers every generator involved accepts (numpy's legacy seeding,
#: ``lightning.seed_everything``): [0, 2**32).
SEED_BOUND = 2**32


def resolve_seed(random_state) -> int:
    """The integer seed of a fit, from scikit-learn's ``random_state``.

    - an int in [0, 2**32): that int, unchanged;
    - ``None``: one draw from numpy's global generator, as scikit-learn's
      ``check_random_state(None)`` (so ``np.random.seed(k)`` beforehand makes the fit
      reproducible); the drawn seed is recorded by the caller (``seed_``);
    - a ``numpy.random.RandomState`` or ``Generator``: one draw from it, in [0, 2**31 - 1).

    Anything else (bools, negative or larger ints, floats) is a ValueError.
    """
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, (bool, np.bool_)):
        if not 0 <= int(random_state) < SEED_BOUND:
            raise ValueError(f"random_state must be in [0, 2**32), got {random_state!r}")
        return int(random_state)
    if random_state is None:
        random_state = np.random.mtrand._rand  # numpy's global RandomState
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy generator, got {random_state!r}")


def member_seeds(seed: int, n: int) -> list[int]:
    """The seeds of the ``n`` encoders of an ensemble fitted with ``seed``: ``seed`` itself for
    one encoder, else ``(seed * n + i) mod 2**32`` for encoder i (no two seeds of one ensemble
    alike, and different seeds give disjoint ensembles below 2**32 / n)."""
    if n == 1:
        return [int(seed)]
    return [(int(seed) * n + i) % SEED_BOUND for i in range(n)]


@contextlib.contextmanager
def seeded(seed: int):
    """Seed python's ``random``, numpy's global generator and torch (CPU and CUDA) with
    ``seed`` for the block, then restore the callers' generator states.

    Seeding goes through ``lightning.seed_everything``, which also sets ``PL_GLOBAL_SEED``:
    the processes a spawn strategy starts read it to seed themselves alike (restored too).
    These generators are the process's, so blocks in different threads (fits run by a
    threading backend) take turns: run at once, their draws would interleave and the same seed
    would not give the same model.
    """
    import lightning as L
    import torch

    with _SEEDED_LOCK:
        py_state, np_state = random.getstate(), np.random.get_state()
        torch_state = torch.get_rng_state()
        cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        env = {k: os.environ.get(k) for k in ("PL_GLOBAL_SEED", "PL_SEED_WORKERS")}
        try:
            L.seed_everything(seed, workers=False, verbose=False)
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
            torch.set_rng_state(torch_state)
            if cuda_states is not None:
                torch.cuda.set_rng_state_all(cuda_states)
            for k, v in env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


#: Held by the thread inside a :func:`seeded` block (re-entrant: blocks may nest).
_SEEDED_LOCK = threading.RLock()


# -- threads ------------------------------------------------------------------------------------
#: Threads that ``n_jobs=None`` uses at most. On an idle 2-core machine a second thread made a
#: fit 1.4-1.7x and an embed 1.7-1.8x faster (BENCHMARKS.md, Threads); the per-operator work of
#: a model this size is small, so returns are expected to fade past a handful of threads.
DEFAULT_MAX_THREADS = 8


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def env_thread_limit() -> int | None:
    """The thread count that ``OMP_NUM_THREADS`` asks for (a positive integer), else None.
    joblib sets it in its worker processes (to the cores over the workers: 1 for
    ``GridSearchCV(n_jobs=2)`` on 2 cores), and users set it to run jobs side by side."""
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def resolve_threads(n_jobs) -> int:
    """CPU threads for scikit-learn's ``n_jobs``: None means every usable core, at most
    :data:`DEFAULT_MAX_THREADS` and at most :func:`env_thread_limit` (a lone user gets the
    machine, a fit in a joblib worker its share; pass 1 for runs side by side); negatives
    count back from the number of cores, -1 is all of them; 0 is an error."""
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))):
        raise ValueError(f"n_jobs must be an integer or None, got {n_jobs!r}")
    if n_jobs is None:
        return min(DEFAULT_MAX_THREADS, usable_cores(), env_thread_limit() or usable_cores())
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive or negative integer or None, got 0")
    return n_jobs if n_jobs > 0 else max(1, usable_cores() + 1 + n_jobs)


@contextlib.contextmanager
def thread_limit(n_threads: int | None, *, blas: bool = False):
    """Run the block with ``n_threads`` intra-op torch threads (``None``: leave as is) and
    restore the previous count afterwards. ``blas=True`` also limits the BLAS/OpenMP pools of
    numpy, scipy and scikit-learn (threadpoolctl) to the same number."""
    if n_threads is None:
        yield
        return
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
        raise ValueError(f"num_threads must be a positive integer or None, got {n_threads!r}")
    import torch

    n_threads = int(n_threads)
    with contextlib.ExitStack() as stack:
        if blas:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(n_threads))
        before = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


# -- device -------------------------------------------------------------------------------------
def resolve_device(device):
    """The ``torch.device`` for a ``device`` parameter.

    ``"auto"`` or None: CUDA when available, else the CPU; ``"cpu"``; ``"mps"`` (Apple) and
    ``"cuda"`` / ``"cuda:N"`` (``"gpu"`` / ``"gpu:N"`` are the same): a ValueError when not
    available. A ``torch.device`` is read as its string. Anything else is a ValueError.
    """
    import torch

    if device is None:
        device = "auto"
    if isinstance(device, torch.device):
        device = str(device)
    if isinstance(device, str):
        name, sep, index = device.partition(":")
        if name == "auto" and not sep:
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if name == "cpu" and not sep:
            return torch.device(name)
        if name == "mps" and not sep:
            if not torch.backends.mps.is_available():
                raise ValueError("device='mps' but Apple's MPS is not available on this machine; "
                                 "use device='auto' or 'cpu'")
            return torch.device(name)
        if name in ("cuda", "gpu") and (not sep or index.isdigit()):
            if not torch.cuda.is_available():
                raise ValueError(f"device={device!r} but CUDA is not available on this "
                                 "machine; use device='auto' or 'cpu'")
            return torch.device("cuda", int(index)) if sep else torch.device("cuda")
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")


# -- quiet Lightning ----------------------------------------------------------------------------
LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning",
                     "lightning_fabric")
#: Modules whose warnings are advisory for tsea's use of them (Lightning's tips, the
#: DataLoader's worker-count hint: tsea's data already live in memory).
_ADVISORY_WARNINGS = ("lightning", "pytorch_lightning", "lightning_fabric", "torch.utils.data")


def silence_lightning(also: tuple[str, ...] = ()) -> None:
    """Process-wide: Lightning logs errors only, and the advisory warnings of Lightning and
    ``torch.utils.data`` (plus those raised in the modules ``also`` names, with their
    submodules) are ignored."""
    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in _ADVISORY_WARNINGS + tuple(also):
        warnings.filterwarnings("ignore", module=module + r"(\..*)?$")


@contextlib.contextmanager
def quiet_lightning(verbose: bool = False):
    """:func:`silence_lightning` for the duration of the block (log levels and warning filters
    restored afterwards); does nothing when ``verbose``."""
    if verbose:
        yield
        return
    levels = {name: logging.getLogger(name).level for name in LIGHTNING_LOGGERS}
    with warnings.catch_warnings():
        silence_lightning()
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)

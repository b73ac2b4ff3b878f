"""Named archive datasets (UCR, UEA, TSER), offline first.

``load(name)`` looks, in this order, in:

1. ``data_dir`` (or, when it is None, the ``TSEA_DATA`` environment variable), archive layout
   ``<dir>/<Name>/<Name>_TRAIN.ts`` (or ``.tsv`` / ``.arff``) and ``<Name>_TEST.*``;
2. the datasets bundled inside the installed aeon and sktime packages;
3. the download cache (``TSEA_CACHE`` or ``~/.cache/tsea/datasets``), same layout;
4. aeon's downloader, into that cache, only when the archive host answers within a few
   seconds (``TSEA_OFFLINE=1`` or ``download=False`` skip this step).

Offline and not found: a ValueError listing the places tried and how to provide the files.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from .data.collection import Collection
from .data.convert import to_collection
from .data.readers import read_file
from .utils import did_you_mean

SPLITS = ("train", "test", "all")
ARCHIVES = ("UCR", "UEA", "TSER")
SUFFIXES = ("ts", "tsv", "arff")
HOST = ("timeseriesclassification.com", 443)


def _package_data_dir(package: str) -> Path | None:
    """``<package>/datasets/data`` of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    return path if path.is_dir() else None


def cache_dir() -> Path:
    return Path(os.environ.get("TSEA_CACHE") or Path.home() / ".cache" / "tsea" / "datasets")


def search_dirs(data_dir=None) -> list[tuple[str, Path]]:
    """(source, directory) pairs searched for ``<dir>/<Name>/<Name>_TRAIN.*``, in order."""
    dirs = []
    user = data_dir if data_dir is not None else os.environ.get("TSEA_DATA")
    if user:
        dirs.append(("data_dir" if data_dir is not None else "TSEA_DATA", Path(user)))
    for package in ("aeon", "sktime"):
        found = _package_data_dir(package)
        if found is not None:
            dirs.append((package, found))
    dirs.append(("cache", cache_dir()))
    return dirs


def _split_file(folder: Path, name: str, split: str) -> Path | None:
    for suffix in SUFFIXES:
        path = folder / name / f"{name}_{split.upper()}.{suffix}"
        if path.is_file():
            return path
    return None


def _find(name: str, splits, data_dir):
    """(source, {split: path}) for the first directory holding the dataset, and the tried list.

    The first directory with split files of the dataset holds all of it: when it lacks a split
    asked for, that is an error, not a reason to read that split from a later directory (a
    user's training file scored against aeon's bundled test file). tsea's download cache is
    the exception: it fills one split at a time."""
    tried = []
    for source, folder in search_dirs(data_dir):
        files = {s: _split_file(folder, name, s) for s in splits}
        if all(files.values()):
            return source, files, tried
        present = sorted(p.name for p in (folder / name).glob(f"{name}_*")
                         if p.suffix[1:] in SUFFIXES) if (folder / name).is_dir() else []
        if present:  # the dataset's folder, without some split: say which
            missing = ", ".join(f"{name}_{s.upper()}.{{ts,tsv,arff}}" for s in splits
                                if files[s] is None)
            here = f"{folder / name} has {', '.join(present)} but no {missing}"
            if source != "cache":
                raise ValueError(f"dataset {name!r}: {here} ({source}); the splits of a dataset "
                                 "are read from one folder: add the missing split there")
            tried.append(f"{source}: {here}")
        else:
            tried.append(f"{source}: {folder / name}/{name}_{{TRAIN,TEST}}.{{ts,tsv,arff}}")
    return None, None, tried


def regression_names() -> set[str]:
    """The names of the regression (TSER) archive datasets (aeon's lists)."""
    from aeon.datasets import tser_datasets

    return set(tser_datasets.tser_soton) | set(tser_datasets.tser_monash)


def infer_task(y, dataset: str | None = None) -> str:
    """``"regression"`` or ``"classification"`` for targets ``y``; ``dataset`` is the name of
    the archive dataset they come from (None for targets read from a file).

    Regression: a TSER archive dataset; a named dataset with float targets (:func:`load`
    returns float targets only for regression: a TSER dataset, or a ``.ts`` file whose header
    says ``@targetLabel true``, even where every target is a whole number); or targets whose
    numbers include a non-integer value (finite values only): float targets, and, for targets
    read from a file (whose reader may keep them as text, e.g. a CSV ``target`` column), text
    that reads as such numbers.
    Classification otherwise: integers, booleans, integer-valued numbers, other text, and the
    text labels of a named (non-TSER) archive dataset, which are class labels whatever they
    read as.
    """
    if dataset is not None and dataset in regression_names():
        return "regression"
    y = np.asarray(y)
    if y.dtype.kind in "iub":
        return "classification"
    if dataset is not None:
        return "regression" if y.dtype.kind == "f" else "classification"
    if y.dtype.kind != "f":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            return "classification"
    finite = y[np.isfinite(y)]
    return "regression" if np.any(finite != np.round(finite)) else "classification"


def archive_names(archive: str) -> list[str]:
    """The dataset names of an archive (from aeon's lists), sorted."""
    from aeon.datasets import tsc_datasets

    key = str(archive).upper()
    if key == "UCR":
        return sorted(tsc_datasets.univariate)
    if key == "UEA":
        return sorted(tsc_datasets.multivariate)
    if key == "TSER":
        return sorted(regression_names())
    raise ValueError(f"archive must be one of {ARCHIVES}, got {archive!r}")


def _online(timeout: float = 3.0) -> bool:
    """True when the archive host accepts a connection within ``timeout`` seconds."""
    result = []

    def probe():
        try:
            socket.create_connection(HOST, timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)  # a hanging DNS lookup must not hang us
    return bool(result and result[0])


def _download(name: str, split: str, regression: bool):
    """Load one split with aeon's downloader into the cache; (X, y) or raises."""
    from aeon.datasets import load_classification, load_regression

    loader = load_regression if regression else load_classification
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    return loader(name, split=split, extract_path=str(target))


def _known_names(data_dir) -> set[str]:
    """Archive dataset names, and the dataset folders present where ``load`` looks."""
    names = set()
    for archive in ARCHIVES:
        try:
            names.update(archive_names(archive))
        except Exception:  # noqa: BLE001 - a hint must never hide the real error
            pass
    for _, folder in search_dirs(data_dir):
        try:
            names.update(p.name for p in folder.iterdir() if p.is_dir())
        except OSError:
            pass
    return names


def unknown_names(names, data_dir=None) -> dict[str, str]:
    """The names of ``names`` that :func:`load` cannot find anywhere (no folder of that name
    where it looks: ``data_dir``, TSEA_DATA, the packages' data, the cache; and none in the
    UCR, UEA or TSER archives' lists that it could download), each with a did-you-mean hint
    ("" when no known name is close)."""
    known = _known_names(data_dir)
    return {n: did_you_mean(n, known, cutoff=0.85) for n in names if n not in known}


def _not_found(name, tried, download_note, data_dir=None):
    places = "\n  ".join(tried + [download_note])
    return ValueError(
        f"dataset {name!r} was not found{did_you_mean(name, _known_names(data_dir), cutoff=0.85)}. Places tried:\n  {places}\n"
        f"To use it offline, put {name}_TRAIN.ts and {name}_TEST.ts (or .tsv / .arff) in "
        f"<dir>/{name}/ and pass data_dir=<dir> or set the TSEA_DATA environment variable "
        "(names are case-sensitive, as in the archives)."
    )


def _load_collection(name, splits, data_dir, download):
    regression = name in regression_names()
    task = "regression" if regression else None
    source, files, tried = _find(name, splits, data_dir)
    if source is not None:
        parts = [read_file(files[s], task=task) for s in splits]
        return parts, [str(files[s]) for s in splits]
    if not download or os.environ.get("TSEA_OFFLINE", "") not in ("", "0"):
        note = "download: skipped (download=False or TSEA_OFFLINE set)"
    elif not _online():
        note = f"download: skipped, {HOST[0]} is not reachable (offline?)"
    else:
        try:
            parts = []
            for s in splits:
                X, y = _download(name, s, regression)
                coll = to_collection(X, what=name)
                coll.ids = np.arange(coll.n_series).astype(object)
                parts.append((coll, np.asarray(y, dtype=float) if regression else np.asarray(y)))
            return parts, [f"aeon download into {cache_dir()}"] * len(splits)
        except Exception as e:  # noqa: BLE001 - any download failure is reported, not raised raw
            note = f"download: failed ({type(e).__name__}: {e})"
    raise _not_found(name, tried, note, data_dir)


def _join(parts) -> tuple[Collection, np.ndarray | None]:
    if len(parts) == 1:
        return parts[0]
    colls = [p[0] for p in parts]
    if len({c.n_channels for c in colls}) != 1:
        raise ValueError("the train and test splits have different channel counts")
    width = max(c.max_length for c in colls)
    X = np.full((sum(c.n_series for c in colls), colls[0].n_channels, width), np.nan, np.float32)
    start = 0
    for c in colls:
        X[start : start + c.n_series, :, : c.max_length] = c.X
        start += c.n_series
    lengths = np.concatenate([c.lengths for c in colls])
    ids = np.concatenate([np.asarray(c.ids, dtype=object) for c in colls])
    ys = [p[1] for p in parts]
    y = None if any(v is None for v in ys) else np.concatenate(ys)
    return Collection(X, lengths, ids), y


def load(name, split="train", data_dir=None, return_ids=False, *, download=True):
    """Load a named archive dataset as ``(X, y)`` (or ``(X, y, ids)`` with ``return_ids``).

    X follows aeon's convention: a float32 ndarray (n, C, L) when every series has the same
    length (NaN marks missing values), else a list of (C, L_i) arrays. y: class labels with
    their original (string) values, or float targets for regression (TSER) datasets.
    ``split="all"`` is train then test; ids are ``"train-<row>"`` / ``"test-<row>"`` there and
    row numbers otherwise.
    """
    if not isinstance(name, str) or not name or any(c in name for c in "/\\") or name[0] == ".":
        raise ValueError(f"name must be a dataset name such as 'BasicMotions', got {name!r}")
    if not isinstance(split, str) or split.lower() not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    split = split.lower()
    splits = ("train", "test") if split == "all" else (split,)
    parts, _ = _load_collection(name, splits, data_dir, download)
    if split == "all":
        for s, (coll, _y) in zip(splits, parts):
            coll.ids = np.array([f"{s}-{i}" for i in range(coll.n_series)], dtype=object)
    coll, y = _join(parts)
    if y is None:
        raise ValueError(f"dataset {name!r} has no labels or targets in its files")
    if (coll.lengths == coll.max_length).all():
        X = coll.X
    else:
        X = coll.to_list()
    return (X, y, coll.ids) if return_ids else (X, y)


def list_datasets(archive="UCR", data_dir=None) -> pd.DataFrame:
    """The datasets of ``archive`` (UCR, UEA or TSER), marking which are available offline.

    Columns: name, archive, available_offline (both splits found locally), source (where:
    data_dir / TSEA_DATA / aeon / sktime / cache, or "download").
    """
    names = archive_names(archive)
    rows = []
    dirs = search_dirs(data_dir)
    for name in names:
        source = next(
            (
                src
                for src, folder in dirs
                if _split_file(folder, name, "train") and _split_file(folder, name, "test")
            ),
            None,
        )
        rows.append((name, str(archive).upper(), source is not None, source or "download"))
    return pd.DataFrame(rows, columns=["name", "archive", "available_offline", "source"])

"""The ``.tsea`` model file: one zip archive, loadable without executing code.

Layout (format version 1)::

    model.tsea (zip, stored uncompressed)
    ├── tsea.json      {"magic": "tsea-model", "format_version": 1, "kind": ..., "params": {...},
    │                    "meta": {...}, "arrays": [names]}
    └── arrays.npz     numpy arrays (weights, normalisation statistics), read with
                       allow_pickle=False

Writing is atomic: the archive is written to a temporary file in the target directory and moved
over ``path`` with :func:`os.replace`, so a crash never leaves a half-written model behind.
Reading checks the magic, the format version and the list of arrays; a truncated, corrupted or
foreign file gives a ``ValueError`` that says so.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from tsea.utils import atomic_write

__all__ = ["FORMAT_VERSION", "MAGIC", "read_model", "write_model"]

MAGIC = "tsea-model"
FORMAT_VERSION = 1
_JSON = "tsea.json"
_ARRAYS = "arrays.npz"


def write_model(path, kind: str, params: dict, meta: dict, arrays: dict) -> None:
    """Write a model file atomically.

    ``params`` and ``meta`` must be JSON-serialisable (``ValueError`` otherwise, naming the
    offending part); ``arrays`` maps names to numpy arrays of a numeric or boolean dtype.
    """
    path = Path(path)
    header = {
        "magic": MAGIC,
        "format_version": FORMAT_VERSION,
        "kind": str(kind),
        "params": params,
        "meta": meta,
        "arrays": sorted(arrays),
    }
    for part in ("params", "meta"):
        try:
            json.dumps(header[part], allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"cannot save the model: its {part} are not JSON-serialisable ({exc}); "
                "model files store only plain values"
            ) from None
    buf = io.BytesIO()
    clean = {}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype == object:
            raise ValueError(f"cannot save array {name!r}: object arrays are not allowed")
        clean[name] = arr
    np.savez(buf, **clean)
    def write(tmp):
        with open(tmp, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(_JSON, json.dumps(header, indent=1, sort_keys=True))
            zf.writestr(_ARRAYS, buf.getvalue())

    atomic_write(path, write)


def read_model(path, kind: str | None = None) -> tuple[dict, dict, dict]:
    """Read a model file; return ``(params, meta, arrays)``.

    With ``kind`` given, a file holding another kind of model is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    bad = f"{str(path)!r} is not a valid tsea model file"
    try:
        with zipfile.ZipFile(path, "r") as zf:
            names = set(zf.namelist())
            if _JSON not in names or _ARRAYS not in names:
                raise ValueError(f"{bad}: missing {_JSON} or {_ARRAYS}")
            header = json.loads(zf.read(_JSON).decode("utf-8"))
            raw = zf.read(_ARRAYS)
    except zipfile.BadZipFile:
        raise ValueError(f"{bad} (not a zip archive, or truncated)") from None
    except (zipfile.LargeZipFile, EOFError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{bad} ({exc})") from None
    except json.JSONDecodeError:
        raise ValueError(f"{bad}: corrupted header") from None
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise ValueError(f"{bad}: wrong magic (a foreign file?)")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has model-file format version {version!r}; this tsea reads "
            f"version {FORMAT_VERSION}"
        )
    if kind is not None and header.get("kind") != kind:
        raise ValueError(f"{str(path)!r} holds a {header.get('kind')!r}, not a {kind!r}")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # zip/npy parsing errors of many kinds
        raise ValueError(f"{bad}: corrupted arrays ({type(exc).__name__}: {exc})") from None
    if sorted(arrays) != sorted(header.get("arrays", [])):
        raise ValueError(f"{bad}: the arrays do not match the header")
    return header.get("params", {}), header.get("meta", {}), arrays

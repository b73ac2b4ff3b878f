"""The ``.tsea`` model file: one zip archive, loadable without executing code.

Layout (format version 1)::

    model.tsea (zip, stored uncompressed)
    ├── tsea.json      {"magic": "tsea-model", "format_version": 1, "kind": ..., "params": {...},
    │                    "meta": {...}, "arrays": [names]}
    └── arrays.npz     numpy arrays (weights, normalisation statistics), read with
                       allow_pickle=False

Writing is atomic: the archive is written to a temporary file in the target directory and moved
over ``path`` with :func:`os.replace`, so a crash never leaves a half-written model behind.

Reading never trusts the file. Everything below gives a ``ValueError`` naming the file and the
part at fault (and a missing file ``FileNotFoundError``):

- a truncated, corrupted or foreign file; a wrong magic, kind or format version (an int);
- limits checked on the sizes that the zip directories declare, *before* anything is inflated
  or allocated: the JSON header at most :data:`MAX_HEADER_BYTES` (4 MiB), the arrays at most
  :data:`MAX_ARRAY_BYTES` (2 GiB) in all, a compressed member at most
  :data:`MAX_COMPRESSION_RATIO` (20) times its stored size (tsea writes members uncompressed);
  every ``.npy`` header is read first and its shape times item size must fit the member;
- a header that is not the documented structure (``params`` and ``meta`` objects, ``arrays`` a
  list of names, nesting at most :data:`MAX_JSON_DEPTH` levels); an array member that is not a
  ``.npy`` array; an array that is not real numeric or boolean (object, complex, text) or that
  holds NaN or infinite values.

An encoder's own checks (its architecture, weights and statistics, before any network is
built) are :func:`tsea.estimators._modelcheck.check_encoder_model`.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np

from tsea.utils import atomic_write, check_output_dir

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "MAGIC",
    "MAX_ARRAY_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_HEADER_BYTES",
    "MAX_JSON_DEPTH",
    "read_kind",
    "read_model",
    "write_model",
]

MAGIC = "tsea-model"
FORMAT_VERSION = 1
#: The kinds of model a file may hold: the estimator class that wrote it.
KINDS = ("EAEncoder", "EAClassifier", "EARegressor")
_JSON = "tsea.json"
_ARRAYS = "arrays.npz"

#: Largest JSON header read (declared uncompressed size).
MAX_HEADER_BYTES = 4 * 2**20
#: Largest total of array data read (declared sizes); 2 GiB is 512 M float32 weights.
MAX_ARRAY_BYTES = 2 * 2**30
#: A compressed member may inflate to at most this many times its stored size.
MAX_COMPRESSION_RATIO = 20
#: Deepest nesting of JSON objects/lists accepted in the header.
MAX_JSON_DEPTH = 64


def write_model(path, kind: str, params: dict, meta: dict, arrays: dict) -> None:
    """Write a model file atomically.

    ``params`` and ``meta`` must be JSON-serialisable (``ValueError`` otherwise, naming the
    offending part); ``arrays`` maps names to numpy arrays of a numeric or boolean dtype.
    """
    check_output_dir(path)  # before Path() makes "out/" the file "out"
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


def _check_member(bad: str, info: zipfile.ZipInfo, limit: int, what: str) -> None:
    """Refuse a zip member by its declared sizes, before it is read."""
    if info.file_size > limit:
        raise ValueError(
            f"{bad}: {what} {info.filename!r} declares {info.file_size} bytes, more than the "
            f"limit of {limit}"
        )
    if info.compress_type != zipfile.ZIP_STORED and (
        info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1) + 1024
    ):
        raise ValueError(
            f"{bad}: {what} {info.filename!r} would inflate from {info.compress_size} to "
            f"{info.file_size} bytes (more than {MAX_COMPRESSION_RATIO} times; tsea writes "
            "members uncompressed)"
        )


def _json_depth(value, limit: int) -> int:
    """Nesting depth of a parsed JSON value (stops counting past ``limit``)."""
    depth, level = 0, [(value, 1)]
    while level:
        item, d = level.pop()
        depth = max(depth, d)
        if depth > limit:
            return depth
        if isinstance(item, dict):
            level.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            level.extend((v, d + 1) for v in item)
    return depth


def _read_header(bad: str, zf: zipfile.ZipFile) -> dict:
    info = zf.getinfo(_JSON)
    _check_member(bad, info, MAX_HEADER_BYTES, "header")
    try:
        header = json.loads(zf.read(info).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{bad}: corrupted header") from None
    except RecursionError:
        raise ValueError(f"{bad}: the header is nested too deeply") from None
    if _json_depth(header, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ValueError(f"{bad}: the header is nested more than {MAX_JSON_DEPTH} levels deep")
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise ValueError(f"{bad}: wrong magic (a foreign file?)")
    return header


def _check_header(path, bad: str, header: dict, kind) -> None:
    version = header.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has model-file format version {version!r} (of type "
            f"{type(version).__name__}); this tsea reads version {FORMAT_VERSION} (an int)"
        )
    if not isinstance(header.get("kind"), str):
        raise ValueError(f"{bad}: 'kind' is {header.get('kind')!r}, not a string")
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and header["kind"] not in kinds:
        wanted = repr(kinds[0]) if len(kinds) == 1 else f"one of {', '.join(map(repr, kinds))}"
        raise ValueError(f"{str(path)!r} holds a model of kind {header['kind']!r}, not {wanted}")
    for part in ("params", "meta"):
        value = header.get(part, {})
        if not isinstance(value, dict):
            raise ValueError(f"{bad}: {part!r} is a {type(value).__name__}, not an object")
    names = header.get("arrays", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{bad}: 'arrays' is {type(names).__name__}, not a list of names")
    if len(set(names)) != len(names):
        raise ValueError(f"{bad}: 'arrays' names an array twice")


def _read_npy(bad: str, npz: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member: header checked against the member's size before allocation."""
    name = info.filename[: -len(".npy")]
    fmt = np.lib.format
    with npz.open(info) as fh:
        try:
            version = fmt.read_magic(fh)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read(fh)
            offset = fh.tell()
        except (ValueError, TypeError, SyntaxError, EOFError, OSError) as exc:
            raise ValueError(f"{bad}: array {name!r} has a corrupted header ({exc})") from None
        if dtype.hasobject or dtype.kind not in "biuf":
            raise ValueError(
                f"{bad}: array {name!r} has dtype {dtype}; model files hold real numbers or "
                "booleans only"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes != info.file_size - offset:
            raise ValueError(
                f"{bad}: array {name!r} declares shape {shape} ({nbytes} bytes) but its member "
                f"holds {info.file_size - offset} bytes"
            )
        try:
            fh.seek(0)
            arr = fmt.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{bad}: array {name!r} is corrupted ({exc})") from None
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{bad}: array {name!r} holds NaN or infinite values")
    return arr


def _read_arrays(bad: str, zf: zipfile.ZipFile, names: list[str]) -> dict:
    info = zf.getinfo(_ARRAYS)
    _check_member(bad, info, MAX_ARRAY_BYTES + 2**20 * (1 + len(names)), "member")
    arrays = {}
    with zf.open(info) as fh, zipfile.ZipFile(fh) as npz:
        members = npz.infolist()
        total = 0
        for m in members:
            if not m.filename.endswith(".npy"):
                raise ValueError(f"{bad}: {_ARRAYS} member {m.filename!r} is not a .npy array")
            _check_member(bad, m, MAX_ARRAY_BYTES, "array")
            total += m.file_size
            if total > MAX_ARRAY_BYTES:
                raise ValueError(
                    f"{bad}: the arrays declare more than {MAX_ARRAY_BYTES} bytes in all"
                )
        found = [m.filename[: -len(".npy")] for m in members]
        if sorted(found) != sorted(names) or len(set(found)) != len(found):
            raise ValueError(f"{bad}: the arrays do not match the header")
        for m in members:
            arrays[m.filename[: -len(".npy")]] = _read_npy(bad, npz, m)
    return arrays


def read_model(path, kind: str | tuple[str, ...] | None = None) -> tuple[dict, dict, dict]:
    """Read a model file; return ``(params, meta, arrays)``.

    With ``kind`` given (one kind or a tuple of kinds), a file holding another kind of model is
    refused. The limits and checks
    of the module docstring apply; every refusal is a ``ValueError``.
    """
    header, arrays = _read(path, kind, arrays=True)
    return header.get("params", {}), header.get("meta", {}), arrays


def read_any(path) -> tuple[str, dict, dict, dict]:
    """Read a model file of any kind this tsea knows, once: ``(kind, params, meta, arrays)``
    (a second read could find another file, replaced in between)."""
    header, arrays = _read(path, None, arrays=True)
    return _known_kind(path, header), header.get("params", {}), header.get("meta", {}), arrays


def read_kind(path) -> str:
    """The kind of model a file holds (one of :data:`KINDS`), read from its header alone, with
    the header's checks; its arrays are not read. A kind this tsea does not know is refused."""
    header, _ = _read(path, None, arrays=False)
    return _known_kind(path, header)


def _known_kind(path, header: dict) -> str:
    if header["kind"] not in KINDS:
        raise ValueError(f"{str(path)!r} holds a model of kind {header['kind']!r}, which this tsea "
                         f"does not know (it reads {', '.join(map(repr, KINDS))})")
    return header["kind"]


def _read(path, kind, *, arrays: bool) -> tuple[dict, dict | None]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    bad = f"{str(path)!r} is not a valid tsea model file"
    try:
        with zipfile.ZipFile(path, "r") as zf:
            names = set(zf.namelist())
            if _JSON not in names or _ARRAYS not in names:
                raise ValueError(f"{bad}: missing {_JSON} or {_ARRAYS}")
            header = _read_header(bad, zf)
            _check_header(path, bad, header, kind)
            values = _read_arrays(bad, zf, header.get("arrays", [])) if arrays else None
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{bad} (not a zip archive, truncated or corrupted: {exc})") from None
    except (zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise ValueError(f"{bad} ({type(exc).__name__}: {exc})") from None
    return header, values

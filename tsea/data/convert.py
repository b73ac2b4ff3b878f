"""Every accepted input form -> the internal form (`Collection`).

Accepted: ndarray (n, C, L) (aeon convention) or (n, L) (univariate); a list/tuple of
(C, L_i) or (L_i,) arrays (aeon's unequal-length form); an sktime nested DataFrame (cells are
pd.Series); a long-format DataFrame (columns ``id``, ``time``, then one column per channel); a
DataFrame with a 2-level (instance, time) MultiIndex (sktime "pd-multiindex"); a Collection.
A pandas Series whose cells are series is a list of them (ids from its index). Any real numeric
dtype (bool, int, float16/32/64, object arrays of numbers) is cast to float32; the masked entries
of a numpy masked array are missing values (NaN).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .collection import Collection

_SERIES_LIKE = (pd.Series, np.ndarray, list, tuple)


class _NonNumeric(Exception):
    """Internal: element ``index`` (flat) of an array is not a real number."""

    def __init__(self, index: int, detail: str):
        super().__init__(detail)
        self.index = index
        self.detail = detail


def _name(i: int, ids=None) -> str:
    if ids is None:
        return f"series {i}"
    return f"series {i} (id {ids[i]!r})"


def _to_float(a: np.ndarray) -> np.ndarray:
    """A float array with the values of ``a``; raises _NonNumeric for non-real values."""
    kind = a.dtype.kind
    if kind in "biuf":
        return a
    if kind == "O":
        flat = a.ravel()
        out = np.empty(flat.shape, dtype=np.float64)
        for k, v in enumerate(flat):
            if v is None or v is pd.NA:
                out[k] = np.nan
            elif isinstance(v, (numbers.Real, np.bool_)):
                try:
                    out[k] = float(v)
                except OverflowError:
                    raise _NonNumeric(k, f"value {v!r} is too large for a float") from None
            else:
                raise _NonNumeric(k, f"non-numeric value {v!r} ({type(v).__name__})")
        return out.reshape(a.shape)
    if kind == "c":
        raise _NonNumeric(
            0, f"complex values (dtype {a.dtype}), which are not supported: pass X.real or np.abs(X)"
        )
    first = a.ravel()[:1].tolist()[0] if a.size else None
    raise _NonNumeric(0, f"non-numeric values (dtype {a.dtype}, e.g. {first!r})")


def _where(k: int, shape: tuple, series: int | None, ids=None) -> str:
    """Human-readable position of flat element ``k`` in an array of ``shape``."""
    idx = np.unravel_index(k, shape) if shape and int(np.prod(shape)) else (0,) * len(shape)
    if series is None:  # axis 0 indexes series
        series, idx = int(idx[0]), idx[1:]
    parts = [_name(series, ids)]
    if len(idx) == 2:
        parts.append(f"channel {int(idx[0])}, step {int(idx[1])}")
    elif len(idx) == 1:
        parts.append(f"step {int(idx[0])}")
    return ", ".join(parts)


def _numeric(a: np.ndarray, what: str, series: int | None, ids=None) -> np.ndarray:
    try:
        return _to_float(a)
    except _NonNumeric as e:
        raise ValueError(f"{what}: {_where(e.index, a.shape, series, ids)} has {e.detail}") from None


#: Rounding to float32 may move a channel's values by at most this share of its std unwarned:
#: beyond it the values keep fewer than about a hundred distinct levels per std.
ROUNDING_SHARE = 1e-2
#: Series the rounding check reads, evenly spread over a larger input (its cost stays small).
ROUNDING_SAMPLE = 256


def _warn_if_rounding_blurs(vals: np.ndarray, out: np.ndarray, what: str) -> None:
    """Warn when the float32 form loses a channel's detail: values far from 0 next to their
    spread (a timestamp, a coordinate, a large offset) keep only a few of their levels, and no
    normalisation afterwards brings them back."""
    if vals.dtype == np.float32:
        return
    import warnings

    if vals.shape[0] > ROUNDING_SAMPLE:
        rows = np.linspace(0, vals.shape[0] - 1, ROUNDING_SAMPLE).astype(int)
        vals, out = vals[rows], out[rows]
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channels
        moved = np.nanmax(np.abs(out.astype(np.float64) - vals), axis=(0, 2))
        spread = np.nanstd(np.asarray(vals, dtype=np.float64), axis=(0, 2))
    blurred = np.flatnonzero((spread > 0) & (moved > ROUNDING_SHARE * spread))
    if blurred.size:
        c = int(blurred[0])
        more = f" (and {blurred.size - 1} more)" if blurred.size > 1 else ""
        if spread[c] < 1e3 * np.finfo(np.float32).tiny:
            why = "because they are too small for float32; scale them up before passing them"
        else:
            why = ("because they lie far from 0; subtract an offset (e.g. each channel's mean) "
                   "before passing them")
        warnings.warn(
            f"{what}: channel {c}{more} loses detail in float32, the "
            f"precision tsea reads values in: rounding moves its values by up to {moved[c]:.3g}, "
            f"{moved[c] / spread[c]:.1%} of their std ({spread[c]:.3g}), {why}",
            UserWarning, stacklevel=4)


def _finish(vals: np.ndarray, what: str, ids=None) -> Collection:
    """Validate a padded float array (n, C, L) and build the Collection."""
    n, c, length = vals.shape
    if n == 0:
        raise ValueError(f"{what} is empty: it contains no series")
    if c == 0:
        raise ValueError(f"{what} has no channels (shape {vals.shape})")
    if length == 0:
        raise ValueError(f"{what}: {_name(0, ids)} has zero length (shape {vals.shape})")
    inf = np.isinf(vals)
    if inf.any():
        k = int(np.flatnonzero(inf)[0])
        raise ValueError(f"{what}: {_where(k, vals.shape, None, ids)} is infinite ({float(vals.flat[k])})")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array(vals, dtype=np.float32, order="C", copy=True)
    big = np.isinf(out)
    if big.any():
        k = int(np.flatnonzero(big)[0])
        raise ValueError(
            f"{what}: {_where(k, vals.shape, None, ids)} has value {float(vals.flat[k])} outside "
            "the float32 range"
        )
    _warn_if_rounding_blurs(vals, out, what)
    observed = ~np.isnan(out).all(axis=1)  # (n, L): any channel observed at this step
    empty = ~observed.any(axis=1)
    if empty.any():
        raise ValueError(f"{what}: {_name(int(np.flatnonzero(empty)[0]), ids)} is all-NaN")
    lengths = (length - np.argmax(observed[:, ::-1], axis=1)).astype(np.int64)
    if ids is not None:
        ids = np.asarray(ids, dtype=object)
    return Collection(out, lengths, ids)


def _unmask(a):
    """A masked array's masked entries as NaN (missing), which np.asarray would drop silently,
    reading the values under the mask."""
    if not isinstance(a, np.ma.MaskedArray):
        return a
    try:
        return np.ma.filled(a.astype(np.float64), np.nan)
    except (TypeError, ValueError):  # non-numeric: the numeric check names the cell
        return np.ma.getdata(a)


def _from_array(a: np.ndarray, what: str) -> Collection:
    if a.dtype == object and a.ndim == 1 and any(isinstance(v, _SERIES_LIKE) for v in a):
        return _from_list(list(a), what)
    if a.ndim not in (2, 3):
        hint = " (for a single series use X[None, :])" if a.ndim == 1 else ""
        raise ValueError(
            f"{what} must be 2-D (n, L) or 3-D (n, C, L); got a {a.ndim}-D array of shape "
            f"{a.shape}{hint}"
        )
    if a.ndim == 2:
        a = a[:, None, :]
    return _finish(_numeric(a, what, None), what)


def _from_list(items: list, what: str, ids=None) -> Collection:
    if len(items) == 0:
        raise ValueError(f"{what} is empty: it contains no series")
    arrays = []
    for i, item in enumerate(items):
        if isinstance(item, pd.DataFrame):
            raise ValueError(
                f"{what}: {_name(i, ids)} is a DataFrame; pass arrays of shape (C, L_i) instead"
            )
        if isinstance(item, pd.Series):
            _check_time_index(item.index, f"{what}: {_name(i, ids)}")
            item = item.to_numpy()
        try:
            arr = np.asarray(_unmask(item))
        except (ValueError, TypeError) as e:
            raise ValueError(f"{what}: {_name(i, ids)} is not an array ({e})") from None
        if arr.ndim == 0:
            raise ValueError(
                f"{what}: {_name(i, ids)} is a scalar, expected an array of shape (C, L_i) "
                "or (L_i,)"
            )
        if arr.ndim > 2:
            raise ValueError(
                f"{what}: {_name(i, ids)} has {arr.ndim} dimensions (shape {arr.shape}); each "
                "series must be (C, L_i) or (L_i,)"
            )
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.shape[1] == 0:
            raise ValueError(f"{what}: {_name(i, ids)} has zero length")
        if arr.shape[0] == 0:
            raise ValueError(f"{what}: {_name(i, ids)} has no channels (shape {arr.shape})")
        if arrays and arr.shape[0] != arrays[0].shape[0]:
            raise ValueError(
                f"{what}: {_name(i, ids)} has {arr.shape[0]} channels, expected "
                f"{arrays[0].shape[0]} (as series 0)"
            )
        arrays.append(_numeric(arr, what, i, ids))
    n, c = len(arrays), arrays[0].shape[0]
    out = np.full((n, c, max(a.shape[1] for a in arrays)), np.nan, dtype=np.float64)
    for i, arr in enumerate(arrays):
        out[i, :, : arr.shape[1]] = arr
    return _finish(out, what, ids)


def _time_axis(index: pd.Index) -> pd.Index | None:
    """A series' index as a time axis (sktime's convention: numbers, dates or durations; dates
    of a time zone in UTC), or None for an index of labels (the column names of a wide table's
    row), which says nothing of order."""
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return index.tz_convert("UTC").tz_localize(None)
    kind = index.dtype.kind
    return index if kind in "iufmM" else None


def _check_time_index(index: pd.Index, where: str) -> None:
    """A series' index is its time axis; tsea reads the values by position, which is that
    axis only when it increases strictly: refuse any other."""
    index = _time_axis(index)
    if index is None:
        return
    if not index.is_monotonic_increasing:
        raise ValueError(f"{where} has an index that is not in increasing order (its time "
                         "axis); sort it (.sort_index())")
    if not index.is_unique:
        raise ValueError(f"{where} has a repeated time in its index ({index[index.duplicated()][0]}); "
                         "give each time one value")


def _check_aligned(cells, columns, what: str, row: int) -> None:
    """The channels of one nested row must share their time index (a shorter one a start of
    the longer's): read by position, a channel starting later would be moved to the start."""
    indexes = [(col, _time_axis(v.index)) for col, v in zip(columns, cells)
               if isinstance(v, pd.Series)]
    indexes = [(col, index) for col, index in indexes if index is not None]
    if len(indexes) < 2:
        return
    _, longest = max(indexes, key=lambda pair: len(pair[1]))
    for col, index in indexes:
        if not index.equals(longest[: len(index)]):
            first = next(c for c, ix in indexes if ix is longest)
            raise ValueError(
                f"{what}: nested DataFrame row {row}: column {col!r} has another time index than "
                f"column {first!r} (it starts at {index[0]}, that one at {longest[0]}); tsea "
                "reads cells by position, so the channels of a series need one index (reindex "
                "them to a common one, with NaN where a channel has no value)")


def _from_nested(df: pd.DataFrame, what: str) -> Collection:
    """sktime nested DataFrame: a row per series, a column per channel, cells are series."""
    items = []
    for i in range(df.shape[0]):
        cells = []
        for j, col in enumerate(df.columns):
            v = df.iat[i, j]
            if not isinstance(v, _SERIES_LIKE):
                raise ValueError(
                    f"{what}: nested DataFrame cell (row {i}, column {col!r}) is not a series "
                    f"(got {type(v).__name__})"
                )
            if isinstance(v, pd.Series):
                _check_time_index(v.index, f"{what}: nested DataFrame cell (row {i}, column {col!r})")
            arr = np.asarray(v.to_numpy() if isinstance(v, pd.Series) else v)
            if arr.ndim != 1:
                raise ValueError(
                    f"{what}: nested DataFrame cell (row {i}, column {col!r}) has shape "
                    f"{arr.shape}, expected a 1-D series"
                )
            cells.append(_numeric(arr, what, i))
        _check_aligned([df.iat[i, j] for j in range(df.shape[1])], df.columns, what, i)
        series = np.full((len(cells), max(len(x) for x in cells)), np.nan)
        for j, x in enumerate(cells):  # channels of unequal length: NaN after the shorter ones
            series[j, : len(x)] = x
        items.append(series)
    return _from_list(items, what, ids=df.index.to_numpy(dtype=object))


def _from_long(inst, time, values: pd.DataFrame, what: str) -> Collection:
    """Long format: one row per (series, time step), one column per channel."""
    if values.shape[1] == 0:
        raise ValueError(f"{what}: long-format data has no channel columns besides id and time")
    from .csv_io import LABEL_NAMES  # csv_io imports this module

    for name in LABEL_NAMES:
        if name in values.columns:  # it would be read as a channel: the answer fed as input
            raise ValueError(
                f"{what}: column {name!r} would be read as a channel, but its name is the one "
                "tsea's files give labels and targets. Labels go in y, one per series: drop "
                "the column from X (or rename it, if it is a channel)")
    inst = np.asarray(inst, dtype=object)
    time = pd.Series(np.asarray(time)).reset_index(drop=True)
    for name, col in (("id", pd.Series(inst)), ("time", time)):
        missing = col.isna().to_numpy()
        if missing.any():
            raise ValueError(f"{what}: the {name} column is missing in row {np.argmax(missing)}")
    if pd.api.types.infer_dtype(time, skipna=False) == "string":
        # text (pd.read_csv(dtype=str)) is read as the CSV reader reads it, never ordered as
        # text ("10" before "2"): numbers or ISO 8601 dates, anything else is refused
        from .csv_io import _time_values  # csv_io imports this module

        time = pd.Series(_time_values(what, time.to_numpy(dtype=object), np.arange(len(time))))
    codes, uniques = pd.factorize(inst, sort=False)  # series in order of first appearance
    keys = pd.DataFrame({"code": codes, "time": time})
    dup = keys.duplicated().to_numpy()
    if dup.any():
        r = int(np.argmax(dup))
        raise ValueError(
            f"{what}: duplicate (id, time) = ({inst[r]!r}, {time.iloc[r]!r}) in row {r}"
        )
    cols = []
    for j, col in enumerate(values.columns):
        s = values.iloc[:, j]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            cols.append(s.to_numpy(dtype=np.float64, na_value=np.nan))
            continue
        try:
            cols.append(_to_float(s.to_numpy(dtype=object)))
        except _NonNumeric as e:
            raise ValueError(
                f"{what}: {_name(int(codes[e.index]), uniques)}, column {col!r} (row {e.index}) "
                f"has {e.detail}"
            ) from None
    vals = np.stack(cols, axis=1)  # (rows, C)
    try:
        order = keys.sort_values(["code", "time"], kind="stable").index.to_numpy()
    except TypeError as e:
        raise ValueError(f"{what}: the time column can not be ordered ({e})") from None
    sorted_codes = codes[order]
    counts = np.bincount(codes, minlength=len(uniques))
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(order)) - starts[sorted_codes]
    out = np.full((len(uniques), vals.shape[1], counts.max()), np.nan, dtype=np.float64)
    out[sorted_codes, :, pos] = vals[order]
    return _finish(out, what, ids=np.asarray(uniques, dtype=object))


def _long_layout(df: pd.DataFrame) -> str | None:
    """How a DataFrame holds a long table: "multiindex" ((instance, time) index levels),
    "columns" (``id`` and ``time`` columns), or None (not long: nested, or refused)."""
    if isinstance(df.index, pd.MultiIndex):
        return "multiindex"
    if "id" in df.columns and "time" in df.columns:
        return "columns"
    return None


def series_index(df: pd.DataFrame, ids) -> pd.Index:
    """An index with one entry per series of ``df``, in :func:`to_collection`'s order: a long
    table's ``ids`` (its Collection's), named after its id column or first index level; a
    nested DataFrame's own index."""
    layout = _long_layout(df)
    if layout == "multiindex":
        return pd.Index(ids, name=df.index.names[0])
    if layout == "columns":
        return pd.Index(ids, name="id")
    return df.index


def _from_dataframe(df: pd.DataFrame, what: str) -> Collection:
    if df.shape[0] == 0:
        raise ValueError(f"{what} is empty: the DataFrame has no rows")
    layout = _long_layout(df)
    if layout == "multiindex":
        if df.index.nlevels != 2:
            raise ValueError(
                f"{what}: a MultiIndex DataFrame must have 2 levels (instance, time), got "
                f"{df.index.nlevels}"
            )
        return _from_long(df.index.get_level_values(0), df.index.get_level_values(1), df, what)
    if layout == "columns":
        channels = df.drop(columns=["id", "time"])
        return _from_long(df["id"], df["time"], channels, what)
    if df.shape[1] > 0 and isinstance(df.iat[0, 0], _SERIES_LIKE):
        return _from_nested(df, what)
    # A wide table (a row per series, a column per step) is not read as such: a long table
    # whose id/time columns are named otherwise looks the same and would be misread silently.
    wide = df.shape[1] > 1 and all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes)
    hint = (
        "; for a wide table (a row per series, a column per step) pass df.to_numpy()"
        if wide else ""
    )
    raise ValueError(
        f"{what}: a DataFrame must be long format (columns 'id', 'time' and one column per "
        "channel), have a 2-level (instance, time) MultiIndex, or be an sktime nested "
        f"DataFrame (cells are pd.Series); got columns {list(df.columns)[:6]}{hint}"
    )


def from_padded(a: np.ndarray, *, what: str = "X", ids=None) -> Collection:
    """A Collection from an (n, C, L) array already NaN-padded; ``ids`` go into messages."""
    a = np.asarray(a)
    if a.ndim != 3:
        raise ValueError(f"{what} must be a 3-D (n, C, L) array, got shape {a.shape}")
    try:
        vals = _to_float(a)
    except _NonNumeric as e:
        raise ValueError(f"{what}: {_where(e.index, a.shape, None, ids)} has {e.detail}") from None
    return _finish(vals, what, ids)


def to_collection(X, *, what: str = "X") -> Collection:
    """Convert any accepted input form to a `Collection`; ValueError naming the problem otherwise.

    ``what`` names the input in error messages (e.g. ``"X"``, ``"X_test"``).
    """
    if isinstance(X, Collection):
        return X
    if isinstance(X, pd.DataFrame):
        return _from_dataframe(X, what)
    if isinstance(X, pd.Series):
        if len(X) and all(isinstance(v, _SERIES_LIKE) for v in X):
            # a column of series (e.g. a nested DataFrame's one channel): ids from its index
            return _from_list(list(X), what, ids=X.index.to_numpy(dtype=object))
        raise ValueError(
            f"{what} is a pandas Series of numbers (one series); wrap it in a list or pass an "
            "array"
        )
    if isinstance(X, (list, tuple)):
        return _from_list(list(X), what)
    if isinstance(X, (str, bytes, dict)) or not (
        isinstance(X, np.ndarray) or hasattr(X, "__array__")
    ):
        raise ValueError(
            f"{what} must be an array (n, C, L) or (n, L), a list of (C, L_i) arrays or a "
            f"pandas DataFrame; got {type(X).__name__}"
        )
    try:
        a = np.asarray(_unmask(X))
    except (ValueError, TypeError, RuntimeError) as e:
        raise ValueError(f"{what} could not be converted to an array ({e})") from None
    return _from_array(a, what)

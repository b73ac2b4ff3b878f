"""Target validation for the supervised estimators: class labels and regression targets."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

_NON_CLASS_TARGETS = (
    "continuous",
    "continuous-multioutput",
    "multilabel-indicator",
    "multiclass-multioutput",
)


def _check_length(y: np.ndarray, n_series: int) -> None:
    if y.shape[0] != n_series:
        raise ValueError(f"y has {y.shape[0]} entries but X has {n_series} series")


def _where(bad: np.ndarray) -> str:
    """Where a boolean mask over y is true: the first position and how many there are."""
    positions = np.flatnonzero(bad)
    return f"at y[{positions[0]}] ({positions.size} of {bad.size} entries)"


def _label_key(value):
    """Order of mixed-type labels: numbers (by value), then strings, then anything else (repr)."""
    if isinstance(value, numbers.Real):
        return (0, float(value), "")
    if isinstance(value, str):
        return (1, 0.0, value)
    return (2, 0.0, repr(value))


def _is_missing(value) -> bool:
    if value is None:
        return True
    return isinstance(value, numbers.Real) and value != value  # NaN


def encode_labels(y, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate class labels; return ``(classes_, y_index)``.

    ``classes_`` is sorted (``np.unique``) when the labels are mutually comparable. Mixed labels
    that numpy cannot sort (e.g. ``[1, "a"]``) are ordered numbers first (by value), then strings
    (alphabetically), then any other object (by ``repr``); ``classes_`` is then an object array.
    """
    y = column_or_1d(y, warn=True)
    _check_length(y, n_series)
    if y.dtype.kind == "f":
        if np.isnan(y).any():
            raise ValueError(f"y contains NaN labels, {_where(np.isnan(y))}")
        if np.isinf(y).any():
            raise ValueError(f"y contains infinite labels, {_where(np.isinf(y))}")
    elif y.dtype == object:
        missing = np.fromiter((_is_missing(v) for v in y), dtype=bool, count=y.shape[0])
        if missing.any():
            raise ValueError(f"y contains missing labels (None or NaN), {_where(missing)}")
    try:
        kind = type_of_target(y)
    except (TypeError, ValueError):  # e.g. mixed labels that numpy cannot sort
        kind = "unknown"
    if kind in _NON_CLASS_TARGETS:
        raise ValueError(f"Unknown label type: {kind!r}; EAClassifier needs class labels")
    try:
        classes, y_index = np.unique(y, return_inverse=True)
    except TypeError:
        values = y.tolist()
        ordered = sorted(set(values), key=_label_key)
        classes = np.empty(len(ordered), dtype=object)
        classes[:] = ordered
        lookup = {v: i for i, v in enumerate(ordered)}
        y_index = np.array([lookup[v] for v in values], dtype=np.int64)
    if classes.shape[0] < 2:
        only = classes[0].item() if isinstance(classes[0], np.generic) else classes[0]
        raise ValueError(
            f"y has a single class ({only!r}); a classifier needs at least 2 classes "
            "(Classifier can't train when only one class is present.)"
        )
    return classes, np.asarray(y_index, dtype=np.int64).ravel()


def check_targets(y, n_series: int) -> np.ndarray:
    """Validate regression targets: 1-D, numeric, finite; return float64 (n,)."""
    y = column_or_1d(y, warn=True)
    _check_length(y, n_series)
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("y must be numeric for a regressor") from None
    if not np.isfinite(y).all():
        raise ValueError(f"y contains NaN or infinite values, {_where(~np.isfinite(y))}")
    return y

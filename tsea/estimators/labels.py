"""Target validation for the supervised estimators: class labels and regression targets."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from tsea.params import plain_value

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
    """None, NaN, and pandas' missing markers (``pd.NA``, ``pd.NaT``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, numbers.Real) and value != value  # NaN


def check_no_missing_labels(y: np.ndarray) -> None:
    """ValueError naming the first NaN, infinite or missing (None, pd.NA) label of 1-D ``y``:
    for fit they are no class, and for ``score`` they would count as wrong predictions."""
    if y.dtype.kind == "f":
        if np.isnan(y).any():
            raise ValueError(f"y contains NaN labels, {_where(np.isnan(y))}")
        if np.isinf(y).any():
            raise ValueError(f"y contains infinite labels, {_where(np.isinf(y))}")
    elif y.dtype == object:
        missing = np.fromiter((_is_missing(v) for v in y), dtype=bool, count=y.shape[0])
        if missing.any():
            raise ValueError(f"y contains missing labels (None, NaN or pd.NA), {_where(missing)}")


def encode_labels(y, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate class labels; return ``(classes_, y_index)``.

    ``classes_`` is sorted (``np.unique``) when the labels are mutually comparable. Mixed labels
    that numpy cannot sort (e.g. ``[1, "a"]``) are ordered numbers first (by value), then strings
    (alphabetically), then any other object (by ``repr``); ``classes_`` is then an object array.
    """
    y = column_or_1d(y, warn=True)
    _check_length(y, n_series)
    check_no_missing_labels(y)
    try:
        kind = type_of_target(y)
    except (TypeError, ValueError):  # e.g. mixed labels that numpy cannot sort
        kind = "unknown"
    if kind in _NON_CLASS_TARGETS:
        raise ValueError(f"Unknown label type: {kind!r}; EAClassifier needs class labels")
    _check_bools_apart(y)
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
        only = plain_value(classes[0])
        raise ValueError(
            f"y has a single class ({only!r}); a classifier needs at least 2 classes "
            "(Classifier can't train when only one class is present.)"
        )
    return classes, np.asarray(y_index, dtype=np.int64).ravel()


def _check_bools_apart(y: np.ndarray) -> None:
    """Refuse labels holding both True (False) and the number 1 (0): Python and numpy treat
    them as one value, so their series would silently become one class."""
    if y.dtype != object:
        return
    values = y.tolist()
    flags = {bool(v) for v in values if isinstance(v, bool | np.bool_)}
    plain = {v for v in values if isinstance(v, numbers.Number) and not isinstance(v, bool | np.bool_)}
    for flag in sorted(flag for flag in flags if flag in plain):
        raise ValueError(f"y holds both {flag!r} and the number {int(flag)}, which Python counts "
                         "as one label; give the labels one type (e.g. all text)")


def check_targets(y, n_series: int) -> np.ndarray:
    """Validate regression targets: 1-D, numeric, finite; return float64 (n,)."""
    y = column_or_1d(y, warn=True)
    _check_length(y, n_series)
    if y.dtype.kind in "mM":  # they cast to nanosecond counts, which no one means as targets
        raise ValueError(f"y holds {'dates' if y.dtype.kind == 'M' else 'durations'} "
                         f"({y.dtype}); a regressor needs numbers (e.g. durations in seconds)")
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("y must be numeric for a regressor") from None
    if not np.isfinite(y).all():
        raise ValueError(f"y contains NaN or infinite values, {_where(~np.isfinite(y))}")
    return y


def class_weight_by_index(class_weight, classes: np.ndarray):
    """``class_weight`` for a head fitted on class indices (``y_index`` of :func:`encode_labels`).

    None and ``"balanced"`` pass through (the weights depend only on the counts). A dict keyed
    by class labels becomes one keyed by each class's index; a class it does not name weighs 1,
    as in scikit-learn. A key that names no class of ``y``, or a weight that is not a finite
    number >= 0, is a ValueError: a misspelt label must not silently weigh nothing.
    """
    if not isinstance(class_weight, dict):
        return class_weight
    plain = [plain_value(c) for c in classes]
    by_index, unknown = {}, []
    for key, weight in class_weight.items():
        named = [i for i, c in enumerate(plain) if _same_label(key, c)]
        if not named:
            unknown.append(key)
        for i in named:
            by_index[i] = _check_weight(key, weight)
    if unknown:
        raise ValueError(
            f"class_weight names {len(unknown)} label(s) that are not classes of y: "
            f"{sorted(map(repr, unknown))}; the classes are {plain}"
        )
    if by_index and len(by_index) == len(plain) and not any(by_index.values()):
        raise ValueError("class_weight gives every class the weight 0: the head would learn nothing")
    return by_index


def _same_label(key, label) -> bool:
    """The dict key ``key`` names class ``label``; 1 and 1.0 do, 1 and "1" or True do not."""
    if isinstance(key, (bool, np.bool_)) != isinstance(label, (bool, np.bool_)):
        return False
    try:
        return bool(key == label) and isinstance(key, str) == isinstance(label, str)
    except (TypeError, ValueError):
        return False


def _check_weight(key, weight) -> float:
    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
        raise ValueError(f"class_weight[{key!r}] must be a number, got {weight!r}")
    if not (np.isfinite(weight) and weight >= 0):
        raise ValueError(f"class_weight[{key!r}] must be finite and >= 0, got {weight!r}")
    return float(weight)


def _kind(label) -> str:
    if isinstance(label, str):
        return "text"
    if isinstance(label, (numbers.Number, np.number, bool, np.bool_)):
        return "numbers"
    return type(label).__name__


def check_label_kinds(y: np.ndarray, classes: np.ndarray) -> None:
    """ValueError when ``y`` holds labels of a kind (text, numbers, ...) that no class has:
    ``score`` would count every one of them wrong, as scikit-learn's ``accuracy_score`` refuses
    to. The usual cause is a model trained on labels read from a file as text (``'1'``), scored
    with integer labels (``1``)."""
    have = {_kind(plain_value(c)) for c in classes}
    extra = {_kind(plain_value(v)) for v in y} - have
    if extra:
        shown = ", ".join(repr(plain_value(c)) for c in classes[:5]) + (", ..." if len(classes) > 5 else "")
        raise ValueError(
            f"y holds labels of another kind ({', '.join(sorted(extra))}) than the classifier's "
            f"classes ({', '.join(sorted(have))}: {shown}); convert y to the classes' type "
            "(e.g. y.astype(str) for a model trained from a CSV file)"
        )

"""The range of values the network may see, and the normalisation statistics behind it.

The encoder computes in float32 (largest value about 3.4e38) and squares its activations in
two places: layer-norm variances and attention logits (a query times a key). Squares overflow
once an activation passes sqrt(3.4e38) = 1.8e19, and the network turns the overflow into NaN
embeddings. Measured (issue #18, normalize=None, value magnitudes 1e14 to 1e21 in steps of
10**0.5, one large value in a series or all values large): the embeddings of the default
encoder (d_model 64, evolving, vanilla or no attention) first became NaN at 1e20, those of a
d_model=256 encoder at 10**19.5 = 3.2e19, i.e. right where squares overflow. tsea therefore
refuses, in fit as well as in transform and attention maps, any value whose magnitude after
normalisation exceeds :data:`MAX_NETWORK_INPUT` = 1e15: 10**4.5 below the smallest measured
overflow (room for trained weights larger than the ones measured, and for sums over d_model
channels), yet far beyond any z-score (normalised data are of order 1) or raw measurement in
ordinary units. As a last guard, an embedding that is not finite raises a ValueError naming
the series instead of being returned.

Statistics are computed in float64 from the float32 data: squares of float32 values overflow
float32 (numpy's ``nanstd(..., dtype=float64)`` squares in the input's dtype), float64 holds
them.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "MAX_NETWORK_INPUT",
    "append_differences",
    "channel_stats",
    "check_embeddings",
    "check_network_input",
    "series_normalize",
]

#: Largest magnitude of a value fed to the network (after normalisation).
MAX_NETWORK_INPUT = 1e15
#: A channel counts as constant (std taken as 1) when its std is at most this share of its
#: largest magnitude: the spread of rounding, not of signal. Relative, so that data in any
#: unit (1e-9 as well as 1e9) is normalised alike.
_CONSTANT_SPREAD = 1e-12


def append_differences(X: np.ndarray) -> np.ndarray:
    """(n, C, L) ``X`` -> (n, 2C, L) float32: ``X``, then each channel's first differences
    ``x[t] - x[t-1]`` (taken in float64; 0 at the first step; NaN where either step is NaN, so
    the padding past a series' end stays padding)."""
    X64 = np.asarray(X, dtype=np.float64)
    diff = np.zeros_like(X64)
    np.subtract(X64[:, :, 1:], X64[:, :, :-1], out=diff[:, :, 1:])
    return np.concatenate([X64, diff], axis=1).astype(np.float32)


def channel_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over the observed values of (n, C, L) ``X`` (float32 each);
    unobserved channels get mean 0, constant ones std 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channels handled below
        X64 = np.asarray(X, dtype=np.float64)
        mean = np.nanmean(X64, axis=(0, 2))
        std = np.nanstd(X64, axis=(0, 2))
        scale = np.nanmax(np.abs(X64), axis=(0, 2))
    mean = np.where(np.isfinite(mean), mean, 0.0)
    return mean.astype(np.float32), _std_or_one(std, scale).astype(np.float32)


def _std_or_one(std: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``std``, with 1 where it is not finite (an unobserved channel) or is too small a share
    of ``scale`` (the largest magnitude) to be more than rounding (a constant channel)."""
    with np.errstate(invalid="ignore"):
        varies = np.isfinite(std) & (std > _CONSTANT_SPREAD * scale)
    return np.where(varies, std, 1.0)


def series_normalize(X: np.ndarray) -> np.ndarray:
    """Per-series, per-channel z-normalisation of (n, C, L) ``X``, in float64, as float32."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a channel unobserved in a series
        X64 = np.asarray(X, dtype=np.float64)
        mean = np.nanmean(X64, axis=2, keepdims=True)
        std = np.nanstd(X64, axis=2, keepdims=True)
        scale = np.nanmax(np.abs(X64), axis=2, keepdims=True)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    return ((X64 - mean) / _std_or_one(std, scale)).astype(np.float32)


def _name(i: int, ids) -> str:
    return f"series {i}" if ids is None else f"series {i} (id {ids[i]!r})"


def check_network_input(
    Z: np.ndarray, X: np.ndarray, ids=None, *, what: str = "X", rows=None
) -> np.ndarray:
    """Return ``Z`` (the normalised (n, C, L) input) unless a value exceeds
    :data:`MAX_NETWORK_INPUT` in magnitude; ValueError naming series, channel and step (with the
    original value from ``X``) otherwise. NaN (missing) is fine.

    ``rows``: when ``Z`` and ``X`` hold a batch of a larger collection, the positions of their
    series in it (the message names that position, and ``ids`` are the collection's)."""
    with np.errstate(invalid="ignore"):
        big = np.abs(Z) > MAX_NETWORK_INPUT
    if big.any():
        i, c, t = (int(v[0]) for v in np.nonzero(big))
        k = i if rows is None else int(rows[i])
        # Channels past X's are first differences (append_differences): name their source.
        n_in = X.shape[1]
        if c < n_in:
            where, raw = f"channel {c}", float(X[i, c, t])
            advice = "rescale the data or use normalize='series'"
        else:  # a difference can overflow float32 before any normalisation can shrink it
            where = f"the first difference of channel {c - n_in}"
            raw = float(append_differences(X[i : i + 1])[0, c, t])
            advice = "rescale the data or use differences=False"
        raise ValueError(
            f"{what}: {_name(k, ids)}, {where}, step {t} has value {raw:g}, "
            f"{float(Z[i, c, t]):g} after normalisation; tsea accepts at most "
            f"{MAX_NETWORK_INPUT:g} in magnitude (larger values overflow float32 inside the "
            f"network); {advice}"
        )
    return Z


def check_embeddings(out: np.ndarray, lengths=None, ids=None, *, what: str = "X") -> np.ndarray:
    """Return ``out`` ((n, D) or (n, L, D) with NaN past each length) unless an embedding of a
    valid step is not finite: ValueError naming the first such series."""
    if out.ndim == 3:
        valid = np.arange(out.shape[1])[None, :] < np.asarray(lengths)[:, None]
        bad = (~np.isfinite(out) & valid[:, :, None]).any(axis=(1, 2))
    else:
        bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{what}: the embedding of {_name(i, ids)} is not finite (NaN or infinite): the "
            "values overflowed inside the network; rescale the data"
        )
    return out

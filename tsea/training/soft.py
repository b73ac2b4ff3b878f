"""Soft targets for the contrastive loss: SoftCLT (Lee et al., "Soft Contrastive Learning for
Time Series", ICLR 2024).

TS2Vec's loss gives each anchor one positive (the same step of the other view) and treats every
other item as a negative. SoftCLT weights the other items instead:

- instance-wise, series ``i`` and ``j`` of the batch get the weight
  ``w_ij = 2 a sigmoid(-tau_I D_ij)`` (``a = SOFT_ALPHA``), where ``D`` is the DTW distance
  between the two training series, min-max scaled to [0, 1] per column over the training set
  (the diagonal is first set to the smallest off-diagonal distance, so it scales to 0); the
  positive keeps weight 1;
- temporally, steps ``t`` and ``t'`` of a series get ``2 sigmoid(-tau_T 2**d |t - t'|)`` at
  level ``d`` of the hierarchy (each level max-pools time by 2, so the lag in original steps
  grows with ``2**d``); weights below ``1e-6`` are dropped.

``soft_scope="batch"`` (tsea's bounded form, not the paper's) takes ``D`` among the series of
each batch only and min-max scales it over the batch, so no (n, n) matrix is built and the
cost is O(B^2 L^2) per step.

The loss of an anchor is ``-sum_j w_j log p_j`` over the other ``2N - 1`` items of its group,
so with every off-diagonal weight 0 it is TS2Vec's loss (a test checks this).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["SOFT_ALPHA", "dtw_batch", "dtw_matrix", "instance_weights", "temporal_weights"]

#: Upper bound of an instance-wise weight (SoftCLT's alpha; its experiments use 0.5).
SOFT_ALPHA = 0.5


def _valid_parts(X: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Each series' valid part as float64 (C, n_i), missing values inside it read as 0."""
    return [np.nan_to_num(X[i, :, : int(n)]).astype(np.float64) for i, n in enumerate(lengths)]


def dtw_matrix(X: np.ndarray, lengths: np.ndarray, n_jobs: int = 1) -> np.ndarray:
    """(n, n) DTW distances between the valid parts of the series of ``X`` (n, C, L), NaN-padded
    to ``lengths``; missing values inside a series count as 0 (as the encoder reads them).
    Full DTW (aeon, on ``n_jobs`` threads; the pairs are independent, so the result does not
    depend on it): O(n^2 L^2) time, computed once per fit."""
    from aeon.distances import dtw_pairwise_distance

    series = _valid_parts(X, lengths)
    if len({s.shape[1] for s in series}) == 1:
        series = np.stack(series)
    return np.asarray(dtw_pairwise_distance(series, n_jobs=int(n_jobs)), dtype=np.float64)


def dtw_batch(X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """:func:`dtw_matrix` for the few series of one batch, pair by pair on the calling thread.
    aeon's pairwise kernel is a numba parallel loop; called between torch's steps it made the
    first fit of a process several times slower (BENCHMARKS.md, 2026-12-04), so the batch
    form keeps to serial numba calls."""
    from aeon.distances import dtw_distance

    series = _valid_parts(X, lengths)
    d = np.zeros((len(series), len(series)))
    for i in range(len(series)):
        for j in range(i + 1, len(series)):
            d[i, j] = d[j, i] = dtw_distance(series[i], series[j])
    return d


def instance_weights(distances: np.ndarray, tau: float, alpha: float = SOFT_ALPHA) -> np.ndarray:
    """SoftCLT's instance-wise weights (module docstring) from a symmetric (n, n) distance matrix;
    float32, 1 on the diagonal."""
    d = np.array(distances, dtype=np.float64)
    n = d.shape[0]
    if d.shape != (n, n) or not np.isfinite(d).all():
        raise ValueError(f"distances must be a finite square matrix, got shape {d.shape}")
    if n > 1:
        off = ~np.eye(n, dtype=bool)
        np.fill_diagonal(d, d[off].min())
        span = np.ptp(d, axis=0)  # a constant column scales to 0, as in MinMaxScaler
        d = (d - d.min(axis=0)) / np.where(span > 0, span, 1.0)
    w = 2.0 * alpha / (1.0 + np.exp(tau * d))
    np.fill_diagonal(w, 1.0)
    return w.astype(np.float32)


def temporal_weights(length: int, tau: float, *, device=None) -> Tensor:
    """(length, length) SoftCLT temporal weights ``2 sigmoid(-tau |t - t'|)``, 1 on the diagonal,
    values below 1e-6 set to 0."""
    steps = torch.arange(length, device=device, dtype=torch.float32)
    w = 2.0 * torch.sigmoid(-tau * (steps[:, None] - steps[None, :]).abs())
    return w.masked_fill(w < 1e-6, 0.0)

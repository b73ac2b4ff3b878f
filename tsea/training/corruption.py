"""Random corruption masks of the pre-training objectives (which values or steps to hide).

* :func:`geometric_noise_mask` -- the masks of Zerveas et al. (KDD 2021): for every series and
  every channel independently, a two-state Markov chain over time whose masked runs have a
  geometric length of mean ``mean_length`` and whose stationary masked fraction is ``ratio``.
* :func:`timestamp_keep_mask` -- TS2Vec's (AAAI 2022) binomial timestamp masking of the input
  projection: every step is kept independently with probability ``1 - p``.

All draws come from an explicit :class:`torch.Generator` so that training is reproducible.
"""

from __future__ import annotations

import math

import torch

__all__ = ["geometric_noise_mask", "timestamp_keep_mask"]


def _geometric(shape, p: float, generator: torch.Generator) -> torch.Tensor:
    """Draws of a geometric law on {1, 2, ...} with success probability ``p`` (mean 1/p)."""
    if p >= 1.0:
        return torch.ones(shape, dtype=torch.long)
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    u = u.clamp_min(torch.finfo(torch.float64).tiny)
    # Inverse CDF: P(K > k) = (1 - p)^k  =>  K = floor(log(u) / log(1 - p)) + 1.
    return torch.floor(torch.log(u) / math.log1p(-p)).long() + 1


def geometric_noise_mask(
    n_series: int,
    n_channels: int,
    length: int,
    *,
    ratio: float = 0.15,
    mean_length: float = 3.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Zerveas et al. geometric noise mask; returns a bool tensor (n_series, n_channels, length).

    ``True`` marks a *masked* position. Each (series, channel) row is a stationary two-state
    Markov chain: a masked run ends with probability ``1 / mean_length`` at each step and an
    unmasked run ends with probability ``ratio / ((1 - ratio) * mean_length)``, so masked runs
    have mean length ``mean_length`` and the expected masked fraction is ``ratio``.

    Implemented by drawing whole runs (geometric lengths, alternating states, first state
    masked with probability ``ratio``), which is the same law as stepping the chain.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask ratio must be in [0, 1), got {ratio!r}")
    if not mean_length >= 1.0:
        raise ValueError(f"mean masked-run length must be >= 1, got {mean_length!r}")
    if min(n_series, n_channels, length) < 0:
        raise ValueError(f"mask shape must be non-negative, got {(n_series, n_channels, length)}")
    shape = (n_series, n_channels, length)
    if ratio == 0.0 or 0 in shape:
        return torch.zeros(shape, dtype=torch.bool)
    p_masked_end = 1.0 / mean_length
    p_unmasked_end = p_masked_end * ratio / (1.0 - ratio)
    rows = n_series * n_channels
    # Each run covers >= 1 step, so `length` runs always cover the whole row.
    n_runs = length
    starts_masked = torch.rand(rows, generator=generator) < ratio
    masked_runs = _geometric((rows, n_runs), p_masked_end, generator)
    unmasked_runs = _geometric((rows, n_runs), min(p_unmasked_end, 1.0), generator)
    # Run k is masked iff (k even) == starts_masked.
    even_masked = starts_masked[:, None]
    even_len = torch.where(even_masked, masked_runs, unmasked_runs)
    odd_len = torch.where(even_masked, unmasked_runs, masked_runs)
    runs = torch.stack([even_len, odd_len], dim=2).reshape(rows, 2 * n_runs)
    ends = torch.cumsum(runs, dim=1)  # exclusive end of each run
    steps = torch.arange(length).expand(rows, length).contiguous()
    run_index = torch.searchsorted(ends, steps, right=True)
    masked = (run_index % 2 == 0) == even_masked
    return masked.reshape(shape)


def timestamp_keep_mask(
    n_series: int, length: int, *, p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    """TS2Vec binomial timestamp mask: bool (n_series, length), ``True`` = keep the step's input
    projection; each step is masked independently with probability ``p``."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"timestamp mask probability must be in [0, 1), got {p!r}")
    return torch.rand((n_series, length), generator=generator) >= p

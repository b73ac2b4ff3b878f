"""Validity masks, masked pooling over time, and mask-aware token pooling for attention.

Conventions: ``x`` is (B, C, L); a *valid* step is one where at least one channel is observed
(not NaN) and which lies before the series' length. Everything computed over time (pooled
embeddings, pooled attention tokens) uses valid steps only, so padding can never leak.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from tsea.params import POOLINGS

__all__ = [
    "valid_mask",
    "pool",
    "pooled_dim",
    "attention_stride",
    "pool_tokens",
    "upsample_tokens",
]



def _check_lengths(lengths: Tensor, batch: int) -> Tensor:
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"lengths must have shape ({batch},) to match the batch, got {tuple(lengths.shape)}"
        )
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must be an integer tensor, got dtype {lengths.dtype}")
    if bool((lengths < 0).any()):
        raise ValueError("lengths must be non-negative")
    return lengths


def valid_mask(x: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Boolean (B, L) mask of valid steps: any channel observed and ``t < lengths[b]``."""
    if x.dim() != 3:
        raise ValueError(f"x must have shape (batch, channels, length), got {tuple(x.shape)}")
    mask = ~torch.isnan(x).all(dim=1)
    if lengths is not None:
        lengths = _check_lengths(lengths, x.shape[0]).to(x.device)
        steps = torch.arange(x.shape[-1], device=x.device)
        mask = mask & (steps.unsqueeze(0) < lengths.unsqueeze(1))
    return mask


def pool(H: Tensor, mask: Tensor, how: str = "max") -> Tensor:
    """Pool per-step representations (B, L, D) to (B, D) over valid steps only.

    ``how`` is "max", "mean", "last" (the last valid step) or "max+mean" (the max- and
    mean-pooled vectors concatenated: (B, 2 * D)). A series without any valid step is an error
    (its embedding would be undefined).
    """
    if how not in POOLINGS:
        raise ValueError(f"how must be one of {POOLINGS}, got {how!r}")
    if H.dim() != 3:
        raise ValueError(f"H must have shape (batch, length, dim), got {tuple(H.shape)}")
    if mask.shape != H.shape[:2]:
        raise ValueError(
            f"mask shape {tuple(mask.shape)} does not match H's (batch, length) {tuple(H.shape[:2])}"
        )
    mask = mask.to(torch.bool)
    counts = mask.sum(dim=1)
    if bool((counts == 0).any()):
        bad = int(torch.nonzero(counts == 0)[0, 0])
        raise ValueError(f"series {bad} has no valid step to pool over")
    m = mask.unsqueeze(-1)
    if how == "max+mean":
        return torch.cat([pool(H, mask, "max"), pool(H, mask, "mean")], dim=-1)
    if how == "max":
        return H.masked_fill(~m, float("-inf")).amax(dim=1)
    if how == "mean":
        return (H * m).sum(dim=1) / counts.unsqueeze(-1).to(H.dtype)
    steps = torch.arange(H.shape[1], device=H.device)
    last = torch.where(mask, steps, torch.full_like(steps, -1)).amax(dim=1)
    return H[torch.arange(H.shape[0], device=H.device), last]


def pooled_dim(dim: int, how: str) -> int:
    """Width of :func:`pool`'s output for per-step representations of width ``dim``."""
    if how not in POOLINGS:
        raise ValueError(f"how must be one of {POOLINGS}, got {how!r}")
    return 2 * dim if how == "max+mean" else dim


def attention_stride(mask: Tensor, max_attention_len: int) -> tuple[int, int]:
    """Return ``(stride, n_tokens)`` for attention over a batch with validity ``mask`` (B, L).

    ``Lv`` is the largest valid length in the batch (index of the last valid step + 1, over all
    series); ``stride = ceil(Lv / max_attention_len)`` and ``n_tokens = ceil(Lv / stride)`` so
    attention never sees more than ``max_attention_len`` tokens.
    """
    L = mask.shape[-1]
    any_valid = mask.any(dim=0)
    if bool(any_valid.any()):
        steps = torch.arange(L, device=mask.device)
        lv = int(steps[any_valid].max()) + 1
    else:
        lv = 1
    stride = max(1, math.ceil(lv / max_attention_len))
    return stride, math.ceil(lv / stride)


def pool_tokens(x: Tensor, mask: Tensor, stride: int, n_tokens: int) -> tuple[Tensor, Tensor]:
    """Mask-aware average pooling of (B, C, L) into (B, C, n_tokens) tokens of ``stride`` steps.

    Only valid steps contribute to a token's average; a token is valid when any of its steps is.
    Steps beyond ``n_tokens * stride`` must be invalid (guaranteed by :func:`attention_stride`).
    Returns ``(tokens, token_mask)``.
    """
    B, C, L = x.shape
    width = n_tokens * stride
    m = mask.to(x.dtype)
    if width >= L:
        x = torch.nn.functional.pad(x, (0, width - L))
        m = torch.nn.functional.pad(m, (0, width - L))
    else:
        x, m = x[..., :width], m[..., :width]
    if stride == 1:
        return x * m.unsqueeze(1), m > 0
    x = (x * m.unsqueeze(1)).reshape(B, C, n_tokens, stride).sum(-1)
    counts = m.reshape(B, n_tokens, stride).sum(-1)
    tokens = x / counts.clamp(min=1.0).unsqueeze(1)
    return tokens, counts > 0


def upsample_tokens(y: Tensor, stride: int, length: int) -> Tensor:
    """Repeat each of the (B, C, T) tokens ``stride`` times and fit to ``length`` steps
    (zero-filled beyond the tokens' coverage, cropped if they cover more)."""
    if stride > 1:
        y = y.repeat_interleave(stride, dim=-1)
    width = y.shape[-1]
    if width >= length:
        return y[..., :length]
    return torch.nn.functional.pad(y, (0, length - width))

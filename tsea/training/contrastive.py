"""Contrastive objective of TS2Vec (Yue et al., AAAI 2022), padding-aware.

For a batch of series with valid lengths ``T_i``:

1. one overlap length ``l`` is drawn for the batch, uniformly in ``[min(2, m), m]`` with
   ``m = min_i T_i``; for each series an overlap start ``s_i`` is drawn inside its own valid
   range, then a first view ``[a_i, s_i + l)`` with ``a_i`` uniform in ``[0, s_i]`` and a second
   view ``[s_i, b_i)`` with ``b_i`` uniform in ``[s_i + l, T_i]`` -- crops never reach padding;
2. each view is encoded with random timestamp masking of the input projection (``proj_mask``,
   every step dropped with probability 0.5);
3. the hierarchical loss is computed on the ``l`` overlapping steps: instance-wise contrast
   (the same step of the other series in the batch are negatives) and temporal contrast (the
   other steps of the same series are negatives), repeated after max-pooling the time axis by 2
   until one step is left, and averaged over the levels.

Similarities are plain dot products, as in the paper. Missing (all-NaN) steps inside a crop are
kept (the encoder zeroes them), as in TS2Vec.

That is ``crops="valid"``. With unequal lengths its overlap is at most as long as the batch's
shortest series. ``crops="canvas"`` draws as TS2Vec does: each series is centred in the batch's
width ``W`` (padding on both sides), one overlap ``[left, left + l)`` with ``l`` uniform in
``[2, W]`` and one pair of extensions are drawn for the batch, and every series is shifted by its
own offset so that both views stay inside ``[0, W)``. The views may then hold padding steps,
which the loss includes, as TS2Vec's does, and which the encoder treats as invalid: every
same-padded convolution reads them as zeros. ``crops="ts2vec"`` draws the same views and feeds
them as TS2Vec feeds its own (:func:`ts2vec_input`): every all-NaN step, padding or missing, is
an observed step of zeros whose input projection is masked, so its hidden state is carried by the
convolutions like any other. That is how ``readout="canvas"`` reads the padding past a series.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .corruption import timestamp_keep_mask
from .soft import temporal_weights

__all__ = [
    "hierarchical_contrastive_loss",
    "contrastive_loss",
    "draw_crops",
    "draw_canvas_crops",
    "centre",
    "draw_views",
    "ts2vec_input",
    "overlap_loss",
]


def _pair_contrast(a: Tensor, b: Tensor, weights: Tensor | None = None) -> Tensor:
    """InfoNCE within groups: a, b (G, N, D); item k of ``a`` is the positive of item k of ``b``
    and the other 2N - 2 items of the group are negatives. Returns the mean over 2GN anchors.

    ``weights`` (N, N), 1 on the diagonal: soft targets (:mod:`tsea.training.soft`); anchor k
    then scores ``-sum_j w_kj log p_j`` over item j of both views (itself excluded)."""
    n = a.shape[1]
    z = torch.cat([a, b], dim=1)  # (G, 2N, D)
    sim = z @ z.transpose(1, 2)  # (G, 2N, 2N)
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, float("-inf"))
    logp = F.log_softmax(sim, dim=-1)  # (G, 2N, 2N)
    if weights is not None:
        target = weights.to(logp.dtype).repeat(2, 2).masked_fill(eye, 0.0)
        return -(logp.masked_fill(eye, 0.0) * target).sum(-1).mean()
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    picked = logp.gather(-1, target.expand(z.shape[0], -1).unsqueeze(-1))
    return -picked.mean()


def hierarchical_contrastive_loss(
    z1: Tensor, z2: Tensor, *, alpha: float = 0.5, temporal_unit: int = 0,
    instance_weights: Tensor | None = None, temporal_tau: float | None = None,
) -> Tensor:
    """TS2Vec hierarchical loss on two aligned views z1, z2 of shape (B, T, D).

    SoftCLT (:mod:`tsea.training.soft`): ``instance_weights`` (B, B) soft instance-wise targets;
    ``temporal_tau`` soft temporal targets, sharpened by 2 at each level. None: TS2Vec's."""
    if z1.shape != z2.shape or z1.dim() != 3:
        raise ValueError(f"views must have the same (B, T, D) shape, got {z1.shape}, {z2.shape}")
    B = z1.shape[0]
    if instance_weights is not None and instance_weights.shape != (B, B):
        raise ValueError(f"instance_weights must have shape ({B}, {B}), got {tuple(instance_weights.shape)}")
    total = z1.sum() * 0.0
    levels = 0
    while True:
        T = z1.shape[1]
        if alpha != 0 and B > 1:
            total = total + alpha * _pair_contrast(
                z1.transpose(0, 1), z2.transpose(0, 1), instance_weights
            )
        if T == 1:
            levels += 1
            break
        if levels >= temporal_unit and alpha != 1:
            soft = None
            if temporal_tau is not None:
                soft = temporal_weights(T, temporal_tau * 2**levels, device=z1.device)
            total = total + (1 - alpha) * _pair_contrast(z1, z2, soft)
        levels += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), kernel_size=2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), kernel_size=2).transpose(1, 2)
    return total / levels


def _uniform_int(low: Tensor, high: Tensor, generator) -> Tensor:
    """Integers uniform in [low, high] (inclusive), elementwise."""
    u = torch.rand(low.shape, generator=generator, dtype=torch.float64)
    span = (high - low + 1).to(torch.float64)
    return low + torch.floor(u * span).long().clamp_max((high - low).clamp_min(0))


def draw_crops(lengths: Tensor, generator: torch.Generator | None = None):
    """Draw the two overlapping views; returns ``(l, a, s, b)`` (CPU long tensors of shape (B,)
    except the int ``l``): view 1 = [a, s + l), view 2 = [s, b), overlap = [s, s + l)."""
    lengths = lengths.detach().cpu().long()
    m = int(lengths.min())
    if m < 1:
        raise ValueError("every series in a contrastive batch needs at least one step")
    lo = min(2, m)
    crop = lo + int(torch.randint(m - lo + 1, (1,), generator=generator))
    zeros = torch.zeros_like(lengths)
    s = _uniform_int(zeros, lengths - crop, generator)
    a = _uniform_int(zeros, s, generator)
    b = _uniform_int(s + crop, lengths, generator)
    return crop, a, s, b


def _randint(low: int, high: int, generator) -> int:
    """One integer uniform in [low, high] (inclusive)."""
    return low + int(torch.randint(high - low + 1, (1,), generator=generator))


def draw_canvas_crops(batch: int, width: int, generator: torch.Generator | None = None):
    """TS2Vec's draws over a canvas of ``width`` steps, in :func:`draw_crops`' ``(l, a, s, b)``
    form: the same view lengths for the whole batch, a per-series offset."""
    crop = _randint(min(2, width), width, generator)
    left = _randint(0, width - crop, generator)
    eleft = _randint(0, left, generator)
    eright = _randint(left + crop, width, generator)
    low = torch.full((batch,), -eleft, dtype=torch.long)
    offset = _uniform_int(low, torch.full_like(low, width - eright), generator)
    return crop, offset + eleft, offset + left, offset + eright


def centre(x: Tensor, lengths: Tensor) -> Tensor:
    """Each series moved to the middle of the batch's width (NaN before and after it)."""
    B, C, L = x.shape
    shift = ((L - lengths.detach().cpu().long()) // 2).to(x.device)
    steps = torch.arange(L, device=x.device)
    src = steps[None, :] - shift[:, None]  # output step t holds input step t - shift
    inside = (src >= 0) & (src < lengths.to(x.device)[:, None])
    out = x.gather(2, src.clamp(0, L - 1)[:, None, :].expand(B, C, L))
    return out.masked_fill(~inside[:, None, :], float("nan"))


def _take(x: Tensor, start: Tensor, length: Tensor) -> Tensor:
    """Per-series windows x[i, :, start_i : start_i + length_i], NaN-padded to max(length)."""
    B, C, L = x.shape
    width = int(length.max())
    steps = torch.arange(width)
    idx = (start[:, None] + steps[None, :]).clamp_max(L - 1).to(x.device)
    out = x.gather(2, idx[:, None, :].expand(B, C, width))
    inside = (steps[None, :] < length[:, None]).to(x.device)
    return out.masked_fill(~inside[:, None, :], float("nan"))


def draw_views(x: Tensor, lengths: Tensor, generator=None, mask_p: float = 0.5,
               crops: str = "valid"):
    """Random crops and timestamp masks of a batch (all draws on the CPU from ``generator``).

    Returns ``(views, offset, crop)``: ``views`` is two ``(x_view, view_lengths, keep)``
    triples (NaN-padded windows, their lengths, and ``proj_mask``), ``offset`` (B,) the start of
    the overlap inside view 1 (it starts at 0 in view 2) and ``crop`` its length.
    ``crops``: "valid", "canvas" or "ts2vec" (module docstring; the views of "ts2vec" are
    those of "canvas", :func:`ts2vec_input` is applied where they enter the encoder).
    """
    if crops in ("canvas", "ts2vec"):
        x = centre(x, lengths)
        crop, a, s, b = draw_canvas_crops(x.shape[0], x.shape[2], generator)
    elif crops == "valid":
        crop, a, s, b = draw_crops(lengths, generator)
    else:
        raise ValueError(f"crops must be 'valid', 'canvas' or 'ts2vec', got {crops!r}")
    views = []
    for start, length in ((a, s + crop - a), (s, b - s)):
        v = _take(x, start, length)
        keep = timestamp_keep_mask(v.shape[0], v.shape[2], p=mask_p, generator=generator)
        views.append((v, length.to(x.device), keep.to(x.device)))
    return views, s - a, crop


def ts2vec_input(view: Tensor, keep: Tensor, crops: str) -> tuple[Tensor, Tensor]:
    """``(x, proj_mask)`` for the encoder from a view and its timestamp mask: as they are, or
    with ``crops="ts2vec"`` every all-NaN step as TS2Vec's encoder reads it (an observed step of
    zeros, its input projection masked)."""
    if crops != "ts2vec":
        return view, keep
    missing = torch.isnan(view).all(dim=1)
    return view.nan_to_num(0.0, 0.0, 0.0), keep & ~missing


def overlap_loss(z1: Tensor, z2: Tensor, offset: Tensor, crop: int, **kwargs) -> Tensor:
    """Hierarchical loss on the overlap: steps ``offset + j`` of view 1 and ``j`` of view 2."""
    steps = torch.arange(crop)
    idx = (offset[:, None] + steps[None, :]).to(z1.device)
    o1 = z1.gather(1, idx[:, :, None].expand(-1, -1, z1.shape[-1]))
    return hierarchical_contrastive_loss(o1, z2[:, :crop], **kwargs)


def contrastive_loss(
    encoder: nn.Module,
    x: Tensor,
    lengths: Tensor,
    *,
    generator: torch.Generator | None = None,
    alpha: float = 0.5,
    temporal_unit: int = 0,
    mask_p: float = 0.5,
    crops: str = "valid",
    instance_weights: Tensor | None = None,
    temporal_tau: float | None = None,
) -> Tensor:
    """TS2Vec loss of ``encoder`` on a batch ``x`` (B, C, L) NaN-padded with ``lengths`` (B,).

    Random draws (crops, timestamp masks) come from ``generator`` on the CPU.
    ``instance_weights`` / ``temporal_tau``: SoftCLT's soft targets (see
    :func:`hierarchical_contrastive_loss`).
    """
    views, offset, crop = draw_views(x, lengths, generator, mask_p, crops)
    z = []
    for v, n, keep in views:
        v, keep = ts2vec_input(v, keep, crops)
        z.append(encoder(v, lengths=n, proj_mask=keep))
    z1, z2 = z
    return overlap_loss(z1, z2, offset, crop, alpha=alpha, temporal_unit=temporal_unit,
                        instance_weights=instance_weights, temporal_tau=temporal_tau)

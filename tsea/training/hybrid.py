"""Hybrid objective: weighted sum of the masked-reconstruction and contrastive losses.

Both losses are computed on the same two encoder passes: the two TS2Vec views of each series
(random overlapping crops, timestamp masking of the input projection) additionally get
Zerveas et al. geometric value masks; the contrastive loss compares the views' representations
on their overlap and the linear head reconstructs the masked, observed values of both views
from the same representations. Value masking thus acts as one more augmentation for the
contrastive part, and a hybrid step costs about as much as a contrastive one (two passes
instead of three).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .contrastive import draw_views, overlap_loss
from .masked import mask_values, reconstruction_mse

__all__ = ["hybrid_loss"]


def hybrid_loss(
    encoder: nn.Module,
    head: nn.Module,
    x: Tensor,
    lengths: Tensor,
    *,
    weights: dict[str, float],
    ratio: float = 0.15,
    mean_length: float = 3.0,
    generator: torch.Generator | None = None,
    mask_p: float = 0.5,
) -> Tensor:
    """``weights["masked"] * MSE + weights["contrastive"] * hierarchical contrastive loss``."""
    views, offset, crop = draw_views(x, lengths, generator, mask_p)
    outs, recons, targets, originals = [], [], [], []
    for v, n, keep in views:
        v_in, target = mask_values(v, n, ratio=ratio, mean_length=mean_length, generator=generator)
        z = encoder(v_in, lengths=n, proj_mask=keep)
        outs.append(z)
        recons.append(head(z).transpose(1, 2).flatten(1))
        targets.append(target.flatten(1))
        originals.append(v.flatten(1))
    mse = reconstruction_mse(torch.cat(recons, 1), torch.cat(originals, 1), torch.cat(targets, 1))
    contrast = overlap_loss(outs[0], outs[1], offset, crop)
    return weights["masked"] * mse + weights["contrastive"] * contrast

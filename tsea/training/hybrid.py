"""Hybrid objective: weighted sum of the masked-reconstruction and contrastive losses.

Both losses are computed on the same two encoder passes over the two TS2Vec views of each
series (random overlapping crops, timestamp masking of the input projection): the contrastive
loss compares the views' representations on their overlap, and a linear head reconstructs
hidden, observed values of both views from the same representations. A hybrid step thus costs
about as much as a contrastive one (two passes instead of three).

Which values are hidden is set by ``masks``:

- ``"timestamps"``: no extra corruption. The reconstruction targets are the observed values at
  the steps that the contrastive timestamp mask (``proj_mask``) already drops from the input
  projection, so the encoder never sees them at their own step. The views the contrastive loss
  compares are exactly TS2Vec's.
- ``"values"``: the views additionally get Zerveas et al. geometric value masks (masked values
  set to 0), and the masked values are reconstructed; value masking then also acts as one more
  augmentation of the contrastive views. On the development suite of BENCHMARKS.md this made
  the embeddings of some datasets (ChlorineConcentration) nearly identical across series.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tsea.params import HYBRID_MASKS

from .contrastive import draw_views, overlap_loss, ts2vec_input
from .masked import mask_values, observed_mask, reconstruction_mse

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
    masks: str = "values",
    crops: str = "valid",
    instance_weights: Tensor | None = None,
    temporal_tau: float | None = None,
) -> Tensor:
    """``weights["masked"] * MSE + weights["contrastive"] * hierarchical contrastive loss``.

    ``masks`` chooses the reconstruction targets (module docstring); ``ratio`` and
    ``mean_length`` configure the geometric value masks of ``masks="values"`` only;
    ``instance_weights`` / ``temporal_tau``: SoftCLT's soft contrastive targets.
    """
    if masks not in HYBRID_MASKS:
        raise ValueError(f"masks must be one of {HYBRID_MASKS}, got {masks!r}")
    views, offset, crop = draw_views(x, lengths, generator, mask_p, crops)
    outs, recons, targets, originals = [], [], [], []
    for v, n, keep in views:
        if masks == "values":
            v_in, target = mask_values(v, n, ratio=ratio, mean_length=mean_length, generator=generator)
        else:
            v_in, target = v, observed_mask(v, n) & ~keep[:, None, :]
        fed, fed_keep = ts2vec_input(v_in, keep, crops)  # targets keep v's NaN: padding is no target
        z = encoder(fed, lengths=n, proj_mask=fed_keep)
        outs.append(z)
        recons.append(head(z).transpose(1, 2).flatten(1))
        targets.append(target.flatten(1))
        originals.append(v.flatten(1))
    mse = reconstruction_mse(torch.cat(recons, 1), torch.cat(originals, 1), torch.cat(targets, 1))
    contrast = overlap_loss(outs[0], outs[1], offset, crop, instance_weights=instance_weights,
                            temporal_tau=temporal_tau)
    return weights["masked"] * mse + weights["contrastive"] * contrast

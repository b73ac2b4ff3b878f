"""Masked-value reconstruction objective (Zerveas et al., KDD 2021).

Per channel geometric noise masks (:func:`tsea.training.masks.geometric_noise_mask`) hide
values, which are set to 0 before the encoder sees them; a linear head maps the per-step
representations back to the input channels; the loss is the mean squared error over the
positions that are masked AND observed -- never over padding (``t >= length``) nor over missing
(NaN) values.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .masks import geometric_noise_mask

__all__ = ["observed_mask", "masked_reconstruction_loss"]


def observed_mask(x: Tensor, lengths: Tensor) -> Tensor:
    """Bool (B, C, L): the value is not NaN and lies before the series' length."""
    steps = torch.arange(x.shape[-1], device=x.device)
    in_series = steps[None, :] < lengths.to(x.device)[:, None]
    return ~torch.isnan(x) & in_series[:, None, :]


def masked_reconstruction_loss(
    encoder: nn.Module,
    head: nn.Module,
    x: Tensor,
    lengths: Tensor,
    *,
    ratio: float = 0.15,
    mean_length: float = 3.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """MSE of the reconstruction of masked, observed values.

    ``x`` (B, C, L) float with NaN for missing values/padding, ``lengths`` (B,) long. Values at
    steps ``t >= lengths`` are ignored whatever they hold (they are replaced by NaN before the
    encoder runs). ``head`` maps (..., repr_dim) to (..., C). The mask is drawn on the CPU from
    ``generator`` so that the draws do not depend on the device.
    """
    B, C, L = x.shape
    observed = observed_mask(x, lengths)
    masked = geometric_noise_mask(
        B, C, L, ratio=ratio, mean_length=mean_length, generator=generator
    ).to(x.device)
    nan = torch.tensor(float("nan"), dtype=x.dtype, device=x.device)
    # Masked observed values -> 0 (still "observed", so a step's validity does not change);
    # everything not observed (missing values, padding) -> NaN.
    x_in = torch.where(observed, x.masked_fill(masked, 0.0), nan)
    H = encoder(x_in, lengths=lengths)  # (B, L, D)
    recon = head(H).transpose(1, 2)  # (B, C, L)
    target = masked & observed
    if not bool(target.any()):
        # Nothing to reconstruct in this batch: a zero that keeps the graph connected.
        return recon.sum() * 0.0
    diff = recon[target] - x[target]
    return (diff * diff).mean()

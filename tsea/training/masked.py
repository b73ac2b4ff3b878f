"""Masked-value reconstruction objective (Zerveas et al., KDD 2021).

Per channel geometric noise masks (:func:`tsea.training.corruption.geometric_noise_mask`) hide
values, which are set to 0 before the encoder sees them; a linear head maps the per-step
representations back to the input channels; the loss is the mean squared error over the
positions that are masked AND observed -- never over padding (``t >= length``) nor over missing
(NaN) values.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .corruption import geometric_noise_mask

__all__ = ["observed_mask", "masked_reconstruction_loss", "mask_values", "reconstruction_mse"]


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
    x_in, target = mask_values(x, lengths, ratio=ratio, mean_length=mean_length, generator=generator)
    H = encoder(x_in, lengths=lengths)  # (B, L, D)
    return reconstruction_mse(head(H).transpose(1, 2), x, target)


def mask_values(x: Tensor, lengths: Tensor, *, ratio: float, mean_length: float, generator=None):
    """Draw geometric masks for ``x`` (B, C, L); return ``(x_in, target)``.

    ``x_in``: masked observed values set to 0, everything not observed (missing values and
    steps ``t >= lengths``) set to NaN, so a step's validity is unchanged by the masking;
    ``target``: bool (B, C, L), masked AND observed positions.
    """
    B, C, L = x.shape
    observed = observed_mask(x, lengths)
    masked = geometric_noise_mask(
        B, C, L, ratio=ratio, mean_length=mean_length, generator=generator
    ).to(x.device)
    nan = torch.tensor(float("nan"), dtype=x.dtype, device=x.device)
    x_in = torch.where(observed, x.masked_fill(masked, 0.0), nan)
    return x_in, masked & observed


def reconstruction_mse(recon: Tensor, x: Tensor, target: Tensor) -> Tensor:
    """Mean squared error of ``recon`` vs ``x`` (both (B, C, L)) over the ``target`` positions."""
    if not bool(target.any()):
        # Nothing to reconstruct in this batch: a zero that keeps the graph connected.
        return recon.sum() * 0.0
    diff = recon[target] - x[target]
    return (diff * diff).mean()

"""Attention-augmented dilated causal convolution sub-layers and blocks.

A sub-layer maps x (B, C_in, L) to (B, C_out, L):
    h = concat(causal_dilated_conv(x) [C_out - d_v channels], attention(x) [d_v channels])
    out = LayerNorm_channels(residual(x) + dropout(FFN(h)))
with a position-wise feed-forward ``FFN`` (Linear, GELU, Linear over channels), ``residual`` the
identity or a 1x1 conv (per-step Linear) when channel counts differ, and LayerNorm over channels at every step (position-wise,
so padding steps cannot influence valid ones). Without attention (``attention=None``) the conv
produces all C_out channels: the plain dilated causal CNN of mode ``none``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import EvolvingAttention

__all__ = ["AttentionDilatedConv", "EADCBlock"]


class AttentionDilatedConv(nn.Module):
    """One attention-augmented dilated causal convolution sub-layer (+ FFN, residual, norm)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        attention: EvolvingAttention | None = None,
        ffn_ratio: float = 2.0,
        dropout: float = 0.0,
    ):
        super().__init__()
        d_v = attention.d_v if attention is not None else 0
        if d_v >= out_channels:
            raise ValueError(
                f"attention channels d_v={d_v} must be fewer than out_channels={out_channels}"
            )
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels - d_v, kernel_size, dilation=dilation)
        self.attention = attention
        hidden = max(1, int(round(ffn_ratio * out_channels)))
        # Position-wise layers act on (B, L, C) views: Linear maps to a plain matrix product.
        self.ffn = nn.Sequential(
            nn.Linear(out_channels, hidden),
            nn.GELU(),
            nn.Linear(hidden, out_channels),
        )
        self.residual = (
            nn.Identity() if in_channels == out_channels else nn.Linear(in_channels, out_channels)
        )
        self.norm = nn.LayerNorm(out_channels)
        self.dropout = nn.Dropout(dropout)

    def causal_conv(self, x: Tensor) -> Tensor:
        """The convolutional path alone: output at step t depends on x[..., :t+1] only."""
        return self.conv(F.pad(x, (self.left_pad, 0)))

    def forward(
        self, x: Tensor, mask: Tensor, prev_logits: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Returns ``(out (B, C_out, L), logits or prev_logits, attention probs or None)``."""
        h = self.causal_conv(x)
        probs = None
        logits = prev_logits
        if self.attention is not None:
            a, logits, probs = self.attention(x, mask, prev_logits)
            h = torch.cat([h, a], dim=1)
        h = self.dropout(self.ffn(h.transpose(1, 2)))
        out = self.norm(self.residual(x.transpose(1, 2)) + h).transpose(1, 2)
        return out, logits, probs


class EADCBlock(nn.Module):
    """Two sub-layers with the same dilation; logits flow through both."""

    def __init__(self, first: AttentionDilatedConv, second: AttentionDilatedConv):
        super().__init__()
        self.layers = nn.ModuleList([first, second])

    def forward(
        self, x: Tensor, mask: Tensor, prev_logits: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, list[Tensor]]:
        maps = []
        for layer in self.layers:
            x, prev_logits, probs = layer(x, mask, prev_logits)
            if probs is not None:
                maps.append(probs)
        return x, prev_logits, maps

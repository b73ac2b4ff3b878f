"""The 3x3 convolution over attention maps, heads as channels (evolving attention).

All formulations compute the same full H -> H 3x3 convolution (zero padding 1) with the same
parameters (``weight`` (H, H, 3, 3), ``bias`` (H,)), so they can be switched freely on a trained
model; only speed and memory differ. ``benchmarks/encoder_speed.py`` compares them on CPU.

- ``"conv2d"``: ``torch.nn.functional.conv2d`` on (B, H, T, T).
- ``"channels_last"``: the same on a channels-last copy of the maps.
- ``"shifted"``: sum over the 9 kernel offsets of an (H x H) matrix product with a shifted view
  of the zero-padded maps (no im2col buffer; 9 batched matmuls).
- ``"unfold"``: im2col (9 shifted maps stacked, (B, 9H, T, T)) and one matrix product.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MapConv", "MAP_CONV_IMPLS"]

MAP_CONV_IMPLS = ("conv2d", "channels_last", "shifted", "unfold")


class MapConv(nn.Module):
    """Full 3x3 convolution over (B, H, T, T) attention maps with selectable implementation."""

    def __init__(self, n_heads: int, impl: str = "conv2d"):
        super().__init__()
        if impl not in MAP_CONV_IMPLS:
            raise ValueError(f"map conv impl must be one of {MAP_CONV_IMPLS}, got {impl!r}")
        self.n_heads = n_heads
        self.impl = impl
        self.weight = nn.Parameter(torch.empty(n_heads, n_heads, 3, 3))
        self.bias = nn.Parameter(torch.empty(n_heads))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same initialisation as nn.Conv2d.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.n_heads * 9)
        nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, impl={self.impl!r}"

    def forward(self, m: Tensor) -> Tensor:
        if self.impl == "conv2d":
            return F.conv2d(m, self.weight, self.bias, padding=1)
        if self.impl == "channels_last":
            m = m.contiguous(memory_format=torch.channels_last)
            return F.conv2d(m, self.weight, self.bias, padding=1).contiguous()
        if self.impl == "shifted":
            return self._shifted(m)
        return self._unfold(m)

    def _shifted(self, m: Tensor) -> Tensor:
        B, H, T, _ = m.shape
        padded = F.pad(m, (1, 1, 1, 1))
        out = None
        for dy in range(3):
            for dx in range(3):
                view = padded[:, :, dy : dy + T, dx : dx + T]
                term = torch.einsum("oh,bhij->boij", self.weight[:, :, dy, dx], view)
                out = term if out is None else out + term
        return out + self.bias.view(1, H, 1, 1)

    def _unfold(self, m: Tensor) -> Tensor:
        B, H, T, _ = m.shape
        padded = F.pad(m, (1, 1, 1, 1))
        cols = torch.stack(
            [padded[:, :, dy : dy + T, dx : dx + T] for dy in range(3) for dx in range(3)], dim=2
        )  # (B, H, 9, T, T)
        w = self.weight.reshape(H, H * 9)
        out = torch.einsum("ok,bkij->boij", w, cols.reshape(B, H * 9, T, T))
        return out + self.bias.view(1, H, 1, 1)

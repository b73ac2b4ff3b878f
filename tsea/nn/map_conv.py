"""The 3x3 convolution over attention maps, heads as channels (evolving attention).

A full H -> H 3x3 convolution (zero padding 1) over (B, H, T, T) maps, run on a channels-last
copy of the maps: the fastest of the formulations measured on CPU in
``benchmarks/encoder_speed.py`` (BENCHMARKS.md), and the same computation as
``torch.nn.functional.conv2d`` on the maps (tested).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MapConv"]


class MapConv(nn.Module):
    """Full 3x3 convolution over (B, H, T, T) attention maps; parameters as ``nn.Conv2d``
    (``weight`` (H, H, 3, 3), ``bias`` (H,))."""

    def __init__(self, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.weight = nn.Parameter(torch.empty(n_heads, n_heads, 3, 3))
        self.bias = nn.Parameter(torch.empty(n_heads))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same initialisation as nn.Conv2d.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.n_heads * 9)
        nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}"

    def forward(self, m: Tensor) -> Tensor:
        m = m.contiguous(memory_format=torch.channels_last)
        return F.conv2d(m, self.weight, self.bias, padding=1).contiguous()

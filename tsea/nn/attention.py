"""Multi-head self-attention whose logits evolve from layer to layer (DESIGN.md "The method").

Logits of sub-layer l: ``S_l = Q_l K_l^T / sqrt(d_k / H)`` over (mask-aware average-pooled)
tokens. Modes, given the previous sub-layer's logits ``A_{l-1}``:

- ``vanilla``:  ``A_l = S_l``
- ``residual``: ``A_l = (1 - beta) S_l + beta A_{l-1}``
- ``evolving``: ``M_l = (1 - beta) S_l + beta A_{l-1}``;
  ``A_l = alpha * relu(Conv2d_3x3(M_l)) + (1 - alpha) M_l`` (heads as channels)
- ``reuse``:    heads ``[:reuse_heads]`` take ``A_{l-1}`` unchanged (no Q/K computed for them);
  the other heads compute fresh logits.

Without a predecessor (``prev_logits=None``) every mode behaves as ``vanilla``.
``P_l = softmax(A_l)`` over valid keys only; the output is ``P_l V_l``, upsampled back to L.

Scale of the logits (``norm``): by default Q and K are linear maps of the tokens with torch's
default initialisation, so with narrow heads (2 dimensions at 8 heads of 64 channels) the logits
start with a standard deviation of a few tenths and every map starts almost uniform. With
``norm=True`` the tokens pass through a LayerNorm before the query/key projection, whose weights
start with standard deviation ``1/sqrt(channels)``: the logits then start near unit variance
whatever the head width or the magnitude of the tokens (tokens that barely change along the
series still give flat maps). The values V are projected from the raw tokens in both cases.

Padding safety: before the map convolution (and before mixing with ``A_{l-1}``) the logits are
zeroed at invalid query rows and key columns, so the 3x3 kernel sees exactly what it would see
for the series alone (whose map is zero-padded at the border). The activation after the map
convolution is ReLU, as in the authors' formulation; it keeps the convolution's contribution
non-negative so it can only sharpen (not flip) the attention pattern.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tsea.params import ATTENTION_MODES

from .map_conv import MapConv
from .pooling import attention_stride, pool_tokens, upsample_tokens

__all__ = ["EvolvingAttention", "LAYER_MODES", "head_dims"]

#: The modes of an attention sub-layer: the encoder's attention modes but "none" (no layer).
LAYER_MODES = tuple(mode for mode in ATTENTION_MODES if mode != "none")


def head_dims(ratio: float, channels: int, n_heads: int) -> int:
    """``ratio * channels`` rounded to a multiple of ``n_heads`` (at least ``n_heads``)."""
    return max(n_heads, int(round(ratio * channels / n_heads)) * n_heads)


class EvolvingAttention(nn.Module):
    """Self-attention sub-module producing ``d_v`` channels and handing its logits on.

    Parameters
    ----------
    in_channels: channels of the input x (B, in_channels, L).
    d_k, d_v: total query/key and value widths (multiples of ``n_heads``).
    mode: one of ``LAYER_MODES``.
    first: True for the first attention sub-layer of a network (no predecessor: vanilla; in
        ``evolving`` mode no map convolution is created, in ``reuse`` mode all heads get Q/K).
    max_attention_len: at most this many tokens; longer inputs are average-pooled with stride
        ``ceil(Lv / max_attention_len)`` (Lv: largest valid length in the batch).
    dropout: on the attention output.
    norm: LayerNorm the tokens before the query/key projection and start it at unit-variance
        logits (module docstring); a layer that computes no fresh logits has nothing to norm.
    map_init: how the map convolution starts (evolving mode; see :class:`MapConv`).
    """

    def __init__(
        self,
        in_channels: int,
        d_k: int,
        d_v: int,
        n_heads: int = 8,
        mode: str = "evolving",
        alpha: float = 0.5,
        beta: float = 0.3,
        reuse_heads: int = 0,
        max_attention_len: int = 128,
        first: bool = False,
        dropout: float = 0.0,
        norm: bool = False,
        map_init: str = "torch",
    ):
        super().__init__()
        if mode not in LAYER_MODES:
            raise ValueError(f"attention mode must be one of {LAYER_MODES}, got {mode!r}")
        if n_heads < 1 or d_k % n_heads or d_v % n_heads:
            raise ValueError(
                f"d_k ({d_k}) and d_v ({d_v}) must be positive multiples of n_heads ({n_heads})"
            )
        if mode == "reuse" and not 0 <= reuse_heads <= n_heads:  # the other modes ignore it
            raise ValueError(f"reuse_heads must be in [0, n_heads={n_heads}], got {reuse_heads}")
        if max_attention_len < 1:
            raise ValueError(f"max_attention_len must be >= 1, got {max_attention_len}")
        self.mode, self.first = mode, first
        self.n_heads, self.d_k, self.d_v = n_heads, d_k, d_v
        self.alpha, self.beta = float(alpha), float(beta)
        self.reuse_heads = reuse_heads if mode == "reuse" else 0
        self.max_attention_len = max_attention_len
        self.dk_head = d_k // n_heads
        # Heads that compute fresh Q/K (reuse: the first `reuse_heads` heads recycle A_{l-1}).
        self.fresh_heads = n_heads if first else n_heads - self.reuse_heads
        qk = self.fresh_heads * self.dk_head
        self.qk = nn.Linear(in_channels, 2 * qk) if qk > 0 else None
        self.norm = bool(norm)
        # Only created when used, so older model files keep their state_dict keys.
        if self.norm and self.qk is not None:
            self.qk_norm = nn.LayerNorm(in_channels)
            nn.init.normal_(self.qk.weight, std=in_channels**-0.5)
            nn.init.zeros_(self.qk.bias)
        self.v = nn.Linear(in_channels, d_v)
        self.map_conv = MapConv(n_heads, map_init) if (mode == "evolving" and not first) else None
        self.dropout = nn.Dropout(dropout)

    def extra_repr(self) -> str:
        return (
            f"mode={self.mode!r}, first={self.first}, n_heads={self.n_heads}, d_k={self.d_k}, "
            f"d_v={self.d_v}, alpha={self.alpha}, beta={self.beta}, reuse_heads={self.reuse_heads}, "
            f"max_attention_len={self.max_attention_len}, norm={self.norm}"
        )

    def forward(
        self, x: Tensor, mask: Tensor, prev_logits: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """x (B, C, L), mask (B, L) bool, prev_logits (B, H, T, T) or None.

        Returns ``(out (B, d_v, L), logits A_l (B, H, T, T), probs P_l (B, H, T, T))``.
        """
        B, _, L = x.shape
        stride, n_tok = attention_stride(mask, self.max_attention_len)
        tokens, tmask = pool_tokens(x, mask, stride, n_tok)
        tokens = tokens.transpose(1, 2)  # (B, T, C)
        H = self.n_heads
        if prev_logits is not None and prev_logits.shape != (B, H, n_tok, n_tok):
            raise ValueError(
                f"prev_logits must have shape {(B, H, n_tok, n_tok)}, got {tuple(prev_logits.shape)}"
            )
        # Masking is skipped when every token is valid (the common equal-length case).
        all_valid = bool(tmask.all())
        pair = None if all_valid else (tmask.unsqueeze(-1) & tmask.unsqueeze(-2)).unsqueeze(1)

        logits = self._fresh_logits(tokens, prev_logits)
        # Inference: update the (B, H, T, T) maps in place (same values, no new buffers);
        # not when the logits are a view of the previous layer's (all heads reused).
        inplace = torch.is_inference_mode_enabled() and self.fresh_heads > 0
        if prev_logits is not None and not self.first:
            if self.mode == "residual":
                logits = (logits.lerp_ if inplace else logits.lerp)(prev_logits, self.beta)
            elif self.mode == "evolving":
                mixed = (logits.lerp_ if inplace else logits.lerp)(prev_logits, self.beta)
                if pair is not None:
                    mixed = mixed.masked_fill(~pair, 0.0)
                conv = self.map_conv(mixed)
                conv = conv.relu_() if inplace else torch.relu(conv)
                logits = (mixed.lerp_ if inplace else mixed.lerp)(conv, self.alpha)
        if pair is not None:
            logits = logits.masked_fill(~pair, 0.0)
            key_ok = tmask.view(B, 1, 1, n_tok)
            probs = logits.masked_fill(~key_ok, torch.finfo(logits.dtype).min).softmax(dim=-1)
        else:
            probs = logits.softmax(dim=-1)
        v = self.v(tokens).view(B, n_tok, H, self.d_v // H).transpose(1, 2)  # (B, H, T, dv)
        out = probs @ v  # (B, H, T, dv)
        out = self.dropout(out.transpose(1, 2).reshape(B, n_tok, self.d_v).transpose(1, 2))
        return upsample_tokens(out, stride, L), logits, probs

    def _fresh_logits(self, tokens: Tensor, prev_logits: Tensor | None) -> Tensor:
        B, T, _ = tokens.shape
        if prev_logits is None and self.fresh_heads < self.n_heads:
            raise ValueError(
                "this reuse-mode attention recycles heads from the previous sub-layer: "
                "prev_logits is required"
            )
        scale = 1.0 / math.sqrt(self.dk_head)
        parts = []
        reused = self.n_heads - self.fresh_heads
        if reused:
            parts.append(prev_logits[:, :reused])
        if self.fresh_heads:
            if self.norm:  # fresh heads have a projection, so the norm exists
                tokens = self.qk_norm(tokens)
            q, k = self.qk(tokens).chunk(2, dim=-1)
            q = q.view(B, T, self.fresh_heads, self.dk_head).transpose(1, 2)
            k = k.view(B, T, self.fresh_heads, self.dk_head).transpose(1, 2)
            parts.append((q * scale) @ k.transpose(-1, -2))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

"""Batched inference of an encoder over a padded (n, C, L) array: the embedding loop.

Batches are formed within consecutive *blocks* of :data:`EMBED_BLOCK` series (input order):
inside a block, series with the same attention stride are sorted by length and cut into batches
of at most :data:`STEPS_PER_BATCH` padded steps. A batch is therefore a function of its block
alone, so embedding a file in chunks whose sizes are multiples of ``EMBED_BLOCK`` (what
``tsea embed`` does) gives exactly the values of one call on the whole collection.

Readout width (``canvas``): by default each series is read at its own length, so padding never
reaches it. With ``canvas=W`` (``readout="canvas"`` of the estimators: W is the longest training
series) a shorter series is read in a window of W steps, as TS2Vec's reference encodes its
padded arrays: the steps past its end are observed steps whose input projection is zero, the
convolutions read through them, and pooling takes them in. The embedding then also reflects how
much of the window the series fills (its length). Longer series are read at their own length.
Either way a series' embedding does not depend on the other series of its batch.

Batch size: a batch holds at most :data:`BATCH_FLOATS` floats of its largest activations,
``width x hidden`` per series for the convolution/FFN path (``hidden``: the FFN width) plus
``heads x tokens^2`` for the attention maps, which keeps them inside the CPU caches: about 4k
steps per batch at L = 128 and 8k at L = 512 with the default encoder. Batches of 64k steps
ran at half the speed at L = 512 on one thread (BENCHMARKS.md, "Embedding throughput").
"""

from __future__ import annotations

import numpy as np
import torch

from .pooling import pool, valid_mask

__all__ = ["EMBED_BLOCK", "BATCH_FLOATS", "MAX_BATCH", "batches", "embed_padded"]

EMBED_BLOCK = 4096
BATCH_FLOATS = 3 * 2**19
MAX_BATCH = 256


def batches(lengths: np.ndarray, attention_cap: int | None, *, hidden: int = 128,
            heads: int = 0):
    """Yield index arrays into ``lengths``: per block of EMBED_BLOCK series, series with the
    same attention stride ``ceil(length / attention_cap)`` sorted by length, cut so that
    batch size x (width x hidden + heads x min(width, cap)^2) stays within BATCH_FLOATS (at
    least one series, at most MAX_BATCH)."""
    lengths = np.asarray(lengths)
    cap = attention_cap if attention_cap is not None else 0

    def cost(width):
        tokens = min(int(width), cap)
        return int(width) * hidden + heads * tokens * tokens

    for block in range(0, len(lengths), EMBED_BLOCK):
        lens = lengths[block : block + EMBED_BLOCK]
        groups = np.zeros_like(lens) if attention_cap is None else -(-lens // attention_cap)
        order = np.lexsort((lens, groups))
        start = 0
        while start < len(order):
            group = groups[order[start]]
            stop = start
            while stop < len(order) and groups[order[stop]] == group:
                stop += 1
            i = start
            while i < stop:
                # sorted by length within the group: the last member fixes the batch width
                j = i + 1
                while (
                    j < stop
                    and j - i < MAX_BATCH
                    and (j - i + 1) * cost(lens[order[j]]) <= BATCH_FLOATS
                ):
                    j += 1
                yield block + order[i:j]
                i = j
            start = stop


def canvas_window(xb: np.ndarray, lengths: np.ndarray, widths: np.ndarray):
    """The (b, C, w) batch ``xb`` laid in windows of ``widths`` steps (``w = max(widths)``) for
    ``readout="canvas"`` (module docstring): the steps of a window past its series' length are
    zeros, observed, and left out of the input projection. Returns the float32 batch and the
    (b, w) mask of the steps the input projection reads (the encoder's ``proj_mask``)."""
    width = int(np.max(widths))
    xb = np.pad(xb, ((0, 0), (0, 0), (0, width - xb.shape[2])), constant_values=np.nan)
    steps = np.arange(width)[None, :]
    fill = (steps >= np.asarray(lengths)[:, None]) & (steps < np.asarray(widths)[:, None])
    return np.where(fill[:, None, :], np.float32(0.0), xb).astype(np.float32), ~fill


def embed_padded(
    encoder,
    X: np.ndarray,
    lengths: np.ndarray,
    *,
    pooling: str | None,
    attention_cap: int | None,
    device: torch.device,
    prepare=None,
    canvas: int | None = None,
) -> np.ndarray:
    """Pooled (n, D) or per-step (n, L_max, D) float32 embeddings of ``X`` (n, C, L_max).

    ``prepare(xb, idx)`` (optional) maps the float32 (b, C, w) slice ``xb`` of the series
    ``idx`` to the encoder's input (the estimators normalise and range-check it there); it is
    applied per batch, so no normalised copy of the whole input is made. ``canvas``: read each
    series in a window of at least that many steps (module docstring); the per-step output
    keeps each series' own steps. The caller sets the thread count and ``torch.inference_mode``.
    """
    n, L = X.shape[0], X.shape[2]
    lengths = np.asarray(lengths)
    if canvas is not None and (isinstance(canvas, bool) or int(canvas) < 1):
        raise ValueError(f"canvas must be a positive number of steps, got {canvas!r}")
    widths = lengths if canvas is None else np.maximum(lengths, int(canvas))
    config = getattr(encoder, "config", {})
    hidden = max(1, int(round(config.get("ffn_ratio", 2.0) * config.get("d_model", 64))))
    heads = int(config.get("n_heads", 8)) if attention_cap is not None else 0
    out = None
    for idx in batches(widths, attention_cap, hidden=hidden, heads=heads):
        width = int(widths[idx].max())
        xb = X[idx, :, : min(width, L)]  # fancy indexing: a fresh C-contiguous float32 array
        if prepare is not None:
            xb = prepare(xb, idx)
        xb = np.ascontiguousarray(xb, dtype=np.float32)
        proj_mask = None
        if canvas is not None:
            xb, observed = canvas_window(xb, lengths[idx], widths[idx])
            proj_mask = torch.from_numpy(observed).to(device)
        xb = torch.from_numpy(xb).to(device)
        lb = torch.from_numpy(np.asarray(widths[idx], dtype=np.int64)).to(device)
        H = encoder(xb, lengths=lb, proj_mask=proj_mask)
        if pooling is None:
            Hb = H.float().cpu().numpy()
            if out is None:
                out = np.full((n, L, Hb.shape[-1]), np.nan, dtype=np.float32)
            for row, i in enumerate(idx):
                out[i, : lengths[i]] = Hb[row, : lengths[i]]
        else:
            Zb = pool(H, valid_mask(xb, lb), how=pooling).float().cpu().numpy()
            if out is None:
                out = np.empty((n, Zb.shape[-1]), dtype=np.float32)
            out[idx] = Zb
    return out

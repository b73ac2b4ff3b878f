"""How far does pre-training open the attention gates of ``attention_merge="gated"``?

    python benchmarks/gate_openness.py --data-dir DIR --datasets GunPoint,FaceAll-n30 \
        --config benchmarks/results/dev16/configs/ts2vec-like-soft-eg.yaml --seeds 0

A gated sub-layer outputs ``conv(x) + W_g a`` with ``W_g`` initialised at zero. After ``fit``
(one torch thread, as ``tsea benchmark`` fits), the training series are encoded once more, and
for each gated sub-layer, bottom to top, the script prints the root mean square of the
attention's contribution ``W_g a`` and of the convolution's output over the batch, and their
ratio. A ratio near 0: training left the attention out; near 1: attention carries as much as
the convolution.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import _fits  # noqa: E402
from tsea.config import load_config  # noqa: E402
from tsea.estimators import EAEncoder  # noqa: E402
from tsea.nn.blocks import AttentionDilatedConv  # noqa: E402


def gate_ratios(encoder: EAEncoder, X) -> list[tuple[float, float]]:
    """(conv RMS, attention RMS) per gated sub-layer, averaged over the batches of transform."""
    layers = [m for m in encoder.encoder_.modules()
              if isinstance(m, AttentionDilatedConv) and hasattr(m, "gate")]
    if not layers:
        raise ValueError("the encoder has no gated attention sub-layers")
    sums = {id(m): [] for m in layers}

    def hook(layer, inputs, _output):
        x, mask, prev = (*inputs, None)[:3]
        conv = layer.dilated_conv(x, mask)
        gated = layer.gate(layer.attention(x, mask, prev)[0])
        sums[id(layer)].append((conv.pow(2).mean().sqrt().item(),
                                gated.pow(2).mean().sqrt().item()))

    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        encoder.transform(X)
    finally:
        for h in handles:
            h.remove()
    return [tuple(np.mean(sums[id(m)], axis=0)) for m in layers]


def main(argv=None) -> None:
    parser = _fits.parser(__doc__, "a config with attention_merge: gated")
    args = parser.parse_args(argv)
    params = load_config(args.config)
    if params.get("attention_merge") != "gated":
        parser.error(f"{args.config} does not set attention_merge: gated")
    print("| dataset | seed | sub-layer | conv RMS | attention RMS | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, seed, enc, X in _fits.fitted(args, params):
        for i, (conv, att) in enumerate(gate_ratios(enc, X)):
            print(f"| {name} | {seed} | {i} | {conv:.3f} | {att:.3f} | {att / conv:.3f} |")

if __name__ == "__main__":
    main()

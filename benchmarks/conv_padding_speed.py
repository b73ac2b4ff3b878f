"""Forward+backward time of one dilated convolution sub-layer: tsea's ``dilated_conv`` against
the convolution of the explicitly zero-padded input (``conv1d(F.pad(x))``, what it computed
before it dropped the taps that reach only padding and used the convolution's own padding).

    python benchmarks/conv_padding_speed.py            # the table recorded in BENCHMARKS.md
    python benchmarks/conv_padding_speed.py --quick    # two sizes, one repeat (smoke run)

One torch thread; medians of ``time.process_time`` over repeats, in ms. Both compute the same
outputs and gradients (tests/test_nn_encoder.py checks it), so only the time differs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from tsea.nn.blocks import AttentionDilatedConv

#: (batch, length, in channels, out channels, dilation): tsea's default width at TS2Vec's top
#: dilations, and TS2Vec's 320-channel output block, on short, medium and long series.
SIZES = [
    (16, 24, 64, 64, 512), (16, 24, 320, 320, 1024),
    (16, 300, 64, 64, 8), (16, 300, 64, 64, 512), (16, 300, 320, 320, 1024),
    (8, 3000, 64, 64, 8), (8, 3000, 320, 320, 1024),
]


def _ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def measure(sizes, repeats: int) -> list[dict]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows = []
    for batch, length, c_in, c_out, dilation in sizes:
        x = torch.randn(batch, c_in, length, requires_grad=True)
        row = {"batch": batch, "L": length, "channels": f"{c_in} -> {c_out}", "dilation": dilation}
        for causal in (False, True):
            layer = AttentionDilatedConv(c_in, c_out, 3, dilation, causal=causal, transformer=False)

            def padded(layer=layer, x=x):
                F.conv1d(F.pad(x, layer.pad), layer.conv.weight, layer.conv.bias,
                         dilation=layer.conv.dilation[0]).sum().backward()

            def tsea(layer=layer, x=x):
                layer.dilated_conv(x).sum().backward()

            kind = "causal" if causal else "same"
            row[f"{kind}: F.pad"] = _ms(padded, repeats)
            row[f"{kind}: tsea"] = _ms(tsea, repeats)
        rows.append(row)
    return rows


def render(rows) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(
            f"{row[k]:.1f}" if isinstance(row[k], float) else str(row[k]) for k in keys) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two sizes, one repeat")
    args = parser.parse_args(argv)
    sizes = SIZES[:2] if args.quick else SIZES
    print(render(measure(sizes, 1 if args.quick else 5)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

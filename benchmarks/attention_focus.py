"""What do trained attention maps look like: focused, uniform, or the same for every query?

    python benchmarks/attention_focus.py --data-dir DIR --datasets GunPoint,FaceAll-n30 \
        --config benchmarks/results/dev16/configs/ts2vec-like-auto-ea.yaml --seeds 0

After ``fit`` (one torch thread, as ``tsea benchmark`` fits), the maps of up to ``--series``
training series are read with ``EAEncoder.attention_maps``. For each attention sub-layer, bottom
to top, averaged over series, heads and queries, the script prints:

- ``entropy``: the entropy of a query's attention row divided by ``log T`` (T tokens): 1 means
  the row is uniform (attention is a plain average over the series), near 0 means the query
  attends to one token;
- ``spread``: the total-variation distance between a query's row and the mean row of its map:
  0 means every query attends the same way, so the attention output is the same vector at every
  step (a global summary), 1 means the queries attend to disjoint tokens;
- ``top``: the mean of a row's largest weight (1/T for a uniform row).

A layer with ``entropy`` near 1 or ``spread`` near 0 adds nothing a dilated convolution with a
global receptive field, followed by max pooling, could not compute.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import _fits  # noqa: E402


def map_statistics(maps: list[np.ndarray]) -> np.ndarray:
    """(layers, 3): entropy / log T, spread and top weight per layer, averaged over the series
    (each array (layers, heads, T, T) as ``attention_maps`` returns them), heads and queries.
    Series with a single token carry no information and are skipped."""
    rows = []
    for m in maps:
        T = m.shape[-1]
        if T < 2:
            continue
        p = m.astype(np.float64)
        entropy = -(p * np.log(np.clip(p, 1e-12, None))).sum(-1) / np.log(T)  # (layers, H, T)
        spread = 0.5 * np.abs(p - p.mean(axis=-2, keepdims=True)).sum(-1)
        top = p.max(-1)
        rows.append(np.stack([s.mean(axis=(1, 2)) for s in (entropy, spread, top)], axis=1))
    if not rows:
        raise ValueError("no series has more than one attention token")
    return np.mean(rows, axis=0)


def main(argv=None) -> None:
    parser = _fits.parser(__doc__, "a config with attention")
    parser.add_argument("--series", type=int, default=100, help="training series read")
    args = parser.parse_args(argv)
    print("| dataset | seed | sub-layer | entropy | spread | top |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, seed, enc, X in _fits.fitted(args):
        stats = map_statistics(enc.attention_maps(X[: args.series]))
        for i, (entropy, spread, top) in enumerate(stats):
            print(f"| {name} | {seed} | {i} | {entropy:.3f} | {spread:.3f} | {top:.3f} |",
                  flush=True)

if __name__ == "__main__":
    main()

"""How large are the pre-training gradients, before clipping?

    python benchmarks/grad_norms.py --data-dir DIR --datasets OSULeaf,FaceAll-n30 --config ea-dc --seeds 0

Fits an ``EAEncoder`` with ``--config``'s parameters on each training split (one torch thread,
as ``tsea benchmark`` fits) and records the global L2 norm of the gradients at every optimizer
step, before ``grad_clip`` acts (Lightning calls ``on_before_optimizer_step`` before it clips).
For each fit it prints the steps, the 10th, 50th and 90th percentiles of the norm, and the share
of steps whose norm is above 1 and above the config's ``grad_clip``. AdamW is invariant to a
constant scale of the gradients (up to its eps), so where every step is above the bound,
clipping at that bound is a per-step normalisation of the gradient, and any tighter bound trains
the same network.
"""

from __future__ import annotations

import os
import sys

import lightning as L
import numpy as np
from lightning.pytorch.utilities import grad_norm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import _fits  # noqa: E402
from tsea.config import load_config  # noqa: E402
from tsea.params import ENCODER_PARAMS  # noqa: E402


class GradNorms(L.Callback):
    """Keeps the global L2 norm of the gradients at each optimizer step, before clipping."""

    def __init__(self):
        self.norms: list[float] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        norms = grad_norm(pl_module, 2)
        self.norms.append(float(norms.get("grad_2.0_norm_total", 0.0)))


def summary(norms, bound: float) -> dict:
    """Steps, percentiles and the shares of steps above 1 and above ``bound`` (0: no bound)."""
    if not norms:
        raise ValueError("no optimizer step was recorded")
    a = np.asarray(norms, dtype=float)
    return {"steps": a.size, "p10": float(np.percentile(a, 10)), "p50": float(np.median(a)),
            "p90": float(np.percentile(a, 90)), "above_1": float((a > 1).mean()),
            "above_clip": float((a > bound).mean()) if bound > 0 else float("nan")}


def main(argv=None) -> None:
    args = _fits.parser(__doc__, "a config name or YAML file").parse_args(argv)
    rec = GradNorms()
    params = {**load_config(args.config), "trainer_kwargs": {"callbacks": [rec]}}
    bound = float(params.get("grad_clip", ENCODER_PARAMS["grad_clip"].default))
    print(f"| dataset | seed | steps | p10 | median | p90 | share > 1 | share > {bound:g} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, seed, _, _ in _fits.fitted(args, params):
        s = summary(rec.norms, bound)
        rec.norms.clear()  # the next fit starts its own record
        print(f"| {name} | {seed} | {s['steps']} | {s['p10']:.2f} | {s['p50']:.2f} | "
              f"{s['p90']:.2f} | {s['above_1']:.2f} | {s['above_clip']:.2f} |", flush=True)


if __name__ == "__main__":
    main()

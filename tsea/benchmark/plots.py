"""Benchmark plots (PNG, matplotlib Agg): critical-difference diagram and EA-DC scatter plots."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from tsea.benchmark.scores import REFERENCE_METHOD, score_table
from tsea.utils import atomic_write

MIN_CD_DATASETS = 5


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def critical_difference(table: pd.DataFrame, path: str) -> str | None:
    """aeon's critical-difference diagram of accuracies (needs >= 3 methods and
    >= MIN_CD_DATASETS complete datasets); returns the path or None when not drawn."""
    complete = table.dropna()
    if complete.shape[1] < 3 or len(complete) < MIN_CD_DATASETS:
        return None
    from aeon.visualisation import plot_critical_difference

    _pyplot()  # the non-interactive backend, before aeon draws
    fig, _ = plot_critical_difference(complete.to_numpy(), list(complete.columns))
    _save(fig, path)
    return path


def _save(fig, path: str) -> None:
    """Write the figure whole or not at all (a write cut short leaves the plot before it),
    and close it."""
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight"))
    finally:
        _pyplot().close(fig)


def scatter(table: pd.DataFrame, reference: str, other: str, path: str, metric: str) -> str | None:
    """One point per dataset: ``other`` on x, ``reference`` on y, with the diagonal."""
    both = table[[reference, other]].dropna()
    if both.empty:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(both[other], both[reference], s=18)
    lo = float(np.nanmin(both.to_numpy()))
    hi = float(np.nanmax(both.to_numpy()))
    pad = 0.02 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="grey", lw=1, ls="--")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(f"{other} {metric}")
    ax.set_ylabel(f"{reference} {metric}")
    wins = int((both[reference] > both[other]).sum() if metric == "accuracy"
               else (both[reference] < both[other]).sum())
    ax.set_title(f"{reference} vs {other}: better on {wins}/{len(both)}")
    _save(fig, path)
    return path


def write_plots(df: pd.DataFrame, plot_dir: str) -> list[str]:
    """All plots that the results allow; returns the paths written."""
    made: list[str] = []
    for task, metric in (("classification", "accuracy"), ("regression", "rmse")):
        table = score_table(df, task)
        if table.empty:
            continue
        os.makedirs(plot_dir, exist_ok=True)
        if task == "classification":
            p = critical_difference(table, os.path.join(plot_dir, "critical_difference.png"))
            if p:
                made.append(p)
        if REFERENCE_METHOD not in table.columns:
            continue
        for other in table.columns:
            if other == REFERENCE_METHOD:
                continue
            name = f"scatter_{task}_{REFERENCE_METHOD}_vs_{other}.png"
            p = scatter(table, REFERENCE_METHOD, other, os.path.join(plot_dir, name), metric)
            if p:
                made.append(p)
    _remove_stale(plot_dir, made)
    return made


def _remove_stale(plot_dir: str, made: list[str]) -> None:
    """Remove the plots of an earlier report that this one did not draw again (a method or a
    task no longer in the results), so that the folder shows the results it sits beside;
    files not named as this module names its plots are left alone."""
    if not os.path.isdir(plot_dir):
        return
    kept = {os.path.basename(p) for p in made}
    for name in os.listdir(plot_dir):
        ours = name == "critical_difference.png" or (
            name.startswith("scatter_") and name.endswith(".png"))
        if ours and name not in kept:
            os.remove(os.path.join(plot_dir, name))
    if not os.listdir(plot_dir):
        os.rmdir(plot_dir)

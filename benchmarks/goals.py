"""The project's targets for the default EA-DC config, checked on a benchmark results file.

    python benchmarks/goals.py benchmarks/results/ucr     # reads <dir>/results.csv

Targets (classification rows only): mean accuracy above TS2Vec on the datasets both have; fit
time at most 1.5x TS2Vec's on every dataset; evolving attention ranking better than the
``ablation-none`` and ``ablation-vanilla`` configs. They are project goals, not library code:
``tsea benchmark`` reports scores, this script says whether the goals are met.
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tsea.benchmark import results as results_io  # noqa: E402
from tsea.benchmark.scores import REFERENCE_METHOD, ranks, score_table  # noqa: E402

BASELINE = "ts2vec"
MAX_FIT_RATIO = 1.5
ABLATIONS = ("ablation-none", "ablation-vanilla")


def goals_section(df: pd.DataFrame) -> str:
    """The goals checked on the rows present, as a markdown section ("" when none applies)."""
    table = score_table(df, "classification")
    ref = REFERENCE_METHOD
    if table.empty or ref not in table.columns:
        return ""
    lines = []
    if BASELINE in table.columns:
        both = table[[ref, BASELINE]].dropna()
        if len(both):
            a, b = both[ref].mean(), both[BASELINE].mean()
            lines.append(f"- mean accuracy {ref} {a:.4f} vs {BASELINE} {b:.4f} on {len(both)} datasets: "
                         f"{'met' if a > b else 'NOT met'} (goal: above TS2Vec)")
        ok = df[(df["status"] == "ok") & (df["task"] == "classification")]
        fit = ok.pivot_table(index="dataset", columns="method", values="fit_seconds", aggfunc="mean")
        if {ref, BASELINE} <= set(fit.columns):
            ratio = (fit[ref] / fit[BASELINE]).dropna()
            if len(ratio):
                over = int((ratio > MAX_FIT_RATIO).sum())
                lines.append(f"- fit time {ref}/{BASELINE} per dataset: median {ratio.median():.2f}x, "
                             f"max {ratio.max():.2f}x, above {MAX_FIT_RATIO}x on {over}/{len(ratio)} "
                             f"datasets: {'met' if over == 0 else 'NOT met'} "
                             f"(goal: <= {MAX_FIT_RATIO}x)")
    ablations = [m for m in ABLATIONS if m in table.columns]
    if ablations:
        sub = table[[ref] + ablations]
        rk = ranks(sub, higher_is_better=True)
        if len(rk):
            means = ", ".join(f"{m} {rk[m].mean():.2f}" for m in sub.columns)
            best = all(rk[ref].mean() < rk[m].mean() for m in ablations)
            lines.append(f"- mean rank among {{{', '.join(sub.columns)}}} on {len(rk)} datasets: "
                         f"{means}: {'met' if best else 'NOT met'} (goal: evolving attention ranks "
                         f"better than none and vanilla)")
    if not lines:
        return ""
    return "## Goals of the default EA-DC config\n\n" + "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", help="a benchmark output folder (holding results.csv)")
    args = parser.parse_args(argv)
    df = results_io.latest_rows(results_io.read_results(os.path.join(args.out_dir, "results.csv")))
    print(goals_section(df) or "no goal applies to these results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

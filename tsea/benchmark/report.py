"""``results.md`` from a results file: accuracy / RMSE tables, ranks, timings, published numbers.

Scores are averaged over seeds. The best measured score of each dataset is in bold
(published numbers are shown alongside, never bolded). Mean score and mean rank are computed
over the datasets on which *every* measured method has a score, and the count is printed.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from tsea.benchmark import results as results_io
from tsea.benchmark.scores import REFERENCE_METHOD, ranks, score_table
from tsea.utils import atomic_write_text

PUBLISHED_CSV = os.path.join(os.path.dirname(__file__), "published.csv")
PUBLISHED_COLUMNS = ["dataset", "archive", "method", "metric", "score", "source"]

NOTES = """\
## Notes

- Heads: tsea's default heads (classification `logistic`, regression `ridge`), for ea-dc,
  config methods and ts2vec alike, so that representations are compared under one head;
  minirocket uses its own ridge protocol.
- Equal length: ts2vec gets series NaN-padded at the end to the longest train/test series
  (it masks NaN itself); minirocket gets them zero-padded (NaN -> 0, at least 9 steps).
  Nothing is truncated. tsea methods take unequal lengths natively.
- fit_seconds: everything done on the training split (pre-training, training embeddings,
  head); transform_seconds: predicting the test split. Peak memory: peak RSS of the fresh
  worker process that ran the job (interpreter and libraries included).
- Published numbers are copied from the sources in `tsea/benchmark/published.csv`
  (their own protocols and hardware), for orientation only.
"""


def load_published(path: str | None = None) -> pd.DataFrame:
    """The published reference numbers; every row must name its source."""
    path = PUBLISHED_CSV if path is None else path
    if not os.path.exists(path):
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    df = pd.read_csv(path, comment="#", dtype={"source": str})
    if list(df.columns) != PUBLISHED_COLUMNS:
        raise ValueError(f"{path}: columns {list(df.columns)}, expected {PUBLISHED_COLUMNS}")
    if df["source"].isna().any() or (df["source"].str.strip() == "").any():
        raise ValueError(f"{path}: every published number needs a source")
    return df


def _fmt(value: float, bold: bool) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    text = f"{value:.4f}"
    return f"**{text}**" if bold else text


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    def line(cells) -> str:  # a "|" in a name or an error would end its cell
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])


def task_section(df: pd.DataFrame, task: str, published: pd.DataFrame) -> str:
    higher = task == "classification"
    metric = "accuracy" if higher else "RMSE"
    table = score_table(df, task)
    if table.empty:
        return ""
    methods = list(table.columns)
    pub = published[published["dataset"].isin(table.index)] if len(published) else published
    pub_methods = list(dict.fromkeys(pub["method"])) if len(pub) else []
    ok = df[(df["task"] == task) & (df["status"] == "ok")]
    per_dataset = ok.groupby(["method", "dataset"])["seed"].nunique().groupby("method")
    lo, hi = per_dataset.min(), per_dataset.max()

    def seeds_label(m) -> str:
        a, b = int(lo.get(m, 0)), int(hi.get(m, 0))
        n = str(b) if a == b else f"{a}-{b}"  # datasets with different seed counts: say so
        return f"{m} ({n} seed{'s' if b != 1 else ''})"

    header = ["dataset"] + [seeds_label(m) for m in methods]
    header += [f"{m} (published)" for m in pub_methods]
    rows = []
    for name, values in table.iterrows():
        vals = values.to_numpy(dtype=float)
        finite = vals[~np.isnan(vals)]
        best = (finite.max() if higher else finite.min()) if finite.size else np.nan
        row = [name] + [_fmt(v, bool(finite.size) and v == best) for v in vals]
        for pm in pub_methods:
            hit = pub[(pub["dataset"] == name) & (pub["method"] == pm)]["score"]
            row.append(_fmt(float(hit.iloc[0]), False) if len(hit) else "–")
        rows.append(row)
    rk = ranks(table, higher)
    complete = table.loc[rk.index]
    n = len(rk)
    rows.append([f"mean {metric} ({n} complete datasets)"]
                + [_fmt(complete[m].mean() if n else np.nan, False) for m in methods]
                + ["" for _ in pub_methods])
    rows.append([f"mean rank ({n} complete datasets)"]
                + [f"{rk[m].mean():.2f}" if n else "–" for m in methods]
                + ["" for _ in pub_methods])
    title = "Classification accuracy (higher is better)" if higher else "Regression RMSE (lower is better)"
    return f"## {title}\n\n{_markdown(header, rows)}\n"


def timing_section(df: pd.DataFrame) -> str:
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return ""
    g = ok.groupby("method")
    summary = pd.DataFrame({
        "jobs": g.size(),
        "mean fit s": g["fit_seconds"].mean(),
        "median fit s": g["fit_seconds"].median(),
        "mean transform s": g["transform_seconds"].mean(),
        "max peak MB": g["peak_memory_mb"].max(),
    })
    order = [m for m in dict.fromkeys(df["method"]) if m in summary.index]
    rows = [[m] + [f"{summary.loc[m, c]:.1f}" if c != "jobs" else str(int(summary.loc[m, c]))
                   for c in summary.columns] for m in order]
    text = "## Time and memory per job\n\n" + _markdown(["method"] + list(summary.columns), rows)
    fit = ok.pivot_table(index="dataset", columns="method", values="fit_seconds", aggfunc="mean")
    fit = fit[[m for m in order if m in fit.columns]]
    per = [[d] + [f"{v:.1f}" if not np.isnan(v) else "–" for v in r] for d, r in fit.iterrows()]
    text += "\n\nFit seconds per dataset (mean over seeds):\n\n" + _markdown(["dataset"] + list(fit.columns), per)
    if REFERENCE_METHOD in fit.columns:
        for other in fit.columns:
            if other == REFERENCE_METHOD:
                continue
            ratio = (fit[REFERENCE_METHOD] / fit[other]).dropna()
            if len(ratio):
                text += (f"\n\n{REFERENCE_METHOD} / {other} fit time over {len(ratio)} datasets: "
                         f"median {ratio.median():.2f}x, max {ratio.max():.2f}x")
    return text + "\n"


def problems_section(df: pd.DataFrame) -> str:
    bad = df[df["status"] != "ok"]
    if bad.empty:
        return ""
    rows = [[r.dataset, r.method, str(r.seed), r.status, str(r.error)]
            for r in bad.itertuples()]
    return "## Jobs that did not produce a score\n\n" + _markdown(
        ["dataset", "method", "seed", "status", "error"], rows) + "\n"


def write_report(out_dir: str, plots: bool = True) -> str:
    """Write ``<out_dir>/results.md`` (and plots under ``<out_dir>/plots``); returns its path."""
    df = results_io.latest_rows(results_io.read_results(os.path.join(out_dir, "results.csv")))
    published = load_published()
    parts = ["# tsea archive benchmark\n",
             f"{df['dataset'].nunique()} datasets, methods: {', '.join(dict.fromkeys(df['method']))}.\n"]
    for task in ("classification", "regression"):
        sec = task_section(df, task, published)
        if sec:
            parts.append(sec)
    for sec in (timing_section(df), problems_section(df)):
        if sec:
            parts.append(sec)
    if plots:
        from tsea.benchmark.plots import write_plots

        made = write_plots(df, os.path.join(out_dir, "plots"))
        if made:
            parts.append("## Plots\n\n" + "\n".join(
                f"![{os.path.basename(p)}](plots/{os.path.basename(p)})" for p in made) + "\n")
    parts.append(NOTES)
    path = os.path.join(out_dir, "results.md")
    atomic_write_text(path, "\n".join(parts))
    return path

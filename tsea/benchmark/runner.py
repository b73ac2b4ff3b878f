"""The archive benchmark runner behind ``tsea benchmark``.

Every (dataset, method, seed) job runs in a fresh worker process (see
:mod:`tsea.benchmark.worker`) and its row is appended to ``<out>/results.csv`` as soon as it
finishes; a rerun skips the rows already there, so an interrupted run resumes where it
stopped. ``--jobs N`` runs N datasets at a time (joblib threads, each driving its own worker
processes; the command line's default -1 is one per core). At the end ``results.md`` and the
plots are written from the whole results file.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np
import pandas as pd
from joblib import cpu_count

from tsea.benchmark import results as results_io
from tsea.benchmark.methods import DEFAULT_METHODS, MethodSpec, parse_methods, unavailable_reason
from tsea.benchmark.suites import SUITES, parse_datasets, suite_datasets
from tsea.benchmark.worker import DIED, run_isolated, run_job, stop_workers
from tsea.utils import SEED_BOUND

DEFAULT_OUT = "./tsea-benchmark"


def parse_seeds(text) -> list[int]:
    """``"0,1,2"`` (or an iterable of ints) -> ``[0, 1, 2]``; negatives/duplicates are errors."""
    items = str(text).split(",") if isinstance(text, str | int) else list(text)
    try:
        seeds = [int(str(s).strip()) for s in items]
    except ValueError:
        raise ValueError(f"--seeds {text!r} must be integers separated by commas") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r} must be distinct non-negative integers")
    if max(seeds) >= SEED_BOUND:
        raise ValueError(f"--seeds {text!r}: a seed must be below 2**32 = {SEED_BOUND}")
    return seeds


class _Progress:
    def __init__(self, n_datasets: int, quiet: bool):
        self.n, self.done, self.quiet = n_datasets, 0, quiet
        self.lock = threading.Lock()
        self.t0 = time.perf_counter()

    def say(self, msg: str) -> None:
        if not self.quiet:
            with self.lock:
                print(f"[{self.done}/{self.n} datasets, {time.perf_counter() - self.t0:6.0f}s] {msg}",
                      flush=True)

    def dataset_done(self, name: str) -> None:
        with self.lock:
            self.done += 1
        self.say(f"{name} done")


def _row_message(row: dict) -> str:
    head = f"{row['dataset']} {row['method']} seed={row['seed']}: "
    if row.get("status") == "ok":
        return head + (f"{row['metric']}={row['score']:.4f} fit {row['fit_seconds']:.1f}s "
                       f"transform {row['transform_seconds']:.1f}s "
                       f"peak {row.get('peak_memory_mb', float('nan')):.0f} MB")
    return head + f"{row.get('status')}: {row.get('error')}"


def resolve_jobs(jobs, n_datasets: int) -> int:
    """Datasets run at once: ``jobs`` >= 1 as given, -1 every usable core, -2 all but one, ...
    (joblib's convention); never more than ``n_datasets``."""
    if isinstance(jobs, bool) or not isinstance(jobs, int | np.integer) or jobs == 0:
        raise ValueError(f"jobs must be a non-zero integer (-1: every core), got {jobs!r}")
    jobs = int(jobs)
    if jobs < 0:
        jobs = max(1, cpu_count() + 1 + jobs)  # joblib's count honours CPU affinity and cgroups
    return max(1, min(jobs, n_datasets))


#: The longest --timeout (30 days): the wait on a worker cannot take an unbounded deadline.
MAX_TIMEOUT = 30 * 24 * 3600


def _check_timeout_and_threads(timeout, threads) -> None:
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"--timeout must be positive seconds, at most {MAX_TIMEOUT} (30 days; "
                         f"leave it out for no limit), got {timeout}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int | np.integer)
                                or threads < 1):
        raise ValueError(f"--threads must be a whole number >= 1 (torch threads per job), got "
                         f"{threads!r}")


def check_arguments(args: argparse.Namespace) -> None:
    """The checks of :func:`main_from_args`'s options that need no data, before any job starts
    (the command line reports them as usage errors): ValueError naming the option."""
    if args.methods is not None and not args.methods.strip():
        raise ValueError("--methods is empty; leave it out for the defaults "
                         f"({','.join(DEFAULT_METHODS)})")
    specs = parse_methods([m for m in (args.methods, *(args.method or ())) if m]
                          or DEFAULT_METHODS)
    parse_seeds(args.seeds)
    _check_folders(args.out, args.data_dir)
    if args.datasets is not None:
        _check_dataset_names(parse_datasets(args.datasets), args.data_dir)
    try:
        resolve_jobs(args.jobs, 1)
    except ValueError as exc:
        raise ValueError(f"--{exc}") from None
    _check_timeout_and_threads(args.timeout, args.threads)
    results_io.check_methods(args.out, specs)
    results_io.check_data_source(args.out, args.data_dir)


def _check_dataset_names(names, data_dir) -> None:
    from tsea.datasets import unknown_names

    unknown = unknown_names(names, data_dir)
    if unknown:
        listed = ", ".join(f"{name!r}{hint}" for name, hint in unknown.items())
        raise ValueError(
            f"--datasets: no dataset {listed}: it is in none of the UCR, UEA or TSER archives, "
            "nor a folder under --data-dir, TSEA_DATA, the bundled data or the download cache "
            "(names are case-sensitive)")


def _check_folders(out_dir, data_dir) -> None:
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out {out_dir} is a file; the output folder holds results.csv, "
                         "results.md and the plots")
    # a mistyped folder would otherwise fall back to the bundled or downloaded copies of the
    # archive's datasets, and score them in place of the user's own
    if data_dir is not None and not os.path.isdir(data_dir):
        raise ValueError(f"--data-dir {data_dir} is not a folder" + (
            "" if os.path.exists(data_dir) else " (it does not exist)") +
            "; it holds <Name>/<Name>_TRAIN and _TEST files")


def run_benchmark(datasets=None, methods=DEFAULT_METHODS, seeds=(0,), out_dir=DEFAULT_OUT,
                  data_dir=None, jobs=1, *, suite="quick", isolate=True, timeout=None,
                  threads=None, loader=None, retry_failed=False, quiet=False,
                  report=True) -> pd.DataFrame:
    """Run ``methods`` x ``seeds`` on ``datasets`` (a list or comma string; default: the
    datasets of ``suite``) and return the rows of ``<out_dir>/results.csv`` for them.

    ``isolate=False`` runs jobs in this process (no peak-memory figure: the column is left
    empty). ``loader(name, split, data_dir) -> (X, y)`` replaces ``tsea.datasets.load``
    (picklable when isolated). ``timeout`` is seconds per job. ``threads`` is the torch
    thread count of each job (default 1; use ``jobs`` for parallelism). ``jobs`` counts
    datasets run at once; -1 is one per usable core (see :func:`resolve_jobs`).
    """
    names = parse_datasets(datasets) if isinstance(datasets, str) else (
        list(datasets) if datasets is not None else suite_datasets(suite))
    if not names:
        raise ValueError("no datasets given")
    if isinstance(methods, str | MethodSpec):
        methods = [methods]
    specs = parse_methods(methods)
    seeds = parse_seeds(seeds)
    jobs = resolve_jobs(jobs, len(names))
    _check_timeout_and_threads(timeout, threads)
    if threads is None:
        threads = 1  # one torch thread per job: spinning OpenMP threads collapse on a busy machine
    _check_folders(out_dir, data_dir)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "results.csv")
    done = results_io.done_keys(path, retry_failed=retry_failed)
    results_io.record_methods(out_dir, specs)
    results_io.record_data_source(out_dir, data_dir)
    progress = _Progress(len(names), quiet)
    missing = {s.name: unavailable_reason(s) for s in specs}

    stopping = threading.Event()  # set when this run is interrupted (Ctrl-C)

    def run_dataset(name: str) -> None:
        noted = False
        for spec in specs:
            for seed in seeds:
                if stopping.is_set():
                    return
                if (name, spec.name, seed) in done:
                    continue
                if missing[spec.name]:
                    row = {"dataset": name, "method": spec.name, "seed": seed,
                           "status": "skipped", "error": missing[spec.name]}
                elif isolate:
                    row = run_isolated(name, spec, seed, data_dir=data_dir, loader=loader,
                                       threads=threads, timeout=timeout)
                else:
                    row = run_job(name, spec, seed, data_dir=data_dir, loader=loader,
                                  threads=threads)
                if _interrupted(row, stopping):
                    return  # not a result: rerunning the command runs this job again
                note = row.pop("note", None)
                results_io.append_row(path, row)
                progress.say(_row_message(row))
                if note is not None and not noted:  # said even with quiet: it bounds the scores
                    print(f"tsea benchmark: note: {name}: {note}", file=sys.stderr, flush=True)
                    noted = True
        progress.dataset_done(name)

    progress.say(f"{len(names)} datasets x {len(specs)} methods x {len(seeds)} seeds -> {path}")
    recorded = sum((n, s.name, seed) in done for n in names for s in specs for seed in seeds)
    if recorded:
        progress.say(f"{recorded} of these jobs are in results.csv already and are skipped" + (
            "" if retry_failed else " (--retry-failed reruns those that failed)"))
    try:
        if jobs == 1:
            for name in names:
                run_dataset(name)
        else:
            from joblib import Parallel, delayed

            Parallel(n_jobs=jobs, backend="threading")(delayed(run_dataset)(n) for n in names)
    except BaseException:
        stopping.set()
        stop_workers()
        raise
    if stopping.is_set():  # a worker was interrupted before this process heard of it
        raise KeyboardInterrupt

    df = results_io.latest_rows(results_io.read_results(path))
    mine = df[df["dataset"].isin(names) & df["method"].isin([s.name for s in specs])
              & df["seed"].isin(seeds)]
    if report:
        from tsea.benchmark.report import write_report

        md = write_report(out_dir)
        if not quiet:
            print(f"report: {md}")
    return mine.reset_index(drop=True)


def _interrupted(row: dict, stopping: threading.Event) -> bool:
    """Whether ``row`` is a job stopped by the interruption of this run rather than a result.
    A terminal's Ctrl-C reaches the workers too: one that gets it during its job says so; one
    that dies of it, or is ended as this process exits, leaves no row, and this process may see
    its own signal a moment after the worker's death is seen, hence the wait."""
    if row.get("status") == "interrupted":
        stopping.set()  # the other datasets start no new job
        stop_workers()  # nor wait for one that started after the signal
        return True
    if row.get("status") == "failed" and str(row.get("error", "")).startswith(DIED):
        return stopping.wait(1.0)
    return stopping.is_set()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tsea benchmark`` (the CLI adds them to its subcommand parser)."""
    parser.add_argument("--suite", choices=SUITES, default="quick",
                        help="named dataset suite (default: quick, offline)")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated dataset names (replaces --suite)")
    parser.add_argument("--data-dir", default=None,
                        help="archive layout <dir>/<Name>/<Name>_TRAIN.ts|.tsv|.arff")
    parser.add_argument("--methods", default=None,
                        help="comma-separated methods: ea-dc, minirocket, ts2vec, preset names "
                             "of configs/ or YAML config paths "
                             f"(default: {','.join(DEFAULT_METHODS)})")
    parser.add_argument("--method", action="append", default=None, dest="method",
                        help="one more method (repeatable), e.g. ablation-none or my.yaml")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--jobs", type=int, default=-1,
                        help="datasets run in parallel, one torch thread each "
                             "(default -1: one per CPU core; 1: one at a time)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per job (default 1; use --jobs for "
                             "parallelism); replaces a method config's n_jobs, as --seeds "
                             "replaces its random_state")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per job before it is killed")
    parser.add_argument("--retry-failed", action="store_true",
                        help="rerun jobs recorded as failed or timed out")
    parser.add_argument("--no-report", action="store_true", help="do not write results.md/plots")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite results.md/plots from <out>/results.csv (no jobs run)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines")


def check_report_only(args: argparse.Namespace) -> None:
    """ValueError when ``--report-only`` has no results.csv to read in ``--out``."""
    if not os.path.isfile(os.path.join(args.out, "results.csv")):
        raise ValueError(f"--report-only: no results.csv in {args.out}")


def main_from_args(args: argparse.Namespace) -> int:
    """Run ``tsea benchmark``; 0 when no job failed, 1 otherwise (failures are in results.csv)."""
    if getattr(args, "report_only", False):
        from tsea.benchmark.report import write_report

        check_report_only(args)
        print(f"report: {write_report(args.out)}")
        return 0
    methods = []
    if args.methods:
        methods.append(args.methods)
    methods.extend(args.method or [])
    rows = run_benchmark(
        datasets=args.datasets, methods=methods or DEFAULT_METHODS, seeds=args.seeds,
        out_dir=args.out, data_dir=args.data_dir, jobs=args.jobs, suite=args.suite,
        timeout=args.timeout, threads=args.threads, retry_failed=args.retry_failed,
        quiet=getattr(args, "quiet", False), report=not args.no_report,
    )
    quiet = getattr(args, "quiet", False)
    if not quiet and not args.no_report:
        with open(os.path.join(args.out, "results.md"), encoding="utf-8") as fh:
            print(fh.read())
    bad = rows[rows["status"].isin(["failed", "timeout"])]
    if len(bad):
        print(f"{len(bad)} of {len(rows)} jobs failed; see {os.path.join(args.out, 'results.csv')}")
        return 1
    return 0

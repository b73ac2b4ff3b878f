"""Argument parsing of the ``tsea`` command line and ``main`` (exit status: see :mod:`tsea.cli`)."""

from __future__ import annotations

import argparse
import sys
import traceback

from tsea import __version__
from tsea.cli.commands import COMMANDS, UsageError
from tsea.config import ConfigError
from tsea.params import POOLINGS

_RAW = argparse.RawDescriptionHelpFormatter

MAIN_EPILOG = """\
examples:
  tsea fit --data examples/data/ItalyPowerDemand_TRAIN_wide.csv --config tiny --out model.tsea
  tsea embed --model model.tsea examples/data/ItalyPowerDemand_TEST_wide.csv -o embeddings.csv
  tsea evaluate --data BasicMotions --head svm
  tsea fit --data BasicMotions --head logistic --out clf.tsea
  tsea predict --model clf.tsea BasicMotions --split test -o predictions.csv
  tsea predict --model clf.tsea 'shards/part-*.parquet' -o predicted/ --format csv
  tsea attention --model model.tsea --data examples/data/ItalyPowerDemand_TEST_wide.csv --index 0 -o attention.png
  tsea benchmark

Run `tsea <command> --help` for the options of one command.
"""

FIT_EPILOG = """\
examples:
  tsea fit --data BasicMotions --out model.tsea
  tsea fit --data train.csv --config configs/paper.yaml --out model.tsea
  tsea fit --data BasicMotions --config tiny --set n_iters=50 --set random_state=0 --out m.tsea
  tsea fit --data train.csv --label-column label --head svm --out clf.tsea
  tsea fit --data train.csv --label-column target --task regression --out reg.tsea
  tsea fit --data big.csv --set run_dir=runs/big --out model.tsea     # keeps checkpoints
  tsea fit --data big.csv --set run_dir=runs/big --out model.tsea --resume runs/big/checkpoints/last.ckpt

Without --head, --task and --class-weight the model is an encoder (EAEncoder), for `tsea
embed`. With any of them, a head is fitted on the labels too (EAClassifier or EARegressor, as
`tsea evaluate` picks them), and the model file is for `tsea predict` as well.
--config takes a path or a preset name (tiny, default, paper, ablation-none, ...);
--set key=value overrides one encoder parameter (the value is read as YAML).
"""

EMBED_EPILOG = """\
examples:
  tsea embed --model model.tsea series.csv -o embeddings.csv
  tsea embed --model model.tsea series.parquet -o embeddings.parquet --n-jobs -1
  tsea embed --model model.tsea data/X_TEST.ts -o embeddings.parquet --pooling mean
  tsea embed --model model.tsea BasicMotions --split test -o embeddings.npy
  tsea embed --model model.tsea 'shards/part-*.parquet' -o embedded/ --format parquet

Files are read and written chunk by chunk: memory does not grow with the number of series.
A long-layout file (id, time, ...) must hold the rows of each id together (sorted by id).
A folder or glob of shards gives one output per shard, OUTPUT/<shard name>.<format>.
.csv/.parquet: one row per series, column `id` first (ids from the file, else 0..n-1),
then emb_0..emb_{d-1}. .npy: the float32 (n, d) array; the ids go one per line to the
sibling file NAME.ids.txt (embeddings.npy -> embeddings.ids.txt), written as a pair.
"""

EVALUATE_EPILOG = """\
examples:
  tsea evaluate --data BasicMotions --head svm
  tsea evaluate --data train.ts --test test.ts --head ridge --config tiny
  tsea evaluate --data train.csv --label-column label --test test.csv --task regression
  tsea evaluate --data BasicMotions --out clf.tsea --predictions test-predictions.csv
  tsea evaluate --data BasicMotions --report     # per-class precision, recall, F1

The task is inferred (numeric targets with a non-integer value, or a regression dataset
name -> regression) unless --task is given. Prints accuracy, or RMSE and MAE, on the test set.
Heads: classification logistic (default), svm, ridge, finetune; regression ridge (default),
svr, finetune.
"""

PREDICT_EPILOG = """\
examples:
  tsea fit --data train.csv --label-column label --head logistic --out clf.tsea
  tsea predict --model clf.tsea new.csv -o predictions.csv
  tsea predict --model clf.tsea new.parquet -o predictions.parquet --proba
  tsea predict --model clf.tsea BasicMotions --split test -o predictions.csv
  tsea predict --model clf.tsea 'shards/part-*.parquet' -o predicted/ --format csv

The model is a classifier's or regressor's file (`tsea fit --head` or `--task`, or
EAClassifier.save / EARegressor.save). The output has a row per series, in input order:
`id` (from the file, else 0..n-1), `prediction`, and with --proba one column
`proba_<class>` per class. Files are read chunk by chunk, as by `tsea embed`; a folder or
glob of shards gives one table per shard, OUTPUT/<shard name>.<format>.
"""

INFO_EPILOG = """\
examples:
  tsea info model.tsea
  tsea info clf.tsea --json
"""

ATTENTION_EPILOG = """\
examples:
  tsea attention --model model.tsea --data BasicMotions --index 3 -o attention.png
  tsea attention --model model.tsea --data series.csv --index 0 -o attention.png

Draws the series and, under it, the head-averaged attention map of every attention layer
side by side (layer 1 on the left), so the maps can be followed layer by layer.
"""

BENCHMARK_EPILOG = """\
examples:
  tsea benchmark                 # the offline quick suite, prints a table
  tsea benchmark --datasets GunPoint,ItalyPowerDemand --methods ea-dc,minirocket --seeds 0,1
  tsea benchmark --datasets BasicMotions --methods ea-dc,ablation-none --out runs/abl
  tsea benchmark --datasets BasicMotions --method my-config.yaml --out runs/mine
  tsea benchmark --help          # all options of the benchmark runner
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _add_common(parser, *, top_level: bool) -> None:
    # On the subcommands the default is SUPPRESS so that `tsea --quiet fit` is not undone.
    default = False if top_level else argparse.SUPPRESS
    parser.add_argument("--quiet", "-q", action="store_true", default=default,
                        help="no progress bars or summaries (results still print)")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="print the full traceback on errors")


def _add_config(parser) -> None:
    parser.add_argument("--config", "-c", metavar="PATH|PRESET",
                        help="YAML config of encoder parameters (path or preset name); "
                             "default: the estimator defaults")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                        help="override one encoder parameter (repeatable); VALUE is YAML")


def _add_head(parser, head_help: str) -> None:
    parser.add_argument("--head", help=head_help)
    parser.add_argument("--task", default=None, choices=("auto", "classification", "regression"),
                        help="default (and auto): inferred from the training targets")
    parser.add_argument("--class-weight", type=_class_weight, default=None,
                        metavar="balanced|LABEL=W,...",
                        help="classification: 'balanced' weighs each class inversely to its "
                        "share of the training series in the head's loss; 'a=2,b=0.5' gives "
                        "those labels those weights and every other class 1 (default: every "
                        "series alike)")


def _add_split(parser) -> None:
    parser.add_argument("--split", default=None, choices=("train", "test", "all"),
                        help="split of a named dataset (default: train); not for files")


def _add_n_jobs(parser) -> None:
    parser.add_argument("--n-jobs", type=_n_jobs, default=None, metavar="N",
                        help="torch CPU threads (default: the model's n_jobs; -1: all cores)")
    parser.add_argument("--device", default=None, metavar="DEVICE",
                        help="auto, cpu, cuda, cuda:N, mps (default: the model's device; cpu runs a "
                        "model saved with device='cuda' on a machine without CUDA)")


def _add_csv_columns(parser) -> None:
    parser.add_argument("--label-column", metavar="NAME", help="CSV column holding the labels")
    parser.add_argument("--id-column", metavar="NAME", help="CSV column holding the series ids")


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number of threads (>= 1; -1 for every "
                                         f"core, -2 for all but one, ...), got {text!r}")
    return value


def _index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a series index (integer >= 0), got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a series index (integer >= 0), got {value}")
    return value


def _class_weight(text: str):
    """``balanced``, or ``LABEL=W,...`` as {label text: weight}; the labels are matched to the
    training labels' text once they are read (:func:`tsea.cli.commands._supervised_model`)."""
    if text == "balanced":
        return text
    weights = {}
    for item in text.split(","):
        label, sep, weight = item.rpartition("=")
        try:
            value = float(weight)
        except ValueError:
            value = None
        if not sep or not label or value is None:
            raise argparse.ArgumentTypeError(
                f"expected 'balanced' or LABEL=WEIGHT pairs separated by commas, got {item!r}")
        if label in weights:
            raise argparse.ArgumentTypeError(f"label {label!r} is given twice")
        weights[label] = value
    return weights


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tsea", description="Time-series representation learning with the "
                     "EA-DC-Transformer.", epilog=MAIN_EPILOG, formatter_class=_RAW)
    parser.add_argument("--version", action="version", version=f"tsea {__version__}")
    _add_common(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = sub.add_parser("fit", help="pre-train an encoder (or a classifier/regressor) and save "
                         "it", epilog=FIT_EPILOG, formatter_class=_RAW,
                         description="Pre-train an EA-DC encoder without labels and save it "
                         "to one model file; with --head, --task or --class-weight, fit a "
                         "classification or regression head on the labels too.")
    fit.add_argument("--data", "-d", required=True, metavar="NAME|FILE",
                     help="dataset name or .ts/.tsv/.arff/.csv file")
    _add_split(fit)
    fit.add_argument("--out", "-o", required=True, metavar="MODEL", help="model file to write")
    _add_head(fit, "fit a classifier/regressor head on the labels too: logistic, svm, ridge, "
              "finetune / ridge, svr, finetune (default: none, an encoder only)")
    fit.add_argument("--resume", metavar="CKPT",
                     help="continue an interrupted fit from the checkpoint it wrote with --set "
                     "run_dir=DIR (DIR/checkpoints/last.ckpt); same data and parameters")
    _add_config(fit)
    _add_csv_columns(fit)
    _add_common(fit, top_level=False)

    embed = sub.add_parser("embed", help="embed series with a saved model", epilog=EMBED_EPILOG,
                           formatter_class=_RAW, description="Embed every series of a file "
                           "(or named dataset) with a saved model: one row per series.")
    embed.add_argument("input", metavar="INPUT", help=".csv/.parquet/.tsv/.ts/.arff file, a "
                       "folder or quoted glob of such files (shards), or a dataset name")
    embed.add_argument("--model", "-m", required=True,
                       help="model file written by `tsea fit`, or an EAClassifier's or "
                       "EARegressor's file (its encoder)")
    embed.add_argument("--output", "-o", required=True, help="output .csv, .npy or .parquet "
                       "(a folder when INPUT is a folder or glob of shards)")
    embed.add_argument("--format", default=None, choices=("parquet", "csv", "npy"),
                       help="output format of each shard's file (default: parquet); for one "
                       "file, the suffix of --output sets it")
    _add_n_jobs(embed)
    embed.add_argument("--pooling", default=None, choices=POOLINGS,
                       help="pooling over time steps (default: the model's pooling); max+mean "
                       "writes the max-pooled columns first, then the mean-pooled ones")
    _add_split(embed)
    _add_csv_columns(embed)
    _add_common(embed, top_level=False)

    ev = sub.add_parser("evaluate", help="fit on train, score on test", epilog=EVALUATE_EPILOG,
                        formatter_class=_RAW, description="Pre-train and fit a head on the "
                        "training data; print accuracy or RMSE/MAE on the test data.")
    ev.add_argument("--data", "-d", required=True, metavar="NAME|FILE",
                    help="dataset name (its own test split is used) or training file")
    ev.add_argument("--test", "-t", metavar="FILE", help="test file (required with a file --data)")
    _add_head(ev, "classifier/regressor head (default: logistic / ridge)")
    ev.add_argument("--out", "-o", metavar="MODEL",
                    help="also save the fitted classifier/regressor (for `tsea predict`)")
    ev.add_argument("--predictions", metavar="FILE",
                    help="also write the test set's predictions: a .csv/.parquet table of id, "
                    "label, prediction")
    ev.add_argument("--report", action="store_true",
                    help="also print balanced accuracy and per-class precision, recall and F1 "
                    "(regression: R2 and the largest error)")
    ev.add_argument("--pooling", choices=POOLINGS,
                    help="pooling over time steps for the head (default: the config's, else max)")
    _add_config(ev)
    _add_csv_columns(ev)
    _add_common(ev, top_level=False)

    pred = sub.add_parser("predict", help="predict labels or targets with a saved model",
                          epilog=PREDICT_EPILOG, formatter_class=_RAW,
                          description="Predict every series of a file (or named dataset) with "
                          "a saved classifier or regressor: one row per series.")
    pred.add_argument("input", metavar="INPUT", help=".csv/.parquet/.tsv/.ts/.arff file, a "
                      "folder or quoted glob of such files (shards), or a dataset name")
    pred.add_argument("--model", "-m", required=True,
                      help="a classifier's or regressor's model file (`tsea fit --head`)")
    pred.add_argument("--output", "-o", required=True, help="output table, .csv or .parquet (a "
                      "folder when INPUT is a folder or glob of shards)")
    pred.add_argument("--format", default=None, choices=("parquet", "csv"),
                      help="output format of each shard's table (default: parquet); for one "
                      "file, the suffix of --output sets it")
    pred.add_argument("--proba", action="store_true",
                      help="also write each class's probability (classifiers)")
    _add_n_jobs(pred)
    _add_split(pred)
    _add_csv_columns(pred)
    _add_common(pred, top_level=False)

    inf = sub.add_parser("info", help="say what a model file holds", epilog=INFO_EPILOG,
                         formatter_class=_RAW, description="Print what a model file holds: its "
                         "kind, the tsea that wrote it, its input, head and classes, and the "
                         "parameters that differ from this tsea's defaults (nothing is built).")
    inf.add_argument("model", metavar="MODEL", help="a .tsea model file")
    inf.add_argument("--json", action="store_true",
                     help="print every field as JSON, all parameters included")
    _add_common(inf, top_level=False)

    att = sub.add_parser("attention", help="plot attention maps layer by layer",
                         epilog=ATTENTION_EPILOG, formatter_class=_RAW,
                         description="Plot one series and its head-averaged attention map "
                         "in every attention layer (PNG, PDF or SVG).")
    att.add_argument("--model", "-m", required=True,
                     help="model file written by `tsea fit`, or an EAClassifier's or "
                     "EARegressor's file (its encoder)")
    att.add_argument("--data", "-d", required=True, metavar="NAME|FILE",
                     help="dataset name or data file")
    att.add_argument("--index", "-i", type=_index, default=0, help="series index (default 0)")
    _add_split(att)
    att.add_argument("--output", "-o", required=True,
                     help="figure to write; its suffix picks the format (.png, .pdf, .svg)")
    _add_csv_columns(att)
    _add_common(att, top_level=False)

    # The benchmark runner owns its options; they are parsed in _run_benchmark so that
    # `tsea --help` does not import it. add_help=False lets --help reach that parser.
    bench = sub.add_parser("benchmark", help="run the archive benchmark (offline quick suite "
                           "without arguments)", add_help=False)
    bench.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)
    return parser


def _benchmark_parser():
    from tsea.benchmark import runner

    parser = _Parser(prog="tsea benchmark", formatter_class=_RAW, epilog=BENCHMARK_EPILOG,
                     description="Benchmark tsea and baselines on UCR/UEA/TSER archives. "
                     "Without arguments: the offline quick suite.")
    runner.add_arguments(parser)
    return parser, runner


def _run_benchmark(args, extra: list[str]) -> int:
    parser, runner = _benchmark_parser()
    bench_args = parser.parse_args(extra)
    try:
        if bench_args.report_only:
            runner.check_report_only(bench_args)
        else:
            runner.check_arguments(bench_args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "quiet", False):  # `tsea --quiet benchmark ...`
        bench_args.quiet = True
    status = runner.main_from_args(bench_args)
    return 0 if status is None else int(status)


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"  # without Python's [Errno N] and quotes
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (ValueError, OSError, UsageError)):
        return message
    return f"{type(exc).__name__}: {message}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tsea`` console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    debug = getattr(args, "debug", False)
    prog = f"tsea {args.command}"
    if extra and args.command != "benchmark":
        print(f"{prog}: error: unrecognized arguments: {' '.join(extra)} "
              f"(see `{prog} --help`)", file=sys.stderr)
        return 2
    try:
        if args.command == "benchmark":
            return _run_benchmark(args, extra)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError) as exc:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tsea: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(f"tsea: error: {_error_line(exc)}", file=sys.stderr)
        return 1


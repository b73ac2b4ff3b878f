"""Embed the example CSV in examples/data/ with a saved model and show the first rows.

Equivalent shell commands (what this script runs through ``tsea.cli.main``)::

    tsea fit --data examples/data/ItalyPowerDemand_TRAIN_wide.csv --config tiny --out model.tsea
    tsea embed --model model.tsea examples/data/ItalyPowerDemand_TEST_wide.csv -o embeddings.csv

Usage::

    python examples/embed_csv.py                      # fits a tiny model first if needed
    python examples/embed_csv.py --model my.tsea --config default --out-dir /tmp/run

The model is fitted only when the model file does not exist yet; later runs reuse it.
"""

import argparse
import os
import shlex
import sys

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)  # run from a source checkout without installing

from tsea.cli import main as tsea  # noqa: E402


def run(argv):
    print("$ tsea " + " ".join(shlex.quote(a) for a in argv), flush=True)
    status = tsea(argv)
    if status != 0:
        raise SystemExit(status)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", default=".", help="where the model and embeddings go")
    parser.add_argument("--model", default=None, help="model file (default: OUT_DIR/model.tsea)")
    parser.add_argument("--config", default="tiny", help="config used when fitting (default: tiny)")
    parser.add_argument("--train", default=os.path.join(REPO, "examples", "data",
                        "ItalyPowerDemand_TRAIN_wide.csv"), help="CSV to pre-train on")
    parser.add_argument("--csv", default=os.path.join(REPO, "examples", "data",
                        "ItalyPowerDemand_TEST_wide.csv"), help="CSV to embed")
    return parser.parse_args()


def example():
    args = parse_args()
    model = args.model or os.path.join(args.out_dir, "model.tsea")
    output = os.path.join(args.out_dir, "embeddings.csv")
    if not os.path.exists(model):
        run(["fit", "--data", args.train, "--config", args.config, "--out", model])
    run(["embed", "--model", model, args.csv, "-o", output])

    embeddings = pd.read_csv(output)
    print(f"\n{output}: {embeddings.shape[0]} series x {embeddings.shape[1] - 1} dimensions")
    with pd.option_context("display.max_columns", 8, "display.width", 100):
        print(embeddings.head())


if __name__ == "__main__":
    example()

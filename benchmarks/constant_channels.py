"""Which channels the normalisation takes as constant, under the absolute rule (std <= 1e-8)
and under the relative one (std <= 1e-12 of the channel's largest magnitude), on every
dataset of a data folder and the bundled ones, with their first differences (the network's
input channels). Prints the datasets where the two rules disagree.

    python benchmarks/constant_channels.py --data-dir /tmp/tsea-dev-data
"""

import argparse
import os
import warnings

import numpy as np

from tsea.data.convert import to_collection
from tsea.data.scale import append_differences
from tsea.datasets import load

BUNDLED = ["BasicMotions", "JapaneseVowels", "ArrowHead", "GunPoint", "ItalyPowerDemand",
           "OSULeaf", "ACSF1", "PickupGestureWiimoteZ", "PLAID", "Covid3Month",
           "CardanoSentiment", "Tecator"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    names = sorted(os.listdir(args.data_dir)) if args.data_dir else []
    names += [n for n in BUNDLED if n not in names]
    differ, checked = [], 0
    for name in names:
        for split in ("train", "test"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X, _ = load(name, split, data_dir=args.data_dir)
                F = append_differences(to_collection(X).X).astype(np.float64)
                std = np.nanstd(F, axis=(0, 2))
                scale = np.nanmax(np.abs(F), axis=(0, 2))
            checked += 1
            if ((std > 1e-8) != (std > 1e-12 * scale)).any():
                differ.append(f"{name} {split}")
    print(f"{checked} splits of {len(names)} datasets; the rules disagree on: {differ or 'none'}")


if __name__ == "__main__":
    main()

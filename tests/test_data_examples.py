"""The example CSV files in examples/data/: made by its make_examples.py, readable, faithful."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tsea import datasets
from tsea.data import read_file

ROOT = Path(__file__).resolve().parents[1] / "examples" / "data"


def _make_examples():
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_examples


def test_committed_examples_are_what_the_script_makes(tmp_path, monkeypatch):
    monkeypatch.setenv("TSEA_OFFLINE", "1")
    written = _make_examples()(tmp_path)
    assert len(written) == 6
    for path in written:
        assert path.read_bytes() == (ROOT / path.name).read_bytes(), path.name


@pytest.mark.parametrize(
    "name,split,layout,task",
    [
        ("ItalyPowerDemand", "train", "wide", None),
        ("Covid3Month", "test", "wide", "regression"),
        ("JapaneseVowels", "test", "long", None),
    ],
)
def test_examples_hold_the_archive_series(name, split, layout, task):
    coll, y = read_file(ROOT / f"{name}_{split.upper()}_{layout}.csv", task=task)
    X, y_ref = datasets.load(name, split=split)
    rows = [int(i.split("-")[1]) for i in coll.ids]  # ids are <split>-<archive row>
    assert all(i.startswith(split + "-") for i in coll.ids)
    for k, r in enumerate(rows):
        np.testing.assert_array_equal(coll.series(k), X[r])
        assert y[k] == y_ref[r]
    if task == "regression":
        assert y.dtype == np.float64
    if layout == "long":
        assert coll.n_channels == 12 and len(set(coll.lengths)) > 1

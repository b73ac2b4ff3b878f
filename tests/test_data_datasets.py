"""tsea.datasets: offline-first resolution, splits, not-found errors, list_datasets."""

import shutil
from pathlib import Path

import aeon
import numpy as np
import pytest

from tsea import datasets
from tsea.data import read_file, write_csv_wide

AEON_DATA = Path(aeon.__file__).parent / "datasets" / "data"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("TSEA_OFFLINE", "1")
    monkeypatch.delenv("TSEA_DATA", raising=False)
    monkeypatch.setenv("TSEA_CACHE", str(tmp_path / "cache"))


def test_bundled_multivariate_equal_length():
    X, y = datasets.load("BasicMotions", split="train")
    Xt, yt = datasets.load("BasicMotions", split="test")
    assert isinstance(X, np.ndarray) and X.shape == (40, 6, 100) and X.dtype == np.float32
    assert Xt.shape[0] == len(yt) == 40
    assert set(y) == {"standing", "running", "walking", "badminton"}


def test_bundled_unequal_length_is_a_list():
    X, y = datasets.load("JapaneseVowels", split="train")
    assert isinstance(X, list) and len(X) == len(y) == 270
    assert {x.shape[0] for x in X} == {12} and len({x.shape[1] for x in X}) > 1


def test_split_all_is_train_then_test_with_ids():
    Xtr, ytr = datasets.load("GunPoint", split="train")
    Xte, yte = datasets.load("GunPoint", split="test")
    X, y, ids = datasets.load("GunPoint", split="ALL", return_ids=True)
    np.testing.assert_array_equal(X, np.concatenate([Xtr, Xte]))
    assert list(y) == list(ytr) + list(yte)
    assert ids[0] == "train-0" and ids[-1] == f"test-{len(yte) - 1}"


def test_regression_targets_are_float():
    X, y = datasets.load("Covid3Month", split="test")
    assert y.dtype == np.float64 and len(y) == X.shape[0]


def test_data_dir_comes_first(tmp_path):
    folder = tmp_path / "mine" / "GunPoint"
    folder.mkdir(parents=True)
    for split in ("TRAIN", "TEST"):  # a different GunPoint: the first 5 bundled series
        lines = (AEON_DATA / "GunPoint" / "GunPoint_TRAIN.tsv").read_text().splitlines()[:5]
        (folder / f"GunPoint_{split}.tsv").write_text("\n".join(lines) + "\n")
    X, y = datasets.load("GunPoint", data_dir=tmp_path / "mine")
    assert X.shape == (5, 1, 150)
    Xb, yb = datasets.load("GunPoint")
    np.testing.assert_allclose(X, Xb[:5], rtol=1e-6)
    assert list(y) == list(yb[:5])


def test_tsea_data_env_and_unequal_tsv(tmp_path, monkeypatch):
    folder = tmp_path / "Toy"
    folder.mkdir()
    (folder / "Toy_TRAIN.tsv").write_text("a\t1\t2\t3\nb\t4\t5\n")
    (folder / "Toy_TEST.tsv").write_text("a\t6\n")
    monkeypatch.setenv("TSEA_DATA", str(tmp_path))
    X, y = datasets.load("Toy")
    assert [x.tolist() for x in X] == [[[1, 2, 3]], [[4, 5]]] and list(y) == ["a", "b"]
    X, y = datasets.load("Toy", split="all")
    assert [x.shape[1] for x in X] == [3, 2, 1]


def test_not_found_offline_lists_places_and_howto(tmp_path):
    with pytest.raises(ValueError) as err:
        datasets.load("NoSuchData", data_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "NoSuchData") in msg
    assert "aeon:" in msg and "cache:" in msg and "download: skipped" in msg
    assert "TSEA_DATA" in msg and "NoSuchData_TRAIN.ts" in msg


def test_not_found_suggests_the_name_in_its_archive_spelling(tmp_path, monkeypatch):
    monkeypatch.setenv("TSEA_OFFLINE", "1")
    (tmp_path / "MyOwnSet").mkdir()
    for wrong, right in [("gunpoint", "GunPoint"), ("ItalyPowerDemnd", "ItalyPowerDemand"),
                         ("myownset", "MyOwnSet")]:
        with pytest.raises(ValueError, match=rf"^dataset '{wrong}' was not found \(did you mean "
                                             rf"'{right}'\?\)\. Places tried"):
            datasets.load(wrong, data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"^dataset 'NoSuchData' was not found\. Places tried"):
        datasets.load("NoSuchData", data_dir=tmp_path)


def test_unreachable_host_fails_fast(monkeypatch):
    monkeypatch.setenv("TSEA_OFFLINE", "0")
    monkeypatch.setattr(datasets, "HOST", ("127.0.0.1", 9))  # nothing listens: refused at once
    with pytest.raises(ValueError, match="not reachable"):
        datasets.load("NoSuchData")


def test_download_failure_reported(monkeypatch):
    monkeypatch.setenv("TSEA_OFFLINE", "0")
    monkeypatch.setattr(datasets, "_online", lambda: True)

    def boom(name, split, regression):
        raise OSError("connection reset")

    monkeypatch.setattr(datasets, "_download", boom)
    with pytest.raises(ValueError, match=r"download: failed \(OSError: connection reset\)"):
        datasets.load("NoSuchData")


def test_download_used_when_online(monkeypatch):
    monkeypatch.setenv("TSEA_OFFLINE", "0")
    monkeypatch.setattr(datasets, "_online", lambda: True)
    calls = []

    def fake(name, split, regression):
        calls.append((name, split, regression))
        return np.ones((3, 2, 4)), np.array(["x", "y", "x"])

    monkeypatch.setattr(datasets, "_download", fake)
    X, y = datasets.load("Remote", split="test")
    assert calls == [("Remote", "test", False)] and X.shape == (3, 2, 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="split must be one of"):
        datasets.load("GunPoint", split="validation")
    with pytest.raises(ValueError, match="name must be"):
        datasets.load("../GunPoint")
    with pytest.raises(ValueError, match="archive must be one of"):
        datasets.list_datasets("M4")


def test_list_datasets_marks_offline(tmp_path):
    df = datasets.list_datasets("UEA")
    assert list(df.columns) == ["name", "archive", "available_offline", "source"]
    assert len(df) == 30 and (df.archive == "UEA").all()
    row = df.set_index("name").loc["BasicMotions"]
    assert row.available_offline and row.source == "aeon"
    assert df.set_index("name").loc["PEMS-SF", "source"] == "download"
    # a user directory makes a dataset available
    src = AEON_DATA / "ArrowHead"
    assert not datasets.list_datasets("UCR").set_index("name").loc["Adiac", "available_offline"]
    (tmp_path / "d" / "Adiac").mkdir(parents=True)
    shutil.copy(src / "ArrowHead_TRAIN.ts", tmp_path / "d" / "Adiac" / "Adiac_TRAIN.ts")
    shutil.copy(src / "ArrowHead_TEST.ts", tmp_path / "d" / "Adiac" / "Adiac_TEST.ts")
    ucr = datasets.list_datasets("ucr", data_dir=tmp_path / "d").set_index("name")
    assert ucr.loc["Adiac", "available_offline"] and ucr.loc["Adiac", "source"] == "data_dir"
    assert datasets.list_datasets("TSER").set_index("name").loc["Covid3Month", "available_offline"]


def test_loaded_data_round_trips_through_csv(tmp_path):
    X, y = datasets.load("ArrowHead", split="test")
    coll, y2 = read_file(write_csv_wide(tmp_path / "a.csv", X, y))
    np.testing.assert_array_equal(coll.X, X)
    assert list(y2) == list(y)


@pytest.mark.parametrize(
    "y, task",
    [(np.array(["a", "b"]), "classification"), (np.array([1, 2, 1]), "classification"),
     (np.array([1.0, 2.0]), "classification"), (np.array([0.5, 2.0]), "regression"),
     (np.array([True, False]), "classification"), (np.array([1.0, np.nan]), "classification"),
     (np.array(["0.25", "1"]), "regression"), (np.array(["1", "2"]), "classification"),
     (np.array([0.5, "a"], dtype=object), "classification")],
)
def test_infer_task_from_targets(y, task):
    assert datasets.infer_task(y) == task


def test_infer_task_of_named_datasets():
    assert datasets.infer_task(np.array([1.0, 2.0]), "Covid3Month") == "regression"
    assert datasets.infer_task(np.array([0.5, 2.0]), "ItalyPowerDemand") == "regression"
    # an archive's text labels are class labels, even where they read as fractions
    assert datasets.infer_task(np.array(["0.25", "1"]), "ItalyPowerDemand") == "classification"
    assert "Covid3Month" in datasets.regression_names()


def test_a_ts_file_that_declares_regression_is_regression_with_whole_number_targets(tmp_path):
    lines = ["@problemName MyReg", "@univariate true", "@equalLength true", "@seriesLength 3",
             "@classLabel false", "@targetLabel true", "@data",
             "1,2,3:4", "2,3,4:7", "0,1,0:4"]
    (tmp_path / "MyReg").mkdir()
    (tmp_path / "MyReg" / "MyReg_TRAIN.ts").write_text("\n".join(lines) + "\n")
    X, y = datasets.load("MyReg", data_dir=str(tmp_path))
    assert y.dtype.kind == "f" and datasets.infer_task(y, "MyReg") == "regression"
    lines[4:6] = ["@classLabel true 4 7"]
    (tmp_path / "MyReg" / "MyReg_TRAIN.ts").write_text("\n".join(lines) + "\n")
    X, y = datasets.load("MyReg", data_dir=str(tmp_path))
    assert datasets.infer_task(y, "MyReg") == "classification"

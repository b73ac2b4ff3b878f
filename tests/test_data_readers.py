"""tsea.data.readers / csv_io: archive formats, CSV wide/long round trips and errors."""

from pathlib import Path

import aeon
import numpy as np
import pytest

from tsea.data import to_collection
from tsea.data.csv_io import write_csv_long, write_csv_wide
from tsea.data.readers import read_file

nan = np.nan
AEON_DATA = Path(aeon.__file__).parent / "datasets" / "data"


def same_arrays(a, b):
    np.testing.assert_array_equal(a.lengths, b.lengths)
    np.testing.assert_array_equal(a.X, b.X)  # NaN positions equal too


@pytest.fixture
def unequal_univariate():
    rng = np.random.default_rng(0)
    series = [rng.normal(size=n).astype(np.float32) for n in (5, 3, 7)]
    series[0][1] = nan  # a missing value inside a series
    series[2][[0, 4]] = nan
    return series


@pytest.fixture
def unequal_multivariate():
    rng = np.random.default_rng(1)
    series = [rng.normal(size=(2, n)).astype(np.float32) for n in (4, 6, 2)]
    series[1][0, 3] = nan  # one channel missing at a step
    series[1][:, 1] = nan  # all channels missing at a step
    return series


def test_wide_round_trip_unequal_nan_labels_ids(tmp_path, unequal_univariate):
    ids = np.array(["s-a", "007", "c d"], dtype=object)
    y = np.array(["yes", "no", "01"])
    path = write_csv_wide(tmp_path / "w.csv", unequal_univariate, y, ids=ids)
    coll, y2 = read_file(path)
    same_arrays(coll, to_collection(unequal_univariate))
    assert list(coll.ids) == list(ids)  # "007" stays text
    assert list(y2) == list(y)  # "01" keeps its original value
    # ragged rows end in empty cells
    assert path.read_text().splitlines()[2].endswith(",,,,")


def test_wide_without_ids_or_labels(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    coll, y = read_file(write_csv_wide(tmp_path / "w.csv", X))
    assert y is None
    assert list(coll.ids) == [0, 1, 2]
    np.testing.assert_array_equal(coll.X[:, 0], X)  # float32 values survive exactly


@pytest.mark.parametrize("header", ["0,1,2", "1,2,3", "0.0,0.5,1.0"])
def test_numeric_names_in_increasing_order_are_a_header(tmp_path, header):
    # DataFrame(X).to_csv(index=False) names the columns 0, 1, 2; time stamps increase too
    (tmp_path / "n.csv").write_text(header + "\n4,5,6\n7,8,9\n")
    coll, _ = read_file(tmp_path / "n.csv")
    np.testing.assert_array_equal(coll.X[:, 0], [[4, 5, 6], [7, 8, 9]])


def test_long_round_trip_multivariate(tmp_path, unequal_multivariate):
    y = np.array([1.5, -2.0, 3.25])
    ids = [10, 20, 30]
    path = write_csv_long(tmp_path / "l.csv", unequal_multivariate, y, ids=ids)
    coll, y2 = read_file(path, task="regression")
    same_arrays(coll, to_collection(unequal_multivariate))
    assert list(coll.ids) == ["10", "20", "30"]  # ids come back as the text in the file
    assert y2.dtype == np.float64
    np.testing.assert_array_equal(y2, y)


def test_long_rows_shuffled_keep_first_appearance_order(tmp_path):
    text = "id,time,label,a,b\nq,2,x,3,30\np,0,y,9,90\nq,0,x,1,10\nq,1,x,2,\np,1,y,8,80\n"
    (tmp_path / "s.csv").write_text(text)
    coll, y = read_file(tmp_path / "s.csv")
    assert list(coll.ids) == ["q", "p"]
    assert list(y) == ["x", "y"]
    np.testing.assert_array_equal(coll.series(0), [[1, 2, 3], [10, nan, 30]])
    np.testing.assert_array_equal(coll.series(1), [[9, 8], [90, 80]])


def test_iso_times_across_a_daylight_saving_switch_are_read_in_order(tmp_path):
    # an offset that changed within the column (+01:00, then +02:00; Z beside +01:00) was
    # refused as "not an ISO 8601 date", naming a valid cell
    path = tmp_path / "dst.csv"
    path.write_text("id,time,v\n"
                    "a,2024-03-31T03:00:00+02:00,3\na,2024-03-31T00:00:00+01:00,1\n"
                    "a,2024-03-31T01:00:00+01:00,2\n"
                    "b,2024-03-31T00:30:00Z,5\nb,2024-03-31T01:00:00+01:00,4\n")
    coll, _ = read_file(str(path), labels=False)
    np.testing.assert_array_equal(coll.series(0)[0], [1, 2, 3])  # 23:00, 00:00, 01:00 UTC
    np.testing.assert_array_equal(coll.series(1)[0], [4, 5])  # 00:00 UTC, then 00:30 UTC
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("id,time,v\na,1,1\na,2,2\nb,2024-03-31,3\n")
    with pytest.raises(ValueError, match=r"the time column mixes numbers \(data row 1: '1'\) and "
                                         r"text \(data row 3: '2024-03-31'\); give every time"):
        read_file(str(mixed), labels=False)


def test_explicit_columns_and_formats(tmp_path):
    (tmp_path / "w.txt").write_text("name,cls,t0,t1\nA,1,0.5,1.5\nB,2,2.5,\n")
    coll, y = read_file(
        tmp_path / "w.txt", format="csv_wide", id_column="name", label_column="cls"
    )
    assert list(coll.ids) == ["A", "B"] and list(y) == ["1", "2"]
    np.testing.assert_array_equal(coll.lengths, [2, 1])


@pytest.mark.parametrize(
    "name,split", [("GunPoint", "TRAIN"), ("BasicMotions", "TRAIN"), ("ArrowHead", "TRAIN")]
)
def test_archive_formats_agree(name, split):
    got = {}
    for suffix in ("ts", "arff", "tsv"):
        path = AEON_DATA / name / f"{name}_{split}.{suffix}"
        if path.exists():
            got[suffix] = read_file(path)
    assert len(got) >= 2
    ref_coll, ref_y = got.pop("ts")
    for coll, y in got.values():
        np.testing.assert_allclose(coll.X, ref_coll.X, rtol=1e-6)
        # aeon's bundled BasicMotions .arff capitalises its class names, the .ts does not
        assert [v.lower() for v in y] == [v.lower() for v in ref_y]
    assert list(ref_coll.ids) == list(range(ref_coll.n_series))


def test_ts_unequal_and_regression():
    coll, y = read_file(AEON_DATA / "JapaneseVowels" / "JapaneseVowels_TRAIN.ts")
    assert coll.n_channels == 12 and len(set(coll.lengths)) > 1 and y.dtype.kind == "U"
    coll, y = read_file(AEON_DATA / "Covid3Month" / "Covid3Month_TRAIN.ts")
    assert y.dtype == np.float64 and len(y) == coll.n_series


def test_tsv_unequal_lengths_padded(tmp_path):
    (tmp_path / "u.tsv").write_text("a\t1\t2\t3\nb\t4\tNaN\tNaN\nc\t5\t6\n")
    coll, y = read_file(tmp_path / "u.tsv")
    np.testing.assert_array_equal(coll.lengths, [3, 1, 2])
    assert list(y) == ["a", "b", "c"]


BAD_FILES = [
    ("x.csv", "id,time,v\n1,0,1\n1,0,2\n", {}, r"duplicate \(id, time\)"),
    ("x.csv", "id,t0,t1\na,1,2\nb,zz,3\n", {}, r"series 1 \(id 'b'\), column 't0'.*'zz'"),
    ("x.csv", "id,time,v\na,0,1\nb,0,oops\n", {}, r"series 1 \(id 'b'\).*'oops'"),
    ("x.csv", "id,t0,t1\na,1,2\nb,,\n", {}, r"series 1 \(id 'b'\) is all-NaN"),
    ("x.csv", "id,t0\na,1\na,2\n", {}, "duplicate id 'a'"),
    ("x.csv", "id,label\na,1\n", {}, "no time-step columns"),
    ("x.csv", "t0,t1\n", {}, "no series"),
    ("x.csv", "t0,t1\n1,inf\n", {}, "infinite"),
    ("x.csv", "id,time,label,v\na,0,x,1\na,1,y,2\n", {}, "label of series 'a' changes"),
    ("x.csv", "id,time,v\na,0,1\n", {"label_column": "cls"}, "label column 'cls' not in"),
    ("x.csv", "t0,label\n1,abc\n", {"task": "regression"}, "not a number"),
    ("x.csv", "t0,label\n1,\n", {}, "label of series 0 is missing"),
    ("x.csv", "id,time,v\na,yesterday,1\n", {}, "time column"),
    ("x.tsv", "a\n", {}, "at least one value"),
    ("x.tsv", "a\t1\tb\n", {}, r"series 0 \(row 1\), step 1 \(column 3 .*'b'"),
    # the bad cell is named, not the first cell of its column (which pandas read as text too)
    ("x.tsv", "a\t1\t0.5\nb\t2\tx\n", {}, r"series 1 \(row 2\), step 1 \(column 3 .*'x'"),
    ("x.tsv", "\t1\t2\n", {}, "label of series 0 is missing"),
    # extra fields that are not empty: refused, never shifted
    ("x.csv", "id,label,t0\na,x,1,9\n", {}, r"line 2 \(data row 1\) has value '9' in field 4, more fields"),
    ("x.csv", "id,label,t0,\na,x,1,9\n", {}, r"value '9' in field 4, an unnamed column"),
    ("x.csv", ",t0,t1\n0,1,2\n", {}, "column 1 of the header has no name"),
    ("x.csv", "id,t0,t0\na,1,2\n", {}, "names column 't0' twice"),
    # a file without a header: its first series is not taken for column names
    ("x.csv", "0.5,1.5,-2\n1,2,3\n", {}, r"first row \(0.5,1.5,-2\) looks like values"),
    ("x.csv", "1,1,2,3,5,8\n1,2,3,4,5,6\n", {}, r"first row \(1,1,2,3,\.\.\.\) looks like values"),
    ("x.csv", "id,t0\n,1\n", {}, r"the id is missing \(empty cell\) in data row 1"),
    # another separator, or a reserved column name but for case or spaces
    ("x.csv", "id;label;t0\na;x;1\n", {}, r"header is one column, 'id;label;t0': the file looks "
     r"separated by ';', but CSV files are read with ','"),
    ("x.csv", "id\tt0\na\t1\n", {}, r"header is one column, .* separated by '\\t'"),
    ("x.csv", "ID,t0\na,1\n", {}, r"'ID' is read as values, not as 'id': rename it 'id', or pass "
     r"id_column='ID' \(--id-column\)$"),
    ("x.csv", "id, label,t0\na,x,1\n", {}, r"' label' is read as values, not as 'label': rename "
     r"it 'label', or pass label_column=' label'"),
    ("x.csv", "id,Time,v\na,0,1\na,1,2\n", {}, r"duplicate id 'a' \(a long file needs a column "
     r"named exactly 'time'; 'Time' is read as a time step\)$"),
    ("x.csv", "Label,t0\nx,1\n", {}, r"non-numeric value 'x' .*rename it 'label', or pass "
     r"label_column='Label'"),
    ("x.csv", "t0,t1\n1,NA\n", {}, r"non-numeric value 'NA'.*empty cells or NaN"),
    ("x.csv", "", {}, "the file is empty"),
    ("x.ts", "t0\n1\n", {"label_column": "y"}, "CSV files only"),
    ("x.ts", "this is not a ts file\n", {}, "could not be read"),
    ("x.xlsx", "", {}, "unknown format"),
    ("x.parquet", "", {}, "not a readable Parquet file"),
    ("x.csv", "t0\n1\n", {"task": "forecast"}, "task must be"),
]


@pytest.mark.parametrize("name,text,kwargs,match", BAD_FILES, ids=[b[3] for b in BAD_FILES])
def test_read_errors(tmp_path, name, text, kwargs, match):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=match):
        read_file(tmp_path / name, **kwargs)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_file(tmp_path / "nope.csv")


def test_writer_errors(tmp_path):
    with pytest.raises(ValueError, match="univariate"):
        write_csv_wide(tmp_path / "a.csv", np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="ids has 1 entries"):
        write_csv_long(tmp_path / "a.csv", np.ones((2, 4)), ids=["a"])
    with pytest.raises(ValueError, match="clash"):
        write_csv_long(tmp_path / "a.csv", np.ones((2, 4)), channel_names=["time"])

"""Inputs that were misread silently and are refused now, naming the problem (the project rule:
nothing is silently dropped, truncated or reordered): a pandas index written into a Parquet
file, a second reserved column (label/target/id) read as values, a text time column of an
in-memory long DataFrame, numbers that only Python's float() reads (``1_000``, ``１``), and a
comma-separated .tsv file. The whole-file readers and the streaming one give the same error."""

import re

import numpy as np
import pandas as pd
import pytest

from tsea.data import read_file, to_collection, write_csv_long
from tsea.data.stream import SeriesStream

pytest.importorskip("pyarrow")


def write(tmp_path, text, name="x.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def assert_refused_alike(path, match, **kwargs):
    """read_file (with and without labels) and SeriesStream (chunks of 1 and 2 series) raise the
    same ValueError, matching ``match``."""
    with pytest.raises(ValueError, match=match) as whole:
        read_file(path, **kwargs)
    with pytest.raises(ValueError) as unlabelled:
        read_file(path, labels=False, **kwargs)
    assert str(unlabelled.value) == str(whole.value)
    for chunk in (1, 2):
        with pytest.raises(ValueError) as streamed:
            list(SeriesStream(path, chunk_series=chunk, **kwargs))
        assert str(streamed.value) == str(whole.value)


# -- a pandas index written by DataFrame.to_parquet ---------------------------------------------
WIDE = pd.DataFrame({"label": ["1", "0", "1", "1"], "t0": [1.0, 2.0, 3.0, 4.0],
                     "t1": [5.0, 6.0, 7.0, 8.0]})
LONG = pd.DataFrame({"id": ["a", "a", "b", "c"], "time": [0, 1, 0, 0], "label": ["u", "u", "v", "v"],
                     "x": [1.0, 2.0, 3.0, 4.0]})


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_parquet_with_an_unnamed_pandas_index_is_refused(tmp_path, layout):
    df = WIDE if layout == "wide" else LONG
    path = tmp_path / "x.parquet"
    df.iloc[[0, 1, 3]].to_parquet(path)  # not a RangeIndex: stored as __index_level_0__
    assert_refused_alike(
        path,
        r"x.parquet: column '__index_level_0__' is a pandas index written by "
        r"DataFrame.to_parquet.*index=False.*reset_index\(\).*'id'.*--id-column",
    )


def test_parquet_with_a_named_pandas_index_is_refused_unless_read_by_name(tmp_path):
    path = tmp_path / "x.parquet"
    WIDE.set_axis(pd.Index([7, 8, 9, 10], name="sample")).to_parquet(path)
    assert_refused_alike(path, "column 'sample' is a pandas index written by DataFrame.to_parquet")
    # an index the layout reads by name (the id; id and time of a long file) is that column
    WIDE.set_axis(pd.Index(["p", "q", "r", "s"], name="id")).to_parquet(path)
    coll, y = read_file(path)
    assert list(coll.ids) == ["p", "q", "r", "s"] and coll.max_length == 2
    LONG.set_index(["id", "time"]).to_parquet(path)
    coll, y = read_file(path)
    assert list(coll.ids) == ["a", "b", "c"] and coll.n_channels == 1 and list(y) == ["u", "v", "v"]
    # a RangeIndex is metadata only: nothing to refuse
    WIDE.iloc[::2].to_parquet(path)
    assert read_file(path)[0].max_length == 2


def test_parquet_index_level_name_is_refused_without_pandas_metadata(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "x.parquet"
    table = pa.table({"t0": [1.0, 2.0], "t1": [3.0, 4.0], "__index_level_0__": [5, 9]})
    pq.write_table(table.replace_schema_metadata(None), path)
    assert_refused_alike(path, "column '__index_level_0__' is a pandas index")


# -- a second reserved column (label/target, id) is not read as values ---------------------------
RESERVED = [
    ("id,label,target,t0,t1\na,x,1.5,1,2\nb,y,2.5,3,4\n", {}, "target", "label", "label_column"),
    ("id,label,target,t0,t1\na,1,1.5,1,2\nb,2,2.5,3,4\n", {"label_column": "target"}, "label",
     "target", "label_column"),
    ("name,id,t0,t1\na,1,1,2\nb,2,3,4\n", {"id_column": "name"}, "id", "name", "id_column"),
    ("id,time,label,target,x\na,0,1,2.5,1\na,1,1,2.5,2\n", {"label_column": "target"}, "label",
     "target", "label_column"),
    ("id,time,target,label,x\na,0,2.5,1,1\na,1,2.5,1,2\n", {}, "target", "label", "label_column"),
    ("name,time,id,x\na,0,1,1\na,1,1,2\n", {"id_column": "name"}, "id", "name", "id_column"),
    ("id,cls,label,t0\na,x,1,1\n", {"label_column": "cls"}, "label", "cls", "label_column"),
]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.parametrize("text,kwargs,extra,used,option", RESERVED)
def test_a_second_reserved_column_is_refused(tmp_path, suffix, text, kwargs, extra, used, option):
    path = write(tmp_path, text)
    if suffix == "parquet":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        path = tmp_path / "x.parquet"
        df.to_parquet(path, index=False)
    flag = option.replace("_", "-")
    assert_refused_alike(
        path,
        rf"x.{suffix}: column '{extra}' has a name reserved for .*, but '{used}' is the .* "
        rf"column: it would be read as values; drop it, or choose it with "
        rf"{option}='{extra}' \(--{flag} {extra}\)",
        **kwargs,
    )


def test_long_writer_refuses_a_channel_named_as_labels(tmp_path):
    with pytest.raises(ValueError, match=r"channel names \['target'\] clash with reserved"):
        write_csv_long(tmp_path / "a.csv", np.ones((2, 4)), np.array(["u", "v"]),
                       channel_names=["target"])


def test_regression_with_label_and_target_columns_is_refused(tmp_path):
    path = write(tmp_path, "id,label,target,t0,t1\na,1,2,3,4\n")
    with pytest.raises(ValueError, match="column 'target' has a name reserved"):
        read_file(path, task="regression")


# -- the time column of an in-memory long DataFrame, as text -------------------------------------
def long_frame(time):
    return pd.DataFrame({"id": ["a"] * len(time), "time": time, "v": np.arange(len(time), dtype=float)})


@pytest.mark.parametrize("dtype", [object, "str", "string"])
def test_text_time_in_a_long_dataframe_is_read_as_numbers(dtype):
    time = [str(t) for t in range(12)][::-1]
    coll = to_collection(long_frame(pd.Series(time, dtype=dtype)))
    np.testing.assert_array_equal(coll.X[0, 0], np.arange(12.0)[::-1])


def test_text_time_in_a_long_dataframe_is_read_as_iso_dates():
    time = ["2024-01-10", "2024-01-02", "2024-01-09"]
    coll = to_collection(long_frame(pd.Series(time, dtype=object)))
    np.testing.assert_array_equal(coll.X[0, 0], [1.0, 2.0, 0.0])


def test_text_time_read_as_numbers_finds_duplicates():
    with pytest.raises(ValueError, match="duplicate"):
        to_collection(long_frame(["1", "01"]))


def test_text_time_in_a_long_dataframe_that_is_not_a_number_or_date_is_refused():
    with pytest.raises(ValueError, match=r"X: the time column must hold numbers or ISO 8601 "
                                         r"dates \(data row 3: 'soon'\)"):
        to_collection(long_frame(pd.Series(["0", "1", "soon"], dtype=object)))


@pytest.mark.parametrize(
    "time", [[2, 0, 1], [2.0, 0.5, 1.0], pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01"]),
             pd.Series([2, 0, 1], dtype=object)])
def test_numeric_and_datetime_time_columns_still_work(time):
    coll = to_collection(long_frame(time))
    np.testing.assert_array_equal(coll.X[0, 0], [1.0, 2.0, 0.0])


# -- numbers: only what a data file writes, not all that float() reads ---------------------------
@pytest.mark.parametrize("cell", ["1_000", "\uff11", "\u0663", "1\u00a0"])
def test_csv_cells_only_float_reads_are_refused(tmp_path, cell):
    path = write(tmp_path, f"id,t0,t1\na,1,2\nb,3,{cell}\n")
    assert_refused_alike(
        path, rf"series 1 \(id 'b'\), column 't1' has non-numeric value {re.escape(repr(cell))}")
    tsv = write(tmp_path, f"a\t1\t2\nb\t3\t{cell}\n", "x.tsv")
    assert_refused_alike(tsv, rf"series 1 \(row 2\), step 1 .* non-numeric value "
                              rf"{re.escape(repr(cell))}")


def test_long_time_and_regression_targets_refuse_them_too(tmp_path):
    path = write(tmp_path, "id,time,v\na,1_0,1\n")
    with pytest.raises(ValueError, match=r"the time column must hold numbers .*'1_0'"):
        read_file(path)
    path = write(tmp_path, "t0,target\n1,1_000\n")
    with pytest.raises(ValueError, match=r"regression target of series 0 is '1_000', not a number"):
        read_file(path, task="regression")


def test_ordinary_numbers_still_parse(tmp_path):
    path = write(tmp_path, "t0,t1,t2,t3,t4,t5,t6,t7\n1,-1.5,1e-3,+2, 3 ,nan,NaN,\n")
    coll, _ = read_file(path)
    np.testing.assert_array_equal(coll.X[0, 0, :5], np.float32([1, -1.5, 1e-3, 2, 3]))
    assert list(coll.lengths) == [5]
    with pytest.raises(ValueError, match="infinite"):
        read_file(write(tmp_path, "t0,t1\n1,inf\n"))


def test_comma_separated_tsv_says_so(tmp_path):
    path = write(tmp_path, "1,0.5,0.25\n2,0.75,1\n", "x.tsv")
    assert_refused_alike(path, r"x.tsv: row 1 \('1,0.5,0.25'\) has commas but no tab: the file "
                               r"seems comma-separated, and a \.tsv file must be tab-separated")


@pytest.mark.parametrize("rows_per_chunk", [2, 3, 65536])
def test_times_mixing_numbers_and_dates_are_refused_alike_whole_and_in_chunks(
        tmp_path, monkeypatch, rows_per_chunk):
    # read in chunks, each chunk's times were of one kind and the file was embedded; read
    # whole, it was refused, naming a valid date
    import tsea.data.stream as stream_mod

    monkeypatch.setattr(stream_mod, "LONG_ROWS", rows_per_chunk)
    path = write(tmp_path, "id,time,v\na,1,1\na,2,2\nb,2024-03-31,3\nb,2024-04-01,4\n")
    assert_refused_alike(path, r"the time column mixes numbers \(data row 1: '1'\) and text "
                               r"\(data row 3: '2024-03-31'\); give every time")


def test_space_separated_tsv_says_so(tmp_path):
    path = write(tmp_path, "1 0.5 0.25\n2 0.75 1\n", "x.tsv")
    assert_refused_alike(path, r"x.tsv: row 1 \('1 0.5 0.25'\) has spaces but no tab: a \.tsv "
                               r"file must be tab-separated \(convert it, e.g. pandas.read_csv\(path, "
                               r"header=None, sep=r'\\s\+'\)")


def test_tsv_regression_targets_are_read_as_numbers(tmp_path):
    """A .tsv's first column is text like any label: for regression it is parsed as CSV
    targets are (it was handed on as text and refused)."""
    path = write(tmp_path, "1.5\t1\t2\n-2.25\t3\t4\n", "r.tsv")
    _, y = read_file(path, task="regression")
    np.testing.assert_array_equal(y, [1.5, -2.25])
    assert read_file(path)[1].tolist() == ["1.5", "-2.25"]
    bad = write(tmp_path, "1.5\t1\t2\n1_0\t3\t4\n", "bad.tsv")
    with pytest.raises(ValueError, match=r"bad.tsv: regression target of series 1 is '1_0', not a number"):
        read_file(bad, task="regression")

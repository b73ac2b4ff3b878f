"""tsea.data.to_collection: every accepted form, every listed error, and the checks helpers."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsea.data import Collection, check_y, to_collection

nan = np.nan


def assert_valid(coll):
    assert isinstance(coll, Collection)
    assert coll.X.dtype == np.float32 and coll.X.ndim == 3
    assert coll.lengths.dtype == np.int64 and coll.lengths.shape == (coll.n_series,)
    for i, n in enumerate(coll.lengths):
        assert 1 <= n <= coll.max_length
        assert np.isnan(coll.X[i, :, n:]).all()
        assert (~np.isnan(coll.X[i, :, n - 1])).any()


def test_3d_array_cast_and_copied():
    X = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    coll = to_collection(X)
    assert_valid(coll)
    assert coll.X.shape == (2, 3, 4) and coll.n_channels == 3 and coll.max_length == 4
    np.testing.assert_array_equal(coll.X, X.astype(np.float32))
    np.testing.assert_array_equal(coll.lengths, [4, 4])
    assert coll.ids is None
    X32 = X.astype(np.float32)
    coll = to_collection(X32)
    coll.X[0, 0, 0] = 99.0
    assert X32[0, 0, 0] == 0.0  # never aliases the caller's array


def test_2d_array_is_univariate():
    coll = to_collection(np.ones((5, 7)))
    assert coll.X.shape == (5, 1, 7)


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, np.bool_, np.float16, np.float64])
def test_numeric_dtypes_cast(dtype):
    X = (np.arange(12).reshape(2, 2, 3) % 2).astype(dtype)
    coll = to_collection(X)
    assert coll.X.dtype == np.float32
    np.testing.assert_array_equal(coll.X, X.astype(np.float32))


def test_object_array_of_numbers():
    X = np.array([[1, 2.5, True], [None, 4, 5]], dtype=object)
    coll = to_collection(X)
    np.testing.assert_array_equal(coll.X[:, 0], [[1, 2.5, 1], [nan, 4, 5]])
    np.testing.assert_array_equal(coll.lengths, [3, 3])


def test_trailing_nan_is_padding_inner_nan_is_missing():
    X = np.array([[[1, nan, 3, nan, nan]], [[nan, 2, nan, nan, 5]]])
    coll = to_collection(X)
    np.testing.assert_array_equal(coll.lengths, [3, 5])
    # a step is observed if any channel is observed
    X2 = np.array([[[1, 2, nan, nan], [1, nan, nan, 4]]])
    np.testing.assert_array_equal(to_collection(X2).lengths, [4])


def test_list_of_unequal_arrays():
    a, b = np.arange(6).reshape(2, 3), np.arange(10).reshape(2, 5)
    coll = to_collection([a, b])
    assert_valid(coll)
    assert coll.X.shape == (2, 2, 5)
    np.testing.assert_array_equal(coll.lengths, [3, 5])
    np.testing.assert_array_equal(coll.series(0), a)
    np.testing.assert_array_equal(coll.to_list()[1], b)
    assert np.isnan(coll.X[0, :, 3:]).all()


def test_list_of_1d_and_tuple_and_series():
    coll = to_collection((np.ones(3), [1.0, 2.0], pd.Series([4, 5, 6, 7])))
    assert coll.X.shape == (3, 1, 4)
    np.testing.assert_array_equal(coll.lengths, [3, 2, 4])


def test_series_of_series_is_a_collection_named_by_its_index():
    column = pd.Series([np.array([1.0, 2, 3]), pd.Series([4.0, 5]), [6.0]], index=["a", "b", "c"])
    coll = to_collection(column)
    assert coll.X.shape == (3, 1, 3) and list(coll.ids) == ["a", "b", "c"]
    np.testing.assert_array_equal(coll.lengths, [3, 2, 1])
    np.testing.assert_array_equal(coll.series(1), [[4, 5]])
    with pytest.raises(ValueError, match=r"series 1 \(id 'b'\), channel 0, step 1 has non-numeric"):
        to_collection(pd.Series([np.ones(2), np.array([1.0, "x"], dtype=object)], index=["a", "b"]))


def test_masked_entries_are_missing_values():
    values = np.arange(12.0).reshape(2, 6)
    masked = np.ma.masked_array(values, mask=values == 2)
    coll = to_collection(masked)
    assert np.isnan(coll.X[0, 0, 2]) and np.isnan(coll.X).sum() == 1
    np.testing.assert_array_equal(coll.X[1, 0], values[1])
    ints = np.ma.masked_array(np.arange(6).reshape(1, 6), mask=[[0, 0, 0, 0, 1, 1]])
    assert to_collection(ints).lengths.tolist() == [4]  # masked at the end: a shorter series
    listed = to_collection([np.ma.masked_array([1.0, 5.0, 3.0], mask=[0, 1, 0]), np.ones(2)])
    assert np.isnan(listed.X[0, 0, 1]) and listed.lengths.tolist() == [3, 2]


def test_object_array_of_arrays():
    items = np.empty(2, dtype=object)
    items[0], items[1] = np.ones((1, 2)), np.ones((1, 4))
    np.testing.assert_array_equal(to_collection(items).lengths, [2, 4])


def test_sktime_nested_dataframe():
    df = pd.DataFrame(
        {
            "dim_0": [pd.Series([1.0, 2, 3]), pd.Series([4.0, 5])],
            "dim_1": [pd.Series([7.0, 8, 9]), pd.Series([1.0, 2])],
        },
        index=["a", "b"],
    )
    coll = to_collection(df)
    assert coll.X.shape == (2, 2, 3)
    np.testing.assert_array_equal(coll.lengths, [3, 2])
    np.testing.assert_array_equal(coll.series(1), [[4, 5], [1, 2]])
    assert list(coll.ids) == ["a", "b"]


def test_nested_cells_whose_time_index_is_not_increasing_are_refused():
    """A cell's index is its time axis: reversed, its values would be read backwards."""
    reversed_cell = pd.Series([3.0, 2.0, 1.0], index=[2, 1, 0])
    df = pd.DataFrame({"dim_0": [pd.Series([1.0, 2.0]), reversed_cell]}, index=["a", "b"])
    with pytest.raises(ValueError, match=r"cell \(row 1, column 'dim_0'\) has an index that "
                                         r"is not in increasing order .*sort_index"):
        to_collection(df)
    fixed = df.copy()
    fixed.iat[1, 0] = reversed_cell.sort_index()
    np.testing.assert_array_equal(to_collection(fixed).series(1), [[1.0, 2.0, 3.0]])


def test_time_indexes_that_position_would_misread_are_refused_in_every_series_form():
    """Read by position, a channel whose index starts later was moved to the start, a repeated
    time counted twice, and a reversed series in a list or a Series of series (the nested
    form refused it) was read backwards."""
    early, late = pd.Series([1.0, 2.0, 3.0], index=[0, 1, 2]), pd.Series([5.0, 6.0], index=[1, 2])
    nested = pd.DataFrame({"c0": [early], "c1": [late]})
    with pytest.raises(ValueError, match=r"nested DataFrame row 0: column 'c1' has another time "
                                         r"index than column 'c0' \(it starts at 1, that one at "
                                         r"0\); tsea reads cells by position"):
        to_collection(nested)
    shorter = pd.DataFrame({"c0": [early], "c1": [pd.Series([5.0, 6.0])]})  # a start of c0's
    np.testing.assert_array_equal(to_collection(shorter).series(0), [[1, 2, 3], [5, 6, np.nan]])
    repeated = pd.Series([1.0, 2.0, 3.0], index=[0, 0, 1])
    backwards = pd.Series([1.0, 2.0, 3.0], index=[2, 1, 0])
    # an index of labels says nothing of time: rows of a wide table (columns "0".."11", where
    # "10" sorts before "2") are read by position
    wide = pd.DataFrame(np.arange(24.0).reshape(2, 12), columns=[str(j) for j in range(12)])
    for X in ([wide.iloc[0], wide.iloc[1]], pd.Series([wide.iloc[0], wide.iloc[1]])):
        np.testing.assert_array_equal(to_collection(X).X[:, 0], wide.to_numpy())
    # the same instants in two time zones are one time axis
    instants = pd.date_range("2024-03-31", periods=3, freq="h", tz="UTC")
    zoned = pd.DataFrame({"c0": [pd.Series([1.0, 2.0, 3.0], index=instants)],
                          "c1": [pd.Series([4.0, 5.0, 6.0], index=instants.tz_convert("Europe/Berlin"))]})
    np.testing.assert_array_equal(to_collection(zoned).series(0), [[1, 2, 3], [4, 5, 6]])
    repeats, reversed_ = r"has a repeated time in its index \(0\)", "is not in increasing order"
    for X, message in [(pd.DataFrame({"c0": [repeated]}), r"cell \(row 0, column 'c0'\) " + repeats),
                       ([early, repeated], "series 1 " + repeats),
                       (pd.Series([backwards]), r"series 0 \(id 0\) has an index that " + reversed_),
                       ([backwards], "series 0 has an index that " + reversed_)]:
        with pytest.raises(ValueError, match=message):
            to_collection(X)


def test_long_format_sorted_by_time_first_appearance_order():
    df = pd.DataFrame(
        {
            "id": ["s2", "s1", "s2", "s1", "s1"],
            "time": [1, 2, 0, 0, 1],
            "x": [20, 12, 10, 10, 11],
            "y": [0.5, 0.2, 0.4, 0.0, 0.1],
        }
    )
    coll = to_collection(df)
    assert list(coll.ids) == ["s2", "s1"]
    np.testing.assert_array_equal(coll.lengths, [2, 3])
    np.testing.assert_allclose(coll.series(0), [[10, 20], [0.4, 0.5]])
    np.testing.assert_allclose(coll.series(1), [[10, 11, 12], [0.0, 0.1, 0.2]])


def test_multiindex_dataframe_matches_sktime_conversion():
    sk = pytest.importorskip("sktime.datatypes")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 2, 6))
    mi = sk.convert_to(X, to_type="pd-multiindex")
    nested = sk.convert_to(X, to_type="nested_univ")
    np.testing.assert_allclose(to_collection(mi).X, X.astype(np.float32))
    np.testing.assert_allclose(to_collection(nested).X, X.astype(np.float32))


def test_aeon_loader_output_accepted():
    from aeon.datasets import load_basic_motions, load_japanese_vowels

    X, _ = load_basic_motions(split="train")
    coll = to_collection(X)
    assert coll.X.shape == X.shape
    Xu, _ = load_japanese_vowels(split="train")
    coll = to_collection(Xu)
    np.testing.assert_array_equal(coll.lengths, [x.shape[1] for x in Xu])


def test_subset_keeps_order_and_ids():
    coll = to_collection(pd.DataFrame({"id": [5, 5, 6, 7], "time": [0, 1, 0, 0], "v": [1, 2, 3, 4]}))
    sub = coll.subset(np.array([2, 0]))
    assert list(sub.ids) == [7, 5]
    np.testing.assert_array_equal(sub.lengths, [1, 2])
    assert coll.subset(1).n_series == 1


ERRORS = [
    ([], "empty"),
    (np.zeros((0, 2, 3)), "empty"),
    (np.zeros((2, 0, 3)), "no channels"),
    (np.zeros((2, 1, 0)), "zero length"),
    ([np.ones(3), np.ones(0)], "series 1 has zero length"),
    (np.array([[1.0, 2], [nan, nan], [3, 4]]), "series 1 is all-NaN"),
    ([np.ones(3), np.array([nan])], "series 1 is all-NaN"),
    (np.array([[1.0, 2], [3, np.inf]]), "series 1, channel 0, step 1 is infinite"),
    (np.array([[1.0, -np.inf]]), "infinite"),
    (np.array([[1e300, 1.0]]), "float32 range"),
    (np.array([["a", "b"]]), "non-numeric"),
    (np.array([[1, 2], [3, "x"]], dtype=object), "series 1, channel 0, step 1 has non-numeric"),
    ([np.ones(2), np.array(["1", "2"])], "series 1"),
    (np.array([[1 + 1j, 2]]), r"complex values \(dtype complex128\), which are not supported: pass X.real"),
    ([np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 3))], "series 2 has 3 channels, expected 2"),
    ([np.ones((1, 3)), np.ones(4)[None, None]], "series 1 has 3 dimensions"),
    (np.ones((2, 2, 2, 2)), "4-D"),
    (np.ones(5), "1-D"),
    (np.float64(3.0), "0-D"),
    ([np.ones(3), 4.0], "series 1 is a scalar"),
    ("abc", "got str"),
    ({"a": 1}, "got dict"),
    (None, "got NoneType"),
    (pd.Series([1.0, 2.0]), "pandas Series of numbers"),
    (pd.Series([np.ones(2), 3.0]), "pandas Series of numbers"),
    (pd.DataFrame({"a": [1.0], "b": [2.0]}), r"long format.*for a wide table .* pass df.to_numpy\(\)"),
    (pd.DataFrame({"a": ["x"], "b": [2.0]}), r"got columns \['a', 'b'\]$"),
    (pd.DataFrame({"id": [], "time": [], "v": []}), "no rows"),
    (pd.DataFrame({"id": [1, 1], "time": [0, 0], "v": [1, 2]}), r"duplicate \(id, time\)"),
    (pd.DataFrame({"id": [1, 1], "time": [0, 1]}), "no channel columns"),
    (pd.DataFrame({"id": [1, None], "time": [0, 1], "v": [1, 2]}), "id column is missing"),
    (pd.DataFrame({"id": [1, 2], "time": [0, 1], "v": [1, "q"]}), r"series 1 \(id 2\)"),
    (pd.DataFrame({"id": [1, 2], "time": [0, 0], "v": [1, nan]}), r"series 1 \(id 2\) is all-NaN"),
    (pd.DataFrame({"c": [pd.Series([1.0]), 3.0]}), "row 1"),
]


@pytest.mark.parametrize("bad,match", ERRORS, ids=[m for _, m in ERRORS])
def test_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        to_collection(bad)


def test_what_names_the_input():
    with pytest.raises(ValueError, match="^X_test: series 0 is all-NaN"):
        to_collection(np.full((1, 3), nan), what="X_test")


def test_check_y():
    y = check_y(["a", "b", "a"], 3, "classification")
    assert list(y) == ["a", "b", "a"]
    assert check_y(pd.Series([1, 2]), 2, "regression").dtype == np.float64
    with pytest.raises(ValueError, match="2 value.*3 series"):
        check_y([1, 2], 3, "classification")
    with pytest.raises(ValueError, match=r"y\[1\] is missing"):
        check_y(np.array(["a", None], dtype=object), 2, "classification")
    with pytest.raises(ValueError, match=r"y\[0\] = 'x' is not a number"):
        check_y(np.array(["x", 1.0], dtype=object), 2, "regression")
    with pytest.raises(ValueError, match=r"y\[1\] = nan"):
        check_y([1.0, nan], 2, "regression")
    with pytest.raises(ValueError, match="1-D"):
        check_y(np.ones((2, 2)), 2, "regression")
    with pytest.raises(ValueError, match="task"):
        check_y([1], 1, "clustering")


@pytest.mark.slow  # a fresh Python process (~2 s)
def test_data_layer_never_imports_torch():
    code = (
        "import sys, tsea.data, tsea.datasets, tsea.data.readers;"
        "tsea.datasets.load('GunPoint');"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("name", ["label", "target"])
def test_a_long_frame_with_a_label_column_is_refused_not_read_as_a_channel(name):
    df = pd.DataFrame({"id": [0, 0, 1, 1], "time": [0, 1, 0, 1], "value": [1.0, 2, 3, 4],
                       name: [1, 1, 0, 0]})
    message = f"X: column '{name}' would be read as a channel, but its name is the one tsea's " \
              "files give labels and targets. Labels go in y"
    with pytest.raises(ValueError, match=message):
        to_collection(df)
    with pytest.raises(ValueError, match=message):
        to_collection(df.set_index(["id", "time"]))
    assert to_collection(df.rename(columns={name: "v2"})).n_channels == 2


def test_values_whose_detail_float32_rounds_away_are_warned_about():
    # Tecator + 1e6 kept 13 of a series' 100 levels, silently: the model lost the signal
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2, 40))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_collection(X)  # ordinary values: no warning
        to_collection(X.astype(np.float32) + np.float32(1e6))  # float32 already: nothing lost here
        to_collection(X * 1e-30)
    shifted = X.copy()
    shifted[:, 1] += 1e6
    with pytest.warns(UserWarning, match=r"X: channel 1 loses detail in float32, .*rounding moves "
                                         r"its values by up to 0\.03.*subtract an offset"):
        coll = to_collection(shifted)
    np.testing.assert_allclose(coll.X[:, 1], shifted[:, 1], rtol=1e-7)  # read, not refused
    with pytest.warns(UserWarning, match=r"channel 0 \(and 1 more\) loses detail .* too small for "
                                         "float32; scale"):
        to_collection(X * 1e-60)

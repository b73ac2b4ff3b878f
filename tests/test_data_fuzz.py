"""Hypothesis fuzzing of to_collection: a valid Collection or a ValueError, never anything else."""

import numpy as np
import pandas as pd
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tsea.data import Collection, to_collection

FUZZ = settings(max_examples=150, deadline=None)

values = st.one_of(  # mostly finite values and NaN, sometimes anything (inf, huge, tiny)
    st.floats(-1e3, 1e3),
    st.sampled_from([np.nan, 0.0, 1.0, -2.5]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)
dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int32, np.bool_, object])


def check_valid(coll, ref=None):
    """Invariants of the internal form; ``ref`` is the input as a float64 (n, C, L) array."""
    assert isinstance(coll, Collection)
    X, lengths = coll.X, coll.lengths
    assert X.dtype == np.float32 and X.ndim == 3 and min(X.shape) >= 1
    assert lengths.dtype == np.int64 and lengths.shape == (X.shape[0],)
    assert np.isfinite(X[~np.isnan(X)]).all()
    for i, n in enumerate(lengths):
        assert 1 <= n <= X.shape[2]
        assert np.isnan(X[i, :, n:]).all()
        assert not np.isnan(X[i, :, n - 1]).all()
    if ref is not None:  # nothing dropped, truncated or reordered
        assert X.shape == ref.shape
        np.testing.assert_array_equal(X, ref.astype(np.float32))


def _array(draw_shape, dtype, data):
    shape = data.draw(draw_shape)
    if dtype is object:
        flat = data.draw(st.lists(values, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        a = np.empty(len(flat), dtype=object)
        a[:] = flat
        return a.reshape(shape)
    a = data.draw(hnp.arrays(np.float64, shape, elements=values))
    with np.errstate(all="ignore"):
        return a.astype(dtype)


@FUZZ
@given(data=st.data(), dtype=dtypes)
def test_fuzz_ndarray(data, dtype):
    shape = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)
    shape = st.one_of(shape, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5))
    a = _array(shape, dtype, data)
    try:
        coll = to_collection(a)
    except ValueError as e:
        assert str(e)
        event("ValueError")
        return
    event("valid")
    ref = a.astype(np.float64)
    check_valid(coll, ref if ref.ndim == 3 else ref[:, None, :])


@FUZZ
@given(data=st.data(), dtype=dtypes)
def test_fuzz_list(data, dtype):
    n = data.draw(st.integers(0, 4))
    channels = data.draw(st.integers(1, 3))
    items = []
    for _ in range(n):
        ndim = data.draw(st.integers(0, 3))
        c = channels if data.draw(st.integers(0, 9)) else data.draw(st.integers(0, 3))
        shape = {0: (), 1: (data.draw(st.integers(0, 5)),)}.get(ndim)
        if shape is None:
            shape = (c, data.draw(st.integers(0, 5))) + ((2,) if ndim == 3 else ())
        items.append(_array(st.just(shape), dtype, data))
    try:
        coll = to_collection(items)
    except ValueError as e:
        assert str(e)
        event("ValueError")
        return
    event("valid")
    check_valid(coll)
    assert coll.n_series == n
    for i, item in enumerate(items):  # each series' values kept, then NaN padding only
        item = np.atleast_2d(item.astype(np.float64))
        got = coll.X[i, :, : item.shape[1]]
        np.testing.assert_array_equal(got, item.astype(np.float32))


@FUZZ
@given(data=st.data())
def test_fuzz_long_dataframe(data):
    rows = data.draw(st.integers(0, 12))
    ids = data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=rows, max_size=rows))
    times = data.draw(st.lists(st.integers(0, 4), min_size=rows, max_size=rows))
    v = data.draw(st.lists(values, min_size=rows, max_size=rows))
    df = pd.DataFrame({"id": ids, "time": times, "v": v})
    try:
        coll = to_collection(df)
    except ValueError as e:
        assert str(e)
        event("ValueError")
        return
    event("valid")
    check_valid(coll)
    assert list(coll.ids) == list(dict.fromkeys(ids))  # order of first appearance
    for i, sid in enumerate(coll.ids):
        part = df[df.id == sid].sort_values("time")
        want = part.v.to_numpy(dtype=np.float32)
        np.testing.assert_array_equal(coll.X[i, 0, : coll.lengths[i]], want[: coll.lengths[i]])
        assert np.isnan(want[coll.lengths[i] :]).all()


@FUZZ
@given(data=st.data())
def test_fuzz_nested_dataframe(data):
    n = data.draw(st.integers(1, 3))
    channels = data.draw(st.integers(1, 3))
    cells = {
        f"dim_{c}": [
            pd.Series(data.draw(st.lists(values, min_size=0, max_size=5)), dtype=float)
            for _ in range(n)
        ]
        for c in range(channels)
    }
    df = pd.DataFrame(cells)
    try:
        coll = to_collection(df)
    except ValueError as e:
        assert str(e)
        event("ValueError")
        return
    event("valid")
    check_valid(coll)
    assert coll.n_series == n and coll.n_channels == channels
    for i in range(n):
        for c in range(channels):
            cell = df.iat[i, c].to_numpy(dtype=np.float32)
            np.testing.assert_array_equal(coll.X[i, c, : len(cell)], cell)


ragged = st.lists(
    st.lists(st.one_of(st.floats(-1e6, 1e6, width=32), st.just(np.nan)), min_size=1, max_size=6),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(series=ragged, layout=st.sampled_from(["wide", "long"]))
@example(series=[[0.0, np.nan]], layout="long")  # trailing NaN: padding, not written
def test_fuzz_csv_round_trip(tmp_path_factory, series, layout):
    from tsea.data import read_file, write_csv_long, write_csv_wide

    arrays = [np.array(s, dtype=np.float32) for s in series]
    try:
        expected = to_collection(arrays)
    except ValueError:  # an all-NaN series: the writers refuse it the same way
        event("ValueError")
        return
    event("valid")
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    ids = [f"s{i}" for i in range(len(arrays))]
    writer = write_csv_wide if layout == "wide" else write_csv_long
    coll, _ = read_file(writer(path, arrays, ids=ids))
    np.testing.assert_array_equal(coll.lengths, expected.lengths)
    width = int(expected.lengths.max())  # trailing all-NaN steps are padding, not data
    assert coll.max_length >= width and np.isnan(coll.X[:, :, width:]).all()
    np.testing.assert_array_equal(coll.X[:, :, :width], expected.X[:, :, :width])
    assert list(coll.ids) == ids

"""Streaming embed: chunked readers (tsea.data.stream), incremental writers and shards
(tsea.cli.embed_io). The streamed result must equal the whole-file result exactly."""

import os

import numpy as np
import pandas as pd
import pytest

from tsea.cli import embed_io
from tsea.cli.embed_io import (
    EmbeddingWriter,
    embed_file,
    ids_path_for,
    shard_outputs,
    write_embeddings,
)
from tsea.data import stream as stream_mod
from tsea.data.readers import read_file
from tsea.data.stream import SeriesStream
from tsea.nn import inference
from tsea.utils import atomic_files, remove_stale_temps

pytest.importorskip("pyarrow")

TINY = dict(repr_dim=8, d_model=8, depth=2, n_heads=2, max_attention_len=8, n_iters=2,
            batch_size=4, max_train_length=32, random_state=0, verbose=False, device="cpu",
            n_jobs=1)


@pytest.fixture(scope="module")
def encoder():
    from tsea.estimators import EAEncoder

    rng = np.random.default_rng(0)
    return EAEncoder(**TINY).fit(rng.normal(size=(12, 1, 30)).astype(np.float32))


@pytest.fixture
def small_chunks(monkeypatch):
    """Blocks of 7 series and long files read 13 rows at a time: many chunks, carried ids."""
    monkeypatch.setattr(inference, "EMBED_BLOCK", 7)
    monkeypatch.setattr(stream_mod, "LONG_ROWS", 13)


def _ragged(n=30, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(1, int(rng.integers(5, 40)))).cumsum(-1) for _ in range(n)]


def _wide_frame(series, ids=None):
    width = max(s.shape[1] for s in series)
    vals = np.full((len(series), width), np.nan)
    for i, s in enumerate(series):
        vals[i, : s.shape[1]] = s[0]
    df = pd.DataFrame(vals, columns=[f"t{j}" for j in range(width)])
    if ids is not None:
        df.insert(0, "id", ids)
    df.insert(len(df.columns) if ids is None else 1, "label", ["a", "b"] * (len(series) // 2))
    return df


def _long_frame(series, ids):
    rows = []
    for key, s in zip(ids, series, strict=True):
        for t in range(s.shape[1]):
            rows.append({"id": key, "time": t, "label": "x", "dim_0": s[0, t]})
    return pd.DataFrame(rows)


def _files(tmp_path):
    series = _ragged()
    text_ids = [f"s{i:02d}" for i in range(len(series))]
    wide = _wide_frame(series, text_ids)
    long = _long_frame(series, text_ids)
    files = {
        "wide.csv": lambda p: wide.to_csv(p, index=False),
        "noid.csv": lambda p: _wide_frame(series).to_csv(p, index=False),
        "long.csv": lambda p: long.to_csv(p, index=False),
        "wide.parquet": lambda p: wide.to_parquet(p, index=False),
        "intid.parquet": lambda p: wide.assign(id=np.arange(100, 130)).to_parquet(p, index=False),
        "long.parquet": lambda p: long.to_parquet(p, index=False, row_group_size=17),
        "ucr.tsv": lambda p: _wide_frame(series).drop(columns="label").assign(
            label=[1, 2] * 15)[["label"] + [f"t{j}" for j in range(wide.shape[1] - 2)]].to_csv(
            p, sep="\t", header=False, index=False),
    }
    paths = {}
    for name, write in files.items():
        paths[name] = str(tmp_path / name)
        write(paths[name])
    return paths


@pytest.mark.parametrize(
    "name", ["wide.csv", "noid.csv", "long.csv", "wide.parquet", "intid.parquet",
             "long.parquet", "ucr.tsv"])
def test_streamed_embeddings_equal_the_whole_file_exactly(encoder, tmp_path, small_chunks, name):
    path = _files(tmp_path)[name]
    coll, _ = read_file(path)
    whole = encoder.transform(coll)
    chunks = list(SeriesStream(path, chunk_series=7))
    assert len(chunks) == 5 and [c.n_series for c in chunks] == [7, 7, 7, 7, 2]
    out = tmp_path / "emb.npy"
    n, d = embed_file(encoder, path, out)
    assert (n, d) == whole.shape
    Z = np.load(out, mmap_mode="r")
    np.testing.assert_array_equal(Z, whole)  # same rows, same order, same float values
    ids = open(ids_path_for(str(out)), encoding="utf-8").read().splitlines()
    assert ids == [str(i) for i in coll.ids]


def test_streamed_files_equal_the_whole_file_writers_byte_for_byte(encoder, tmp_path, small_chunks):
    path = _files(tmp_path)["wide.csv"]
    coll, _ = read_file(path)
    whole = encoder.transform(coll)
    for suffix in (".csv", ".npy"):
        embed_file(encoder, path, tmp_path / f"s{suffix}")
        with EmbeddingWriter(tmp_path / f"w{suffix}") as w:  # one write of everything
            w.write(whole, coll.ids)
        assert (tmp_path / f"s{suffix}").read_bytes() == (tmp_path / f"w{suffix}").read_bytes()
    np.save(tmp_path / "ref.npy", whole)  # the .npy header is numpy's own
    assert (tmp_path / "ref.npy").read_bytes() == (tmp_path / "s.npy").read_bytes()


@pytest.mark.parametrize("name", ["wide.parquet", "intid.parquet", "long.csv"])
def test_parquet_output_round_trips_ids_and_values(encoder, tmp_path, small_chunks, name):
    path = _files(tmp_path)[name]
    coll, _ = read_file(path)
    out = tmp_path / "emb.parquet"
    embed_file(encoder, path, out)
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["id"] + [f"emb_{j}" for j in range(8)]
    assert list(frame["id"]) == list(coll.ids)  # ints stay ints, text stays text
    if name == "intid.parquet":
        assert frame["id"].dtype == np.int64
    np.testing.assert_array_equal(frame.iloc[:, 1:].to_numpy(np.float32), encoder.transform(coll))


def test_parquet_input_reads_the_same_series_as_csv(tmp_path):
    paths = _files(tmp_path)
    for a, b in (("wide.csv", "wide.parquet"), ("long.csv", "long.parquet")):
        ca, ya = read_file(paths[a])
        cb, yb = read_file(paths[b])
        np.testing.assert_array_equal(ca.X, cb.X)
        assert list(ca.ids) == list(cb.ids) and list(ya) == list(yb)


def test_long_file_not_grouped_by_id_is_refused_with_the_fix(tmp_path, small_chunks):
    series = _ragged(6)
    long = _long_frame(series, list("abcdef"))
    shuffled = long.sample(frac=1.0, random_state=0)
    shuffled.to_csv(tmp_path / "x.csv", index=False)
    coll, _ = read_file(tmp_path / "x.csv")  # the whole-file reader accepts any order
    assert coll.n_series == 6
    with pytest.raises(ValueError, match="not contiguous.*sort it by id"):
        list(SeriesStream(tmp_path / "x.csv"))
    # an id that comes back in a later chunk, after the others
    pd.concat([long, long[long["id"] == "a"].assign(time=lambda d: d["time"] + 100)]).to_csv(
        tmp_path / "y.csv", index=False)
    with pytest.raises(ValueError, match="id 'a'.*not contiguous"):
        list(SeriesStream(tmp_path / "y.csv"))


def test_duplicate_id_in_a_later_chunk_is_an_error(tmp_path, small_chunks):
    series = _ragged(20)
    ids = [f"k{i}" for i in range(19)] + ["k3"]
    _wide_frame(series, ids).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(ValueError, match="duplicate id 'k3'"):
        list(SeriesStream(tmp_path / "d.csv", chunk_series=7))


def test_bad_cell_in_a_later_chunk_names_the_file_row(tmp_path):
    series = _ragged(20)
    df = _wide_frame(series, [f"k{i}" for i in range(20)]).astype({"t1": object})
    df.loc[15, "t1"] = "oops"
    df.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(ValueError, match=r"series 15 \(id 'k15'\).*data row 16 ") as chunked:
        list(SeriesStream(tmp_path / "b.csv", chunk_series=7))
    with pytest.raises(ValueError) as whole:
        read_file(tmp_path / "b.csv")
    assert str(chunked.value) == str(whole.value)  # one reading path: the same message


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_streamed_csv_follows_csv_io_rules(tmp_path, chunk):
    # trailing separators, NA-like ids kept as text, an empty label (embedding reads no labels)
    path = tmp_path / "t.csv"
    path.write_text("id,label,t0,t1,t2,\nNA,a,1,2,3,\nnull,,4,5,,\nNone,b,NaN,7,8,\n"
                    "007,c,1e-3,2,3,\n")
    coll, _ = read_file(path, labels=False)
    assert list(coll.ids) == ["NA", "null", "None", "007"]
    parts = list(SeriesStream(path, chunk_series=chunk))
    assert [i for p in parts for i in p.ids] == list(coll.ids)
    np.testing.assert_array_equal(stream_mod.concat_collections(parts).X, coll.X)
    path.write_text("id,t0,t1,\na,1,2,\nb,3,4,5\n")  # an extra non-empty field: refused
    with pytest.raises(ValueError, match="line 3.*'5'"):
        list(SeriesStream(path, chunk_series=chunk))
    path.write_text("0.5,1.5,-2\n1,2,3\n")  # no header: the first series is not taken for one
    with pytest.raises(ValueError, match="looks like values, not a header"):
        list(SeriesStream(path, chunk_series=chunk))


def test_huge_value_in_a_later_chunk_names_the_file_and_series(encoder, tmp_path, small_chunks):
    from tsea.estimators import EAEncoder

    raw = EAEncoder(**{**TINY, "normalize": None}).fit(np.ones((4, 1, 10), np.float32))
    series = _ragged(20)
    series[16][0, 2] = 1e25
    path = tmp_path / "h.csv"
    _wide_frame(series, [f"k{i}" for i in range(20)]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=rf"^{path}: series 16 \(id 'k16'\), channel 0, step 2"):
        embed_file(raw, path, tmp_path / "e.csv")
    assert not (tmp_path / "e.csv").exists()


def test_ids_and_labels_with_carriage_returns_survive_a_csv_table(tmp_path):
    # "f\r" was written unquoted: read back, it lost its \r and made a spurious row
    import csv

    import pandas as pd

    out = str(tmp_path / "p.csv")
    with EmbeddingWriter(out) as w:
        w.write_frame(pd.DataFrame({"prediction": ["x", "y"]}), ["a", "b"])
        w.write_frame(pd.DataFrame({"prediction": ["line\rend", "z"]}), ["f\r", "g"])
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["id", "prediction"], ["a", "x"], ["b", "y"], ["f\r", "line\rend"], ["g", "z"]]
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back["id"].tolist() == ["a", "b", "f\r", "g"]


def test_npy_pair_is_written_together_and_a_failed_write_keeps_both_old_files(tmp_path):
    out = str(tmp_path / "e.npy")
    write_embeddings(out, np.ones((2, 3), np.float32), np.array(["a", "b"], dtype=object))
    old = (open(out, "rb").read(), open(ids_path_for(out), "rb").read())
    with pytest.raises(ValueError, match="line breaks"):
        with EmbeddingWriter(out) as w:
            w.write(np.zeros((2, 3), np.float32), ["c", "d"])
            w.write(np.zeros((1, 3), np.float32), ["bad\nid"])
    assert (open(out, "rb").read(), open(ids_path_for(out), "rb").read()) == old
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


def test_temp_files_of_killed_writes_are_removed_on_the_next_write(tmp_path):
    target = tmp_path / "e.csv"
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    stale = tmp_path / f".e.csv.{dead}-abc12345.tmp"
    stale.write_text("partial")
    mine = tmp_path / f".e.csv.{os.getpid()}-0123abcd.tmp"  # a write still running: kept
    mine.write_text("partial")
    other = tmp_path / f".f.csv.{dead}-abc12345.tmp"  # another target's: kept
    other.write_text("partial")
    # a write of "e.csv.2024-12.csv" running: "2024" is no pid of e.csv's (it was removed)
    longer = tmp_path / f".e.csv.2024-12.csv.{os.getpid()}-0123abcd.tmp"
    longer.write_text("partial")
    with atomic_files(target) as (tmp,):
        open(tmp, "w").write("x\n")
    assert target.read_text() == "x\n"
    assert not stale.exists() and mine.exists() and other.exists() and longer.exists()
    assert remove_stale_temps(tmp_path / "f.csv") == [str(other)]


def test_shards_pair_with_one_output_each(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("b.parquet", "a.csv", ".hidden.csv", "notes.md"):
        (tmp_path / "in" / name).write_text("")
    pairs = shard_outputs(str(tmp_path / "in"), str(tmp_path / "out"), ".parquet")
    assert [(os.path.basename(a), os.path.basename(b)) for a, b in pairs] == [
        ("a.csv", "a.parquet"), ("b.parquet", "b.parquet")]
    assert embed_io.is_shard_spec(str(tmp_path / "in" / "*.csv"))
    (tmp_path / "in" / "a.parquet").write_text("")
    with pytest.raises(ValueError, match="would both write"):
        shard_outputs(str(tmp_path / "in"), str(tmp_path / "out"), ".csv")


def test_seen_ids_find_repeats_across_merged_runs():
    seen = stream_mod.SeenIds()
    for start in range(0, 1000, 37):  # many chunks: runs merge as they grow
        keys = np.array([f"id{i}" for i in range(start, min(start + 37, 1000))], dtype=object)
        assert seen.first_seen(keys) is None
        seen.add(keys)
    assert len(seen) == 1000 and len(seen.runs) <= 12
    assert seen.first_seen(np.array(["new", "id999", "id0"], dtype=object)) == 1
    assert seen.first_seen(np.array(["id1000", "x"], dtype=object)) is None
    assert seen.first_seen(np.array([5, 17], dtype=object)) is None


@pytest.fixture(scope="module")
def model_file(encoder, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.tsea"
    encoder.save(path)
    return str(path)


def test_cli_embeds_a_glob_of_shards_one_output_each(model_file, tmp_path, capsys):
    from tsea.cli import main

    paths = _files(tmp_path)
    code = main(["embed", "--model", model_file, str(tmp_path / "*.parquet"), "-o",
                 str(tmp_path / "out"), "--format", "csv", "--quiet"])
    assert code == 0, capsys.readouterr().err
    made = sorted(os.listdir(tmp_path / "out"))
    assert made == ["intid.csv", "long.csv", "wide.csv"]
    from tsea import EAEncoder

    enc = EAEncoder.load(model_file)
    for name in made:
        coll, _ = read_file(paths[name.replace(".csv", ".parquet")])
        frame = pd.read_csv(tmp_path / "out" / name, dtype={"id": str})
        assert list(frame["id"]) == [str(i) for i in coll.ids]
        np.testing.assert_array_equal(frame.iloc[:, 1:].to_numpy(np.float32),
                                      enc.transform(coll))


def test_cli_refuses_a_file_as_the_output_of_shards(model_file, tmp_path, capsys):
    from tsea.cli import main

    _files(tmp_path)
    (tmp_path / "taken.csv").write_text("x\n")
    code = main(["embed", "--model", model_file, str(tmp_path), "-o",
                 str(tmp_path / "taken.csv"), "--quiet"])
    assert code == 2 and "must be a folder" in capsys.readouterr().err


def test_cli_says_how_to_fix_an_unsorted_long_file(model_file, tmp_path, capsys):
    from tsea.cli import main

    _long_frame(_ragged(6), list("abcdef")).sample(frac=1.0, random_state=1).to_csv(
        tmp_path / "x.csv", index=False)
    code = main(["embed", "--model", model_file, str(tmp_path / "x.csv"), "-o",
                 str(tmp_path / "e.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and "sort it by id" in err and not (tmp_path / "e.csv").exists()


def test_out_of_range_input_names_the_first_series_whatever_the_batch_order():
    from tsea.estimators import EAEncoder

    raw = EAEncoder(**{**TINY, "normalize": None}).fit(np.ones((4, 1, 10), np.float32))
    X = [np.ones((1, 12)), np.ones((1, 12)), np.ones((1, 4))]
    X[1][0, 3] = X[2][0, 1] = 1e20  # the short series 2 is batched before series 1
    with pytest.raises(ValueError, match=r"^X: series 1, channel 0, step 3 has value 1e\+20"):
        raw.transform(X)

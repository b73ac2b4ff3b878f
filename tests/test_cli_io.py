"""The command line's building blocks, in process: data resolution, task inference, writers,
the attention figure (no training here)."""

import os

import numpy as np
import pandas as pd
import pytest

from tsea.cli.io import (
    ids_path_for,
    is_file_spec,
    load_data,
    write_embeddings,
)
from tsea.viz import attention_figure, save_attention_figure

DATASETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "data")


def test_file_specs_and_dataset_names_are_told_apart(tmp_path):
    assert is_file_spec("train.csv") and is_file_spec("dir/X") and is_file_spec(str(tmp_path))
    assert not is_file_spec("BasicMotions")


def test_missing_data_file_raises_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_data(str(tmp_path / "absent.csv"))
    assert info.value.filename == str(tmp_path / "absent.csv")


def test_csv_keeps_ids_labels_and_order():
    path = os.path.join(DATASETS, "ItalyPowerDemand_TEST_wide.csv")
    data = load_data(path)
    frame = pd.read_csv(path, dtype={"id": str, "label": str})
    assert list(data.ids) == list(frame["id"])
    assert list(data.y) == list(frame["label"])
    assert data.n_series == len(frame)
    np.testing.assert_allclose(data.series(3)[0], frame.iloc[3, 2:].to_numpy(float), rtol=1e-6)


def test_long_csv_unequal_lengths_are_not_padded():
    data = load_data(os.path.join(DATASETS, "JapaneseVowels_TRAIN_long.csv"))
    lengths = {data.series(i).shape[1] for i in range(data.n_series)}
    assert len(lengths) > 1  # JapaneseVowels has unequal lengths
    assert all(not np.isnan(data.series(i)[:, -1]).all() for i in range(data.n_series))


def test_csv_ids_first_then_embeddings(tmp_path):
    Z = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    out = tmp_path / "e.csv"
    assert write_embeddings(str(out), Z, np.array(["b", "a", "c"], dtype=object)) == [str(out)]
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["id", "emb_0", "emb_1", "emb_2", "emb_3"]
    assert list(frame["id"]) == ["b", "a", "c"]
    np.testing.assert_allclose(frame.iloc[:, 1:].to_numpy(), Z, rtol=1e-6)


def test_npy_writes_array_and_sibling_ids(tmp_path):
    Z = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    out = str(tmp_path / "emb.npy")
    written = write_embeddings(out, Z, np.arange(5))
    assert written == [out, str(tmp_path / "emb.ids.txt")] and ids_path_for(out) == written[1]
    np.testing.assert_array_equal(np.load(out, allow_pickle=False), Z)
    assert (tmp_path / "emb.ids.txt").read_text().split("\n") == ["0", "1", "2", "3", "4", ""]


def test_parquet_round_trip(tmp_path):
    Z = np.ones((2, 3), dtype=np.float32)
    out = tmp_path / "e.parquet"
    write_embeddings(str(out), Z, np.array([10, 20]))
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["id", "emb_0", "emb_1", "emb_2"]
    assert list(frame["id"]) == [10, 20]


def test_bad_output_requests_are_errors(tmp_path):
    Z = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"unsupported output .*\.csv, \.npy, \.parquet"):
        write_embeddings(str(tmp_path / "e.xlsx"), Z, np.arange(2))
    with pytest.raises(ValueError, match="do not match 3 series ids"):
        write_embeddings(str(tmp_path / "e.csv"), Z, np.arange(3))
    with pytest.raises(FileNotFoundError) as info:
        write_embeddings(str(tmp_path / "no" / "e.csv"), Z, np.arange(2))
    assert info.value.filename == str(tmp_path / "no")


def test_attention_png_is_not_blank(tmp_path):
    import matplotlib.image

    rng = np.random.default_rng(0)
    maps = rng.random((3, 2, 10, 10)).astype(np.float32)
    maps /= maps.sum(-1, keepdims=True)
    series = np.sin(np.arange(20) / 3)[None, :]
    out = tmp_path / "a.png"
    save_attention_figure(str(out), series, maps, title="t")
    pixels = matplotlib.image.imread(out)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.std() > 0.05
    fig = attention_figure(series, maps)
    assert [ax.get_title() for ax in fig.axes[1:4]] == ["attention layer 1", "attention layer 2",
                                                   "attention layer 3"]


def test_attention_figure_refuses_a_format_it_cannot_write(tmp_path):
    maps = np.full((1, 1, 4, 4), 0.25, dtype=np.float32)
    out = tmp_path / "a.txt"
    with pytest.raises(ValueError, match=r"a.txt: unsupported figure format .txt; use one of "):
        save_attention_figure(str(out), np.zeros((1, 4)), maps)
    assert not out.exists()


def test_attention_figure_rejects_bad_shapes():
    with pytest.raises(ValueError, match="n_layers, n_heads"):
        attention_figure(np.zeros((1, 5)), np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="channels, length"):
        attention_figure(np.zeros(5), np.zeros((1, 1, 5, 5)))

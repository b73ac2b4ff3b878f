"""examples/embed_shards_dask.py on a 2-worker LocalCluster equals single-process embeds."""

import importlib.util
import os

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyarrow")
distributed = pytest.importorskip("dask.distributed")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _example():
    path = os.path.join(REPO, "examples", "embed_shards_dask.py")
    spec = importlib.util.spec_from_file_location("embed_shards_dask", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # two worker processes importing torch (~15 s on 2 cores)
def test_dask_shards_equal_a_single_process_embed(tmp_path, monkeypatch):
    from tsea import EAEncoder
    from tsea.cli.embed_io import embed_file
    from tsea.data.readers import read_file

    rng = np.random.default_rng(0)
    encoder = EAEncoder(repr_dim=8, d_model=8, depth=2, n_heads=2, max_attention_len=8,
                        n_iters=2, batch_size=4, max_train_length=32, random_state=0,
                        verbose=False, device="cpu", n_jobs=1)
    encoder.fit(rng.normal(size=(12, 1, 30)).astype(np.float32))
    model = tmp_path / "model.tsea"
    encoder.save(model)
    shards = tmp_path / "shards"
    shards.mkdir()
    for k in range(3):  # wide shards with text ids, one long shard
        n = 5 + 3 * k
        frame = pd.DataFrame(rng.normal(size=(n, 20)).cumsum(1),
                             columns=[f"t{j}" for j in range(20)])
        frame.insert(0, "id", [f"p{k}-{i}" for i in range(n)])
        frame.to_parquet(shards / f"part-{k}.parquet", index=False)
    long = pd.DataFrame({"id": np.repeat([7, 8], [9, 14]),
                         "time": np.r_[np.arange(9), np.arange(14)],
                         "dim_0": rng.normal(size=23)})
    long.to_parquet(shards / "part-3.parquet", index=False)

    # PYTHONPATH reaches the worker processes, so they import this checkout's tsea
    monkeypatch.setenv("PYTHONPATH", REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    example = _example()
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        results = example.embed_shards(client, str(model), str(shards), str(tmp_path / "out"))
        assert len(client.scheduler_info()["workers"]) == 2

    assert [os.path.basename(r[0]) for r in results] == [f"part-{k}.parquet" for k in range(4)]
    loaded = EAEncoder.load(str(model))
    for k in range(4):
        shard = shards / f"part-{k}.parquet"
        embed_file(loaded, shard, tmp_path / f"single-{k}.parquet")  # one process
        got = pd.read_parquet(tmp_path / "out" / f"part-{k}.parquet")
        want = pd.read_parquet(tmp_path / f"single-{k}.parquet")
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        coll, _ = read_file(shard)
        assert list(got["id"]) == list(coll.ids)
        np.testing.assert_array_equal(got.iloc[:, 1:].to_numpy(np.float32),
                                      loaded.transform(coll))

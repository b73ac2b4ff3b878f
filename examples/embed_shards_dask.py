"""Embed a folder of Parquet shards on a Dask cluster: one output file per shard.

    pip install "tsea[dask]"
    python examples/embed_shards_dask.py --model model.tsea --shards data/shards/ --out embedded/
    python examples/embed_shards_dask.py --model model.tsea --shards 'data/part-*.parquet' \\
        --out embedded/ --scheduler tcp://scheduler:8786

Without ``--scheduler`` it starts a ``LocalCluster`` (``--workers`` processes of one thread:
one torch thread per shard task, all cores busy). With ``--scheduler`` the very same code runs
on an existing multi-machine cluster; the model, the shards and the output folder must then be
reachable under the same paths from every worker (a shared file system or a mounted bucket).

Each task loads the model and streams its shard through ``tsea.cli.embed_io.embed_file``
(the code behind ``tsea embed``): bounded memory per task, the output committed atomically,
and values identical to a single-process ``tsea embed`` of the same shard. A task that fails
or is retried never leaves a half-written output behind.
"""

from __future__ import annotations

import argparse
import os


def embed_shard(model_path: str, shard: str, output: str, pooling: str = "max",
                n_jobs: int = 1) -> tuple[str, int, int]:
    """One task: embed one shard into one output; returns (output, series, width)."""
    from tsea import EAEncoder
    from tsea.cli.embed_io import embed_file

    encoder = EAEncoder.load(model_path)
    encoder.n_jobs = n_jobs
    n, d = embed_file(encoder, shard, output, pooling=pooling)
    return output, n, d


def embed_shards(client, model_path: str, shards: str, out_dir: str, *, pooling: str = "max",
                 suffix: str = ".parquet", n_jobs: int = 1) -> list[tuple[str, int, int]]:
    """Embed every shard of the folder or glob ``shards`` on the Dask ``client``; one output
    per shard in ``out_dir`` (``<shard name><suffix>``), in shard order."""
    from tsea.cli.embed_io import shard_outputs

    pairs = shard_outputs(shards, out_dir, suffix)
    os.makedirs(out_dir, exist_ok=True)
    futures = client.map(
        embed_shard,
        [os.path.abspath(model_path)] * len(pairs),
        [os.path.abspath(s) for s, _ in pairs],
        [os.path.abspath(o) for _, o in pairs],
        pooling=pooling,
        n_jobs=n_jobs,
        pure=False,
    )
    return client.gather(futures)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model file written by `tsea fit`")
    parser.add_argument("--shards", required=True, help="folder or quoted glob of data files")
    parser.add_argument("--out", required=True, help="output folder (one file per shard)")
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv", "npy"))
    parser.add_argument("--pooling", default="max")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="LocalCluster worker processes (default: one per core)")
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        client = Client(args.scheduler)
    else:
        client = Client(LocalCluster(n_workers=args.workers, threads_per_worker=1))
    with client:
        results = embed_shards(client, args.model, args.shards, args.out,
                               pooling=args.pooling, suffix="." + args.format)
    for output, n, d in results:
        print(f"{output}: {n} x {d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

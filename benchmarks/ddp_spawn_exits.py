"""How often does a process started by Lightning's ``ddp_spawn`` strategy fail to exit cleanly?

    python benchmarks/ddp_spawn_exits.py --spawns 60

Runs ``--spawns`` tiny two-process CPU pre-trainings (``strategy="ddp_spawn"``, gloo) one after
the other in this process and counts those whose worker processes died (torch raises
``ProcessExitedException``: a signal such as SIGABRT, or a non-zero exit). Each spawn takes a few
seconds. The spawn path is what the tests in ``tests/test_training_ddp.py`` exercise once each;
a rare abort there fails CI, so its rate is measured here, not in a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def spawn_once(seed: int) -> None:
    import numpy as np

    from tsea.nn import EADCEncoder
    from tsea.training import pretrain

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 2, 24)).astype(np.float32)
    encoder = EADCEncoder(2, repr_dim=8, d_model=8, depth=1, n_heads=2, reuse_heads=1,
                          max_attention_len=16)
    pretrain(encoder, X, np.full(8, 24), objective="hybrid", n_iters=2, batch_size=2,
             random_state=seed, device="cpu", num_threads=1,
             trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spawns", type=int, default=60)
    args = parser.parse_args(argv)
    if args.spawns < 1:
        parser.error(f"--spawns must be at least 1, got {args.spawns}")
    from torch.multiprocessing.spawn import ProcessExitedException

    failed = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        here = os.getcwd()
        os.chdir(folder)  # Lightning writes nothing, but keep any stray file out of the checkout
        try:
            for i in range(args.spawns):
                try:
                    spawn_once(i)
                except ProcessExitedException as exc:
                    failed.append(i)
                    print(f"spawn {i}: {exc}", flush=True)
        finally:
            os.chdir(here)
    print(f"{len(failed)} of {args.spawns} spawns had a worker process die "
          f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What replaying the draws of an interrupted epoch costs when a fit resumes.

A fit resumed from a checkpoint written after batch k of an epoch assembles (and drops) those k
batches again, so that the random draws that follow are those of an uninterrupted fit. That
replay is the whole cost of resuming exactly; this times it on a large training set, one thread.

    python benchmarks/resume_replay.py                       # 20,000 series of 500 steps
    python benchmarks/resume_replay.py --n 200000 --length 100
"""

import argparse
import time

import numpy as np
import torch

from tsea.training.datamodule import SeriesDataModule, _ResumableLoader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--length", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-train-length", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X = np.random.default_rng(0).normal(size=(args.n, 1, args.length)).astype(np.float32)
    data = SeriesDataModule(X, np.full(args.n, args.length), batch_size=args.batch_size,
                            max_train_length=args.max_train_length)
    plain = data.train_dataloader()  # no trainer: the same loader without the replay state

    def loader(resume=None):
        return _ResumableLoader(
            plain.dataset, batch_size=plain.batch_size, shuffle=True, drop_last=True,
            generator=torch.Generator().manual_seed(0), collate_fn=plain.collate_fn,
            num_workers=0, generators=(torch.Generator().manual_seed(0),
                                       plain.collate_fn.generator), progress=None,
            resume=resume)

    first = loader()
    iter(first)  # records the epoch's starting states
    start, per_epoch = first._epoch_start, len(first)
    for done in (per_epoch // 10, per_epoch // 2, per_epoch - 1):
        resumed = loader({"generators": start, "processed": done, "completed": done})
        t0 = time.perf_counter()
        batches = iter(resumed)
        seconds = time.perf_counter() - t0
        next(batches)
        print(f"{args.n} series x {args.length} steps, batch {args.batch_size}: replaying "
              f"{done} of {per_epoch} batches took {seconds:.3f} s "
              f"({1e3 * seconds / max(done, 1):.3f} ms a batch)")


if __name__ == "__main__":
    main()

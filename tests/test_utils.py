"""tsea.utils: the shared helpers."""

import os

import pytest

from tsea.utils import atomic_write


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    out = tmp_path / "e.csv"
    out.write_text("old\n")

    def crash(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(str(out), crash)
    assert out.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["e.csv"]


def test_writing_over_a_directory_is_refused_before_any_temp_file(tmp_path):
    target = tmp_path / "models"
    target.mkdir()
    with pytest.raises(IsADirectoryError, match="it is a directory, not a file path"):
        atomic_write(str(target), lambda tmp: open(tmp, "w").close())
    assert os.listdir(tmp_path) == ["models"] and os.listdir(target) == []


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_written_files_follow_the_umask_or_the_mode_they_replace(tmp_path, umask):
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_text("old\n")
    os.chmod(old, 0o640)
    before = os.umask(umask)
    try:
        atomic_write(str(new), lambda tmp: open(tmp, "w").close())
        atomic_write(str(old), lambda tmp: open(tmp, "w").close())
    finally:
        os.umask(before)
    assert os.stat(new).st_mode & 0o777 == 0o666 & ~umask
    assert os.stat(old).st_mode & 0o777 == 0o640


def test_a_read_only_file_is_replaced_and_keeps_its_mode(tmp_path):
    # the temp file took the 0o444 mode before it was written, which refused the writing
    # (for any user but root)
    old = tmp_path / "m.csv"
    old.write_text("old\n")
    os.chmod(old, 0o444)

    def write(tmp):
        assert os.stat(tmp).st_mode & 0o200  # writable while written (root writes regardless)
        open(tmp, "w").write("new\n")

    atomic_write(str(old), write)
    assert old.read_text() == "new\n" and os.stat(old).st_mode & 0o777 == 0o444


def test_the_longest_file_names_can_be_written(tmp_path):
    # ".NAME.<pid>-<hex>.tmp" of a 250-byte name passed the 255-byte limit of file names
    from tsea.utils import remove_stale_temps

    target = tmp_path / ("e" * 250)
    atomic_write(str(target), lambda tmp: open(tmp, "w").write("x"))
    assert target.read_text() == "x" and os.listdir(tmp_path) == [target.name]
    with pytest.raises(ZeroDivisionError):  # a failed write of it leaves no temp file either
        atomic_write(str(target), lambda tmp: (open(tmp, "w").write("half"), 1 / 0))
    assert os.listdir(tmp_path) == [target.name] and remove_stale_temps(target) == []


def test_an_output_that_cannot_be_written_is_found_before_the_work(tmp_path):
    from tsea.utils import check_output_dir

    (tmp_path / "afile").write_text("")
    with pytest.raises(NotADirectoryError, match="the output's folder is a file"):
        check_output_dir(tmp_path / "afile" / "m.tsea")
    with pytest.raises(FileNotFoundError, match="output directory not found"):
        check_output_dir(tmp_path / "nodir" / "m.tsea")
    with pytest.raises(OSError, match=r"cannot write a file there \(.*\)"):
        check_output_dir("/proc/m.tsea")  # a folder where no file can be created, even by root
    check_output_dir(tmp_path / "m.tsea")
    assert os.listdir(tmp_path) == ["afile"]  # the probe leaves nothing behind
    for nameless in ("", str(tmp_path / "out") + os.sep):  # save("out/") wrote a file "out"
        with pytest.raises(ValueError, match="an output needs a file name"):
            atomic_write(nameless, lambda tmp: open(tmp, "w").close())
    from tsea.modelfile import write_model

    with pytest.raises(ValueError, match="an output needs a file name"):
        write_model(str(tmp_path / "out") + os.sep, "EAEncoder", {}, {}, {})
    assert os.listdir(tmp_path) == ["afile"]


# -- seeds, threads, device, quiet Lightning ------------------------------------------------------
import logging  # noqa: E402
import random  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from tsea.utils import (  # noqa: E402
    quiet_lightning,
    resolve_device,
    resolve_seed,
    resolve_threads,
    seeded,
    thread_limit,
)


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 2, 2**31, 2**32 - 1, np.int64(5)])
def test_int_seeds_are_kept(seed):
    assert resolve_seed(seed) == int(seed) and type(resolve_seed(seed)) is int


def test_none_seed_draws_from_numpys_global_generator():
    np.random.seed(3)
    first = resolve_seed(None)
    np.random.seed(3)
    assert resolve_seed(None) == first
    assert 0 <= first < 2**31 - 1


def test_generator_seeds():
    assert resolve_seed(np.random.RandomState(1)) == np.random.RandomState(1).randint(2**31 - 1)
    assert resolve_seed(np.random.default_rng(1)) == np.random.default_rng(1).integers(2**31 - 1)


@pytest.mark.parametrize("bad", [-1, 2**32, True, 1.0, "0"])
def test_bad_seeds(bad):
    with pytest.raises(ValueError, match="random_state"):
        resolve_seed(bad)


def test_seeded_seeds_everything_and_restores():
    import torch

    random.seed(11), np.random.seed(11), torch.manual_seed(11)
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(11), np.random.seed(11), torch.manual_seed(11)
    with seeded(4):
        inside = (random.random(), np.random.rand(), torch.rand(1).item())
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == after
    random.seed(4), np.random.seed(4), torch.manual_seed(4)
    assert inside == (random.random(), np.random.rand(), torch.rand(1).item())


def test_resolve_threads(monkeypatch):
    from tsea.utils import DEFAULT_MAX_THREADS, usable_cores

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert usable_cores() == cores
    assert resolve_threads(None) == min(DEFAULT_MAX_THREADS, cores) and resolve_threads(3) == 3
    assert resolve_threads(-1) == cores and resolve_threads(-2) == max(1, cores - 1)
    assert resolve_threads(-10_000) == 1
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            resolve_threads(bad)


@pytest.mark.parametrize("env, expected", [("1", 1), (" 1 ", 1), ("0", None), ("two", None),
                                           ("", None), ("-3", None)])
def test_none_threads_follow_omp_num_threads(monkeypatch, env, expected):
    from tsea.utils import DEFAULT_MAX_THREADS, env_thread_limit, usable_cores

    monkeypatch.setenv("OMP_NUM_THREADS", env)
    assert env_thread_limit() == expected
    everything = min(DEFAULT_MAX_THREADS, usable_cores())
    assert resolve_threads(None) == (everything if expected is None else min(expected, everything))
    monkeypatch.setenv("OMP_NUM_THREADS", "1000")  # a limit above the cores changes nothing
    assert resolve_threads(None) == everything
    assert resolve_threads(3) == 3 and resolve_threads(-1) == usable_cores()  # explicit n_jobs wins


def test_a_fit_in_a_joblib_worker_takes_its_share_of_the_cores():
    """joblib's worker processes set OMP_NUM_THREADS to their share (here 1): a fit there with
    n_jobs=None must not start a thread per core, which would oversubscribe the machine."""
    from joblib import Parallel, delayed

    from tsea.utils import usable_cores

    def threads_in_worker():
        from tsea.utils import resolve_threads

        return resolve_threads(None)

    share = max(1, usable_cores() // 2)
    assert all(t <= share for t in Parallel(n_jobs=2)(delayed(threads_in_worker)() for _ in range(2)))


def test_thread_limit_sets_and_restores():
    import torch
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with thread_limit(target, blas=True):
        assert torch.get_num_threads() == target
        assert all(pool["num_threads"] == target for pool in threadpool_info())
    assert torch.get_num_threads() == before
    with thread_limit(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="num_threads"), thread_limit(0):
        pass


def test_resolve_device():
    import torch

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == resolve_device(None).type == expected
    for bad in ("tpu", "cpu:0", "cuda:x", 3):
        with pytest.raises(ValueError, match="device"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0")


def test_mps_is_checked_like_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device='mps' but Apple's MPS is not available"):
        resolve_device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("mps") == torch.device("mps")


def test_quiet_lightning_restores_levels_and_filters():
    logger = logging.getLogger("lightning.pytorch")
    level, filters = logger.level, list(warnings.filters)
    with quiet_lightning(verbose=False):
        assert logger.level == logging.ERROR
        with warnings.catch_warnings(record=True) as caught:
            for module in ("lightning.pytorch.trainer", "torch.utils.data.dataloader", "tsea.x"):
                warnings.warn_explicit(module, RuntimeWarning, "x.py", 1, module=module)
        assert [str(w.message) for w in caught] == ["tsea.x"]
    assert logger.level == level and warnings.filters == filters
    with quiet_lightning(verbose=True):
        assert logger.level == level


def test_fits_in_threads_give_what_they_give_one_after_the_other():
    # torch's, numpy's and python's generators belong to the process: two fits seeded at once
    # in two threads would interleave their draws (dropout, initial weights)
    from concurrent.futures import ThreadPoolExecutor

    import tsea

    X = np.random.default_rng(0).normal(size=(16, 1, 40)).cumsum(-1).astype(np.float32)

    def embed(seed):
        return tsea.EAEncoder(repr_dim=8, d_model=8, depth=2, n_heads=2, batch_size=4,
                              max_train_length=32, n_iters=12, n_jobs=1, device="cpu",
                              random_state=seed).fit(X).transform(X)

    alone = [embed(0), embed(1)]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(embed, [0, 1]))
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)

"""`tsea` end to end through subprocesses (python -m tsea.cli) with configs/tiny.yaml."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(REPO, "examples", "data", "ItalyPowerDemand_TRAIN_wide.csv")
TEST = os.path.join(REPO, "examples", "data", "ItalyPowerDemand_TEST_wide.csv")

# Every test starts `python -m tsea.cli` (0.5 s; 6 s when it imports torch and Lightning);
# tests/test_cli_inprocess.py calls the same code in process.
pytestmark = pytest.mark.slow


def tsea(*args, cwd):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run([sys.executable, "-m", "tsea.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def model(workdir):
    """`tsea fit` with the tiny preset on the example CSV."""
    result = ok(tsea("fit", "--data", TRAIN, "--config", "tiny", "--set", "n_iters=3",
                     "--out", "model.tsea", "--quiet", cwd=workdir))
    assert result.stderr == ""  # --quiet: no progress bars, no library chatter
    path = workdir / "model.tsea"
    assert path.is_file() and path.stat().st_size > 0
    return path


def test_fit_saves_the_config_it_was_given(model):
    from tsea.estimators import EAEncoder

    params = EAEncoder.load(str(model)).get_params()
    assert params["n_iters"] == 3 and params["depth"] == 2 and params["repr_dim"] == 16


def test_embed_csv_to_csv_keeps_ids_in_order(model, workdir):
    ok(tsea("embed", "--model", model, TEST, "-o", "emb.csv", cwd=workdir))
    frame = pd.read_csv(workdir / "emb.csv", dtype={"id": str})
    source = pd.read_csv(TEST, dtype={"id": str})
    assert list(frame["id"]) == list(source["id"])
    assert list(frame.columns) == ["id"] + [f"emb_{j}" for j in range(16)]
    values = frame.iloc[:, 1:].to_numpy()
    assert np.isfinite(values).all() and values.std() > 0


def test_evaluate_prints_accuracy(workdir):
    result = ok(tsea("evaluate", "--data", TRAIN, "--test", TEST, "--config", "tiny",
                     "--head", "ridge", "-q", cwd=workdir))
    line = result.stdout.strip()
    assert line.startswith("accuracy: ")
    assert 0.0 <= float(line.split(": ")[1]) <= 1.0


def test_attention_png_opens_and_is_not_blank(model, workdir):
    import matplotlib.image

    ok(tsea("attention", "--model", model, "--data", TEST, "--index", "5", "-o", "att.png",
            cwd=workdir))
    pixels = matplotlib.image.imread(workdir / "att.png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100
    assert pixels[..., :3].std() > 0.05  # not a constant image


@pytest.mark.parametrize(
    "args",
    [[], ["frobnicate"], ["fit", "--data", "x.csv"], ["fit", "--data", "x.csv", "-o", "m",
     "--bogus"], ["attention", "--model", "m", "--data", "x", "-o", "a.png", "--index", "-2"],
     ["embed", "--model", "m", "x.csv", "-o", "e.csv", "--pooling", "median"],
     ["fit", "--data", TRAIN, "-o", "m.tsea", "--set", "depth"],
     ["fit", "--data", TRAIN, "-o", "m.tsea", "--config", "no-such-preset"],
     ["evaluate", "--data", TRAIN]],
)
def test_usage_errors_exit_2_with_one_line(args, workdir):
    result = tsea(*args, cwd=workdir)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsea") and "error: " in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "args, missing",
    [(["embed", "--model", "absent.tsea", TEST, "-o", "e.csv"], "absent.tsea"),
     (["fit", "--data", "absent_train.csv", "-o", "m.tsea"], "absent_train.csv"),
     (["fit", "--data", TRAIN, "-o", "m.tsea", "--config", "absent.yaml"], "absent.yaml"),
     (["fit", "--data", TRAIN, "-o", "no_dir/m.tsea"], "no_dir")],
)
def test_missing_file_exits_1_naming_it(args, missing, workdir):
    result = tsea(*args, cwd=workdir)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsea: error: ") and missing in lines[0]


def test_runtime_error_is_one_line_and_debug_adds_the_traceback(model, workdir):
    args = ["attention", "--model", model, "--data", TEST, "--index", "100000", "-o", "a.png"]
    plain = tsea(*args, cwd=workdir)
    assert plain.returncode == 1
    assert plain.stderr.strip() == (f"tsea: error: --index 100000 is out of range: {TEST} "
                                    "has 100 series")
    debug = tsea(*args, "--debug", cwd=workdir)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


@pytest.mark.parametrize("command", ["fit", "embed", "evaluate", "attention", "benchmark"])
def test_every_command_help_has_examples(command, workdir):
    result = ok(tsea(command, "--help", cwd=workdir))
    assert result.stdout.startswith(f"usage: tsea {command}")
    assert "examples:" in result.stdout and f"tsea {command}" in result.stdout.split("examples:")[1]


def test_top_level_help_lists_the_commands(workdir):
    text = ok(tsea("--help", cwd=workdir)).stdout
    for command in ("fit", "embed", "evaluate", "benchmark", "attention"):
        assert f"    {command}" in text


def test_progress_bars_go_to_stderr_and_stay_out_of_the_model(workdir):
    """Without --quiet, Lightning's training bar must not mix into the printed result (stdout),
    and the display setting must not become the saved model's ``verbose``."""
    from tsea.estimators import EAClassifier

    result = ok(tsea("evaluate", "--data", TRAIN, "--test", TEST, "--config", "tiny", "--set",
                     "n_iters=3", "--head", "ridge", "--out", "shown.tsea", cwd=workdir))
    assert result.stdout.startswith("accuracy: ") and len(result.stdout.splitlines()) == 1
    assert "Epoch 0" in result.stderr
    assert EAClassifier.load(str(workdir / "shown.tsea")).verbose is False
    result = ok(tsea("fit", "--data", TRAIN, "--config", "tiny", "--set", "n_iters=3", "--set",
                     "verbose=true", "--out", "asked.tsea", cwd=workdir))
    assert result.stdout == "" and "Epoch 0" in result.stderr
    from tsea.estimators import EAEncoder

    assert EAEncoder.load(str(workdir / "asked.tsea")).verbose is True

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

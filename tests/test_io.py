"""Atomic output: a failed write leaves the old file and no temporary behind."""

import pytest

from i2pa_core.io.files import atomic_path, write_text


def test_failed_write_keeps_old_content(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]

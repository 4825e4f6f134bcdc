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


def test_atomic_writes_keep_the_umask_mode(tmp_path):
    """mkstemp creates 0600 files; written files get 0666 less the umask, as open() gives."""
    import os
    import stat

    from i2pa_core.io.files import write_text

    old = os.umask(0o022)
    try:
        path = write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        os.umask(0o077)
        assert stat.S_IMODE(write_text(tmp_path / "b.txt", "y").stat().st_mode) == 0o600
    finally:
        os.umask(old)

"""atomic_write: all or nothing, and the permissions a normal new file would get."""

from __future__ import annotations

import os
import stat

import pytest

from minigrad.atomic import atomic_write


def test_writes_text_and_bytes_with_normal_permissions(tmp_path):
    mask = os.umask(0)
    os.umask(mask)
    path = atomic_write(tmp_path / "sub" / "a.txt", "héllo")
    assert path.read_text(encoding="utf-8") == "héllo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    atomic_write(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = atomic_write(tmp_path / "a.txt", "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]

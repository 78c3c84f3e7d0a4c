"""`Folders.create_numbered`: the one way nodes create the files they save."""

import os

import pytest

from nodeflow import Folders


@pytest.fixture
def folders(tmp_path) -> Folders:
    return Folders(output=tmp_path / "output", input=tmp_path / "input", temp=tmp_path / "temp")


def test_numbers_follow_the_highest_one_in_the_folder(folders):
    folders.output.mkdir()
    (folders.output / "shot_00007_.png").write_bytes(b"")
    with folders.create_numbered("output", "shot", ".png") as new:
        new.file.write(b"png")
    assert new.path == folders.output / "shot_00008_.png" and new.path.read_bytes() == b"png"


def test_a_failed_write_leaves_no_file(folders):
    with pytest.raises(RuntimeError), folders.create_numbered("output", "sub/shot", ".png") as new:
        raise RuntimeError("encoder failed")
    assert not new.path.exists() and new.subfolder == "sub"


def test_files_get_the_default_mode(folders):
    umask = os.umask(0o022)
    try:
        with folders.create_numbered("output", "shot", ".png") as new:
            pass
    finally:
        os.umask(umask)
    assert new.path.stat().st_mode & 0o777 == 0o644

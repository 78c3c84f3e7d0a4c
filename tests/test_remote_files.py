"""An actor's scratch folders as its prompts write into them while the head is sent what they wrote."""

from nodeflow.folders import Folders
from nodeflow.server.remote_files import ScratchFolders, renamed, store_sent


def _scratch(root):
    return ScratchFolders(output=root / "output", input=root / "input", temp=root / "temp")


def _save(folders, data):
    with folders.create_numbered("output", "nf", ".png") as new:
        new.file.write(data)
    return new.path.name


def test_files_of_one_request_keep_distinct_names_after_being_sent(tmp_path):
    # The prompts of a batch save one after another while the head takes what was written: a name sent once
    # must not come back for another prompt's file, or the head maps both references to the last file it stored.
    scratch, head = _scratch(tmp_path / "actor"), Folders(output=tmp_path / "head")
    names = {}
    references = []
    for data in (b"first", b"second"):
        references.append({"filename": _save(scratch, data), "subfolder": "", "type": "output"})
        names.update((sent.key, store_sent(head, sent)) for sent in scratch.take_written())
    stored = [renamed(reference, names)["filename"] for reference in references]
    assert [(tmp_path / "head" / name).read_bytes() for name in stored] == [b"first", b"second"]


def test_a_file_still_being_written_is_sent_once_it_is_complete(tmp_path):
    scratch = _scratch(tmp_path)
    with scratch.create_numbered("output", "nf", ".png") as new:
        new.file.write(b"half")
        assert scratch.take_written() == []
        new.file.write(b" and the rest")
    [sent] = scratch.take_written()
    assert (sent.name, sent.data, sent.numbered) == ("nf_00001_.png", b"half and the rest", ("nf", ".png"))
    assert scratch.take_written() == []


def test_ending_a_request_sends_what_is_left_and_empties_the_folders(tmp_path):
    scratch = _scratch(tmp_path)
    _save(scratch, b"numbered")
    (tmp_path / "temp" / "sub").mkdir(parents=True)
    (tmp_path / "temp" / "sub" / "plain.bin").write_bytes(b"plain")
    sent = scratch.end_request()
    assert sorted((s.kind, s.subfolder, s.name, s.data) for s in sent) == [
        ("output", "", "nf_00001_.png", b"numbered"), ("temp", "sub", "plain.bin", b"plain")]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert _save(scratch, b"next request") == "nf_00001_.png"

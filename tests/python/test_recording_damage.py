"""Damage at every byte of a recording written by a real sil-sim (its C++
Writer), read through sil.recording and sil-rec (docs/recording-format.md
"Damage"): a cut is a torn tail (a warning, an exact prefix, exit 0); a
changed byte is corruption at its frame's offset (RecordingError, exit 2),
never a clean or torn end; sil-rec recover keeps every frame the damage did
not touch."""

import contextlib
import io
import json
import struct
import warnings

import pytest

import sil
import sil.rec
import sil.recording
from sil import ProcessTarget, SetPoint
from sil.recording import IncompleteRecordingWarning, RecordingError

MAGIC = b"SILREC1\n"


@pytest.fixture(scope="module")
def original(sil_sim_path, tmp_path_factory):
    """The recording's bytes, its messages as read, and where its frames
    start (then its size)."""
    folder = tmp_path_factory.mktemp("damage")
    path = folder / "run.silrec"
    with ProcessTarget(sil_sim_path, rate_hz=100, clock="step", log_dir=folder,
                       extra_args=["--record", str(path)]) as target:
        target.advance(ms=30)
        target.inject(SetPoint(setpoint_c=65.0))
        target.advance(ms=40)
        assert target.close() == 0
    data = path.read_bytes()
    starts = []
    at = len(MAGIC)
    while at < len(data):
        starts.append(at)
        at += 8 + struct.unpack_from("<I", data, at)[0]
    starts.append(at)
    with sil.recording.open(path) as rec:
        messages = [as_tuple(m) for m in rec]
        assert rec.footer is not None
    assert 20 <= len(starts) - 1 <= 100, "a few dozen frames"
    return data, messages, starts


def as_tuple(m):
    return m.sim_time_ns, m.wall_ns, m.msg_id, m.direction, m.payload


def frame_of(starts, offset):
    """Index of the frame byte `offset` is in (0: the header); None for the magic."""
    if offset < len(MAGIC):
        return None
    return max(i for i, start in enumerate(starts) if start <= offset)


def read(path):
    """(messages, warnings) of reading path to the end; raises RecordingError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with sil.recording.open(path) as rec:
            messages = [as_tuple(m) for m in rec]
    return messages, [w.message for w in caught]


def sil_rec(*args):
    """sil-rec in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = sil.rec.main([str(arg) for arg in args])
    return status, out.getvalue(), err.getvalue()


def test_a_cut_at_every_byte_is_a_torn_tail_with_an_exact_prefix(original, tmp_path):
    data, messages, starts = original
    path = tmp_path / "cut.silrec"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        frame = frame_of(starts, cut)
        if frame is None or frame == 0 or (frame == 1 and cut < starts[1]):
            with pytest.raises(RecordingError, match="ends before its header"):
                read(path)
            continue
        got, caught = read(path)
        assert got == messages[:frame - 1], f"cut at {cut}"
        assert len(caught) == 1 and isinstance(caught[0], IncompleteRecordingWarning), f"cut at {cut}"
        assert caught[0].offset == starts[frame] and caught[0].torn == (cut != starts[frame]), f"cut at {cut}"
        status, _, err = sil_rec("info", path, "--json")
        assert status == 0 and err.count("sil-rec: warning:") == 1 and "error" not in err, f"cut at {cut}: {err}"


def test_a_changed_byte_anywhere_is_corruption_at_its_frame(original, tmp_path):
    data, messages, starts = original
    path = tmp_path / "damaged.silrec"
    for at in range(len(data)):
        damaged = bytearray(data)
        damaged[at] ^= 0xFF
        path.write_bytes(damaged)
        frame = frame_of(starts, at)
        offset = 0 if frame is None else starts[frame]
        got = []
        with pytest.raises(RecordingError) as error:
            with sil.recording.open(path) as rec:
                got.extend(as_tuple(m) for m in rec)
        assert error.value.offset == offset, f"byte {at}: {error.value}"
        assert got == messages[:max(0, (frame or 0) - 1)], f"byte {at}"
        assert error.value.damaged == (frame is not None and frame > 0), f"byte {at}"
        status, _, err = sil_rec("info", path)
        assert status == 2 and f"at byte {offset}" in err and "warning" not in err, f"byte {at}: {err}"
        assert ("sil-rec recover" in err) == error.value.damaged, f"byte {at}: {err}"


def test_recover_keeps_every_frame_the_damage_did_not_touch(original, tmp_path):
    data, messages, starts = original
    source = tmp_path / "damaged.silrec"
    footer = len(starts) - 2
    for at in range(len(data)):
        damaged = bytearray(data)
        damaged[at] ^= 0xFF
        source.write_bytes(damaged)
        output = tmp_path / f"recovered-{at}.silrec"
        frame = frame_of(starts, at)
        status, out, err = sil_rec("recover", source, output, "--json")
        if frame == 0:
            assert status == 2 and "header at byte 8 is damaged" in err, f"byte {at}: {err}"
            assert not output.exists()
            continue
        assert status == 0, f"byte {at}: {err}"
        result = json.loads(out)
        if frame is None:  # the magic: replaced; the run is whole
            assert output.read_bytes() == data, f"byte {at}"
            assert result["skipped"] == [{"offset": 0, "bytes": 8, "frames": 0, "why": result["skipped"][0]["why"]}]
            continue
        [skipped] = result["skipped"]
        assert (skipped["offset"], skipped["offset"] + skipped["bytes"]) == (starts[frame], starts[frame + 1])
        got, caught = read(output)
        lost = frame - 1  # the index of the damaged frame's message
        assert got == messages[:lost] + messages[lost + 1:], f"byte {at}"
        assert result["messages"] == len(got) and result["footer"] is False
        # A recording with a gap has no footer: it reads as cut short.
        assert len(caught) == 1 and not caught[0].torn
        assert result["footer_offset"] == (None if frame == footer else starts[footer]), f"byte {at}"
        output.unlink()


def test_recover_of_a_cut_recording_keeps_the_exact_prefix(original, tmp_path):
    data, messages, starts = original
    source = tmp_path / "cut.silrec"
    cut = starts[5] + 3
    source.write_bytes(data[:cut])
    status, out, err = sil_rec("recover", source, tmp_path / "out.silrec")
    assert status == 0, err
    assert (tmp_path / "out.silrec").read_bytes() == data[:starts[5]]
    assert f"skipped 3 bytes at byte {starts[5]} (1 frame): the last frame is incomplete" in out
    assert "no footer: the recovered recording reads as cut short" in out


def test_recover_reports_what_it_skipped_and_never_overwrites(original, tmp_path):
    data, messages, starts = original
    damaged = bytearray(data)
    damaged[starts[4] + 2] ^= 0x10  # a length 1 MiB longer: past the end of the file
    source = tmp_path / "damaged.silrec"
    source.write_bytes(damaged)
    status, _, err = sil_rec("dump", source)
    assert status == 2
    assert (f"a frame length that runs past the end of the file, though the file was not cut short there (the "
            f"file is corrupted) at byte {starts[4]}") in err
    output = tmp_path / "out.silrec"
    status, out, err = sil_rec("recover", source, output)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{source} -> {output}: {len(messages) - 1} messages recovered"
    assert lines[1].startswith(f"skipped {starts[5] - starts[4]} bytes at byte {starts[4]} (frames unknown): a frame "
                               f"length that runs past the end")
    assert lines[2] == (f"the footer at byte {starts[-2]} was not copied: records before it were lost, so the "
                        f"recovered recording has no footer and reads as cut short")
    before = output.read_bytes()
    status, _, err = sil_rec("recover", source, output)
    assert status == 2 and "File exists" in err and output.read_bytes() == before
    status, _, err = sil_rec("recover", source, source)
    assert status == 2 and source.read_bytes() == damaged
    status, out, _ = sil_rec("recover", tmp_path / "out.silrec", tmp_path / "again.silrec")
    assert status == 0 and "nothing was damaged: the copy is identical" in out


def test_recover_refuses_a_file_that_is_not_a_recording(tmp_path):
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"GIF89a" + bytes(100))
    output = tmp_path / "out.silrec"
    status, _, err = sil_rec("recover", foreign, output)
    assert status == 2 and "not a sil recording" in err and "nothing to recover" in err
    assert not output.exists()

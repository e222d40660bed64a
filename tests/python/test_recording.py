"""sil.recording: reading recordings written byte by byte by the test-only
writer (recording_writer), including torn, corrupt and foreign ones."""

import csv
import io
import os
import warnings

import pytest

import sil
import sil.recording
from sil import Heartbeat, MsgId, PlantTemperature, RevisionResponse, SetPoint, _core
from sil import sil_control_pb2 as cpb
from sil import sil_record_pb2 as rpb
from sil.catalogue import Catalogue, CatalogueMessage, CatalogueMismatchError
from sil.recording import IncompleteRecordingWarning, RecordingError

import recording_writer as writer
from changed_catalogue import EXTRA_ID, changed_messages


def sample_messages(count=40):
    """(sim_time_ns, msg_id, payload, direction) of every kind: published
    telemetry, an injected set point, control traffic, text fields."""
    messages = []
    for i in range(count):
        t = i * 10_000_000
        messages.append((t, int(PlantTemperature.ID),
                         PlantTemperature(temperature_c=20.0 + i / 8, heater_power_w=i * 1.5).to_bytes(),
                         writer.PUBLISHED, 1000 + i))
        if i % 10 == 0:
            messages.append((t, int(Heartbeat.ID), Heartbeat(sequence=i // 10, tick=i, sim_time_ns=t).to_bytes(),
                             writer.PUBLISHED, 2000 + i))
        if i == 3:
            messages.append((t, int(SetPoint.ID), SetPoint(setpoint_c=55.5).to_bytes(), writer.INJECTED, 3000))
            request = cpb.Request(sequence=7, advance=cpb.Advance(ticks=2))
            messages.append((t, 0xFFF0, request.SerializeToString(), writer.CONTROL_REQUEST, 3001))
            reply = cpb.Reply(sequence=7, sim_time_ns=t, advanced=cpb.Advanced(ticks_run=2))
            messages.append((t, 0xFFF1, reply.SerializeToString(), writer.CONTROL_REPLY, 3002))
        if i == 5:
            messages.append((t, int(RevisionResponse.ID),
                             RevisionResponse.zero(request_id=9, git_revision="abc123").to_bytes(), writer.PUBLISHED, 4000))
    return messages


def write(tmp_path, data, name="run.silrec"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(path):
    """(messages as tuples, warnings) of reading path to the end."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with sil.recording.open(path) as rec:
            messages = [(m.sim_time_ns, m.msg_id, m.payload, m.direction, m.wall_ns) for m in rec]
    return messages, [w.message for w in caught]


def as_read(messages):
    return [(t, msg_id, payload, sil.recording.DIRECTIONS[d], wall) for t, msg_id, payload, d, wall in messages]


# -- round trip ---------------------------------------------------------------


def test_round_trip_gives_back_every_message_byte_for_byte(tmp_path):
    messages = sample_messages()
    path = write(tmp_path, writer.recording(messages, rate_hz=250, clock="fast", version="0.1.0",
                                            git_revision="f" * 40, start_unix_ns=123))
    read, caught = read_all(path)
    assert read == as_read(messages)
    assert caught == []
    with sil.recording.open(path) as rec:
        header = rec.header
        assert (header.format_version, header.version, header.git_revision, header.rate_hz, header.clock,
                header.start_unix_ns) == (1, "0.1.0", "f" * 40, 250, "fast", 123)
        assert header.catalogue.hash == sil.catalogue_hash
        assert [info.name for info in header.catalogue] == [cls.__name__ for cls in sil.message_types()]
        assert rec.footer == sil.recording.Footer(messages=len(messages), dropped=0, end_sim_time_ns=390_000_000)


def test_values_are_the_compiled_classes_when_the_layouts_match(tmp_path):
    path = write(tmp_path, writer.recording(sample_messages()))
    with sil.recording.open(path) as rec:
        by_name = {}
        for m in rec:
            by_name.setdefault(m.name, m)
    assert by_name["PlantTemperature"].value == PlantTemperature(temperature_c=20.0, heater_power_w=0.0)
    assert type(by_name["PlantTemperature"].value) is PlantTemperature
    assert by_name["RevisionResponse"].value.git_revision == "abc123"
    assert by_name["SetPoint"].direction == "injected" and by_name["SetPoint"].value.setpoint_c == 55.5
    request = by_name["ControlRequest"].value
    assert isinstance(request, cpb.Request) and request.advance.ticks == 2
    assert by_name["ControlReply"].value.advanced.ticks_run == 2
    assert by_name["ControlReply"].direction == "control_reply"


def test_a_payload_that_does_not_fit_the_catalogue_has_no_value(tmp_path):
    path = write(tmp_path, writer.recording([(0, int(Heartbeat.ID), b"\x01\x02\x03")]))
    with sil.recording.open(path) as rec:
        (m,) = list(rec)
    assert (m.name, m.payload, m.value) == ("Heartbeat", b"\x01\x02\x03", None)


def test_the_recordings_catalogue_decodes_messages_this_build_lays_out_differently(tmp_path):
    catalogue = Catalogue(changed_messages())
    heartbeat = catalogue["Heartbeat"]
    grown = Heartbeat(sequence=4, tick=40, sim_time_ns=400).to_bytes() + (513).to_bytes(2, "little")
    messages = [(0, heartbeat.id, grown), (0, EXTRA_ID, (-5).to_bytes(4, "little", signed=True)),
                (0, int(PlantTemperature.ID), PlantTemperature.zero(temperature_c=1.5).to_bytes())]
    path = write(tmp_path, writer.recording(messages, catalogue=catalogue))
    with sil.recording.open(path) as rec:
        assert rec.header.catalogue.hash == catalogue.hash != sil.catalogue_hash
        values = [m.value for m in rec]
        assert isinstance(values[0], CatalogueMessage) and not isinstance(values[0], Heartbeat)
        assert (values[0].sequence, values[0].tick, values[0].load) == (4, 40, 513)
        assert [m.name for m in rec.messages("Extra")] == ["Extra"] and values[1].value == -5
        # Unchanged layouts still come as this build's classes.
        assert type(values[2]) is PlantTemperature
        # This build's Heartbeat cannot select the recording's Heartbeat.
        with pytest.raises(CatalogueMismatchError, match="Heartbeat"):
            rec.messages(Heartbeat)
        assert [m.value.load for m in rec.messages("Heartbeat")] == [513]


# -- filters and export -------------------------------------------------------


def test_messages_filter_by_type_time_and_direction(tmp_path):
    messages = sample_messages()
    path = write(tmp_path, writer.recording(messages))
    plant = int(PlantTemperature.ID)
    with sil.recording.open(path) as rec:
        for spec in ("PlantTemperature", plant, MsgId.PlantTemperature, PlantTemperature, [PlantTemperature]):
            assert [m.msg_id for m in rec.messages(spec)] == [plant] * 40
        both = rec.messages(["Heartbeat", SetPoint])
        assert [m.name for m in both] == ["Heartbeat", "SetPoint", "Heartbeat", "Heartbeat", "Heartbeat"]
        window = list(rec.messages("PlantTemperature", start=sil.ms(100), end=sil.ms(150)))
        assert [m.sim_time_ns for m in window] == [100_000_000, 110_000_000, 120_000_000, 130_000_000,
                                                   140_000_000]
        assert [m.name for m in rec.messages(directions=["control_request", "control_reply"])] == \
            ["ControlRequest", "ControlReply"]
        assert [m.name for m in rec.messages("ControlRequest")] == ["ControlRequest"]
        assert list(rec.messages(directions="injected"))[0].value == SetPoint(setpoint_c=55.5)


def test_bad_filters_are_refused_before_anything_is_read(tmp_path):
    path = write(tmp_path, writer.recording(sample_messages()))
    with sil.recording.open(path) as rec:
        with pytest.raises(LookupError, match="no message type 'Nope'.*PlantTemperature"):
            rec.messages("Nope")
        with pytest.raises(LookupError, match="MsgId 4242"):
            rec.messages(4242)
        with pytest.raises(TypeError, match="simulated time"):
            rec.messages(start=5)
        with pytest.raises(ValueError, match="unknown direction 'sideways'"):
            rec.messages(directions=["sideways"])
        with pytest.raises(TypeError, match="a name, a MsgId or a message class"):
            rec.messages([1.5])


def test_csv_has_one_column_per_field_of_the_selected_types(tmp_path):
    path = write(tmp_path, writer.recording(sample_messages()))
    out = tmp_path / "out.csv"
    with sil.recording.open(path) as rec:
        assert rec.to_csv(out, types=["PlantTemperature", "SetPoint"], end=sil.ms(40)) == 5
        text = io.StringIO()
        assert rec.to_csv(text, types="Heartbeat") == 4
        with pytest.raises(ValueError, match="no fields"):
            rec.to_csv(io.StringIO(), types="ControlReply")
        everything = io.StringIO()
        rec.to_csv(everything)
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["sim_time_ns", "wall_ns", "msg_id", "name", "direction", "SetPoint.setpoint_c",
                             "PlantTemperature.temperature_c", "PlantTemperature.heater_power_w"]
    assert [r["name"] for r in rows] == ["PlantTemperature"] * 4 + ["SetPoint"]
    assert rows[1]["PlantTemperature.temperature_c"] == "20.125" and rows[1]["SetPoint.setpoint_c"] == ""
    assert rows[4]["SetPoint.setpoint_c"] == "55.5" and rows[4]["direction"] == "injected"
    assert rows[4]["wall_ns"] == "3000"
    heartbeats = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert [r["Heartbeat.sequence"] for r in heartbeats] == ["0", "1", "2", "3"]
    assert "Heartbeat.sim_time_ns" in heartbeats[0]
    # Everything but control traffic: one column per field of every message.
    header = next(csv.reader(io.StringIO(everything.getvalue())))
    assert len(header) == 5 + sum(len(cls.fields()) for cls in sil.message_types())


# -- cut short: an exact prefix, a warning, never an error --------------------


def test_a_recording_cut_at_any_byte_reads_as_an_exact_prefix(tmp_path):
    messages = sample_messages(12)
    data = writer.recording(messages)
    offsets = writer.frame_offsets(data)
    header_end = offsets[1]
    expected_all = as_read(messages)
    path = write(tmp_path, b"")
    growing = path.open("ab", buffering=0)
    for cut in range(len(data) + 1):
        # The file grows a byte at a time, as if the sim were killed after each.
        growing.write(data[cut - 1:cut] if cut else b"")
        if cut < header_end:
            with pytest.raises(RecordingError, match="ends before its header") as error:
                sil.recording.open(path)
            assert error.value.offset in (0, len(writer.MAGIC))
            continue
        read, caught = read_all(path)
        complete_frames = sum(1 for start in offsets[1:] if start <= cut) - 1  # message frames + footer
        assert read == expected_all[:min(complete_frames, len(messages))], f"cut at byte {cut}"
        if cut == len(data):
            assert caught == []
        else:
            assert len(caught) == 1 and isinstance(caught[0], IncompleteRecordingWarning), f"cut at byte {cut}"
            assert caught[0].torn == (cut not in offsets)
            boundary = max(start for start in offsets if start <= cut)
            assert caught[0].offset == boundary
    growing.close()


def test_footer_is_none_and_warns_when_cut_short(tmp_path):
    data = writer.recording(sample_messages(3), footer=False)
    with sil.recording.open(write(tmp_path, data)) as rec:
        with pytest.warns(IncompleteRecordingWarning, match="no footer"):
            assert rec.footer is None


# -- corruption: a clear error naming the offset, never a crash ---------------


def test_every_flipped_bit_is_an_error_at_its_frame(tmp_path):
    messages = sample_messages(4)
    data = writer.recording(messages)
    offsets = writer.frame_offsets(data)
    expected_all = as_read(messages)
    path = write(tmp_path, data, "flipped.silrec")
    descriptor = os.open(path, os.O_WRONLY)
    for position in range(len(data)):
        frame_start = max([0] + [start for start in offsets if start <= position])
        for bit in range(8):
            # In place: rewriting the whole file thousands of times is slow on a busy disk.
            os.pwrite(descriptor, bytes([data[position] ^ (1 << bit)]), position)
            where = f"bit {bit} of byte {position}"
            read = []
            with pytest.raises(RecordingError) as error:
                with sil.recording.open(path) as rec:
                    read.extend((m.sim_time_ns, m.msg_id, m.payload, m.direction, m.wall_ns) for m in rec)
            assert error.value.offset == frame_start, where
            assert f"at byte {frame_start}" in str(error.value), where
            # Even a length grown past the end of the file: intact frames
            # follow it (or, in the footer, the rest is its whole record).
            assert read == expected_all[:max(0, offsets.index(frame_start) - 1) if frame_start else 0], where
        os.pwrite(descriptor, data[position:position + 1], position)
    os.close(descriptor)


@pytest.mark.parametrize("data, problem, offset", [
    (b"", "ends before its header", 0),
    (b"SILREC", "ends before its header", 0),
    (b"PK\x03\x04 a zip file", "not a sil recording", 0),
    (writer.MAGIC + writer.frame(b"x" * 4, length=0xFFFFFFFF), "above the 16 MiB limit", 8),
    (writer.MAGIC + writer.frame(writer.header_record(), crc=0), "CRC-32C does not match", 8),
    (writer.MAGIC + writer.frame(b"\xff\xff\xff"), "does not parse", 8),
    (writer.MAGIC + writer.frame(writer.footer_record(0)), "first record is not a header", 8),
], ids=["empty", "cut-magic", "foreign", "too-long", "bad-crc", "not-protobuf", "no-header"])
def test_files_that_are_not_readable_recordings_name_the_problem_and_offset(tmp_path, data, problem, offset):
    with pytest.raises(RecordingError, match=problem) as error:
        sil.recording.open(write(tmp_path, data))
    assert error.value.offset == offset


def test_corruption_after_the_header_is_raised_while_reading(tmp_path):
    good = writer.recording(sample_messages(2), footer=False)
    bad_frame = writer.frame(writer.message_record(0, int(Heartbeat.ID), b"\0" * 20), crc=1)
    path = write(tmp_path, good + bad_frame)
    with sil.recording.open(path) as rec:
        seen = []
        with pytest.raises(RecordingError, match=f"CRC-32C does not match its bytes .* at byte {len(good)}"):
            for m in rec:
                seen.append(m)
    assert len(seen) == len(sample_messages(2))


def test_a_record_that_does_not_parse_is_an_error_at_its_offset(tmp_path):
    good = writer.recording(sample_messages(1), footer=False)
    path = write(tmp_path, good + writer.frame(b"\xff\xff\xff") + writer.frame(writer.footer_record(0)))
    with sil.recording.open(path) as rec:
        with pytest.raises(RecordingError, match=f"does not parse as sil.record.Record at byte {len(good)}"):
            list(rec)


def test_a_length_field_is_never_trusted(tmp_path):
    # 16 MiB claimed with 10 bytes present: a torn tail, read without
    # allocating what the length says.
    data = writer.recording([], footer=False) + (16 << 20).to_bytes(4, "little") + b"\0" * 14
    read, caught = read_all(write(tmp_path, data))
    assert read == [] and caught[0].torn


def test_structure_errors_after_the_header(tmp_path):
    messages = [(0, int(Heartbeat.ID), Heartbeat.zero().to_bytes())]
    after_footer = writer.recording(messages) + writer.frame(writer.message_record(1, int(Heartbeat.ID), b""))
    with pytest.raises(RecordingError, match="data after the footer"):
        read_all(write(tmp_path, after_footer))
    second_header = writer.recording([], footer=False) + writer.frame(writer.header_record())
    with pytest.raises(RecordingError, match="a second header"):
        read_all(write(tmp_path, second_header))
    # A record of no kind this reader knows is damage, as in the C++ reader:
    # eight zero bytes (a lost disk block) are such a record, checksum and
    # all. A new kind of record comes with a new format_version.
    for unknown in (b"", rpb.Record().SerializeToString() + b"\x22\x00"):
        data = writer.recording([], footer=False) + writer.frame(unknown) + \
            writer.frame(writer.message_record(5, int(Heartbeat.ID), Heartbeat.zero().to_bytes())) + \
            writer.frame(writer.footer_record(1))
        with pytest.raises(RecordingError, match="does not parse as sil.record.Record at byte"):
            read_all(write(tmp_path, data))


def test_format_version_and_catalogue_are_checked(tmp_path):
    record = rpb.Record.FromString(writer.header_record())
    record.header.format_version = 2
    data = writer.MAGIC + writer.frame(record.SerializeToString())
    with pytest.raises(RecordingError, match="format version 2"):
        sil.recording.open(write(tmp_path, data))
    record.header.format_version = 1
    record.header.catalogue.messages[0].size += 1
    data = writer.MAGIC + writer.frame(record.SerializeToString())
    with pytest.raises(RecordingError, match="catalogue is invalid"):
        sil.recording.open(write(tmp_path, data))


def test_the_framing_is_the_cpp_one(tmp_path):
    assert _core.crc32c(b"123456789") == 0xE3069283 == writer.crc32c(b"123456789")
    blob = bytes(range(256)) * 3
    assert _core.crc32c(blob) == writer.crc32c(blob)
    assert _core.RECORD_MAGIC == writer.MAGIC and _core.MAX_RECORD_BYTES == 16 << 20
    frames = _core.RecordFrames(writer.MAGIC + writer.frame(b"abc") + writer.frame(b""))
    assert list(frames) == [b"abc", b""] and (frames.status, frames.offset) == ("end", 27)
    with pytest.raises(TypeError, match="bytes-like"):
        _core.RecordFrames("text")


def test_record_reader_is_the_cpp_reader():
    message = writer.message_record(5, 2002, b"p" * 20, writer.INJECTED, wall_ns=9)
    data = writer.MAGIC + writer.frame(writer.header_record()) + writer.frame(message) + \
        writer.frame(message) + writer.frame(writer.footer_record(2, 1, 7))
    reader = _core.RecordReader(data)
    assert reader.header == rpb.Record.FromString(writer.header_record()).header.SerializeToString()
    assert reader.end == "reading" and reader.footer is None
    assert list(reader) == [(5, 9, 2002, 1, b"p" * 20)] * 2
    assert (reader.end, reader.problem, reader.offset, reader.footer) == ("clean", "", len(data), (2, 1, 7))
    finished = _core.RecordReader(data[:-3])
    finished.finish()
    assert (finished.end, finished.offset, finished.footer) == ("torn tail", len(data) - len(writer.frame(
        writer.footer_record(2, 1, 7))), None)
    foreign = _core.RecordReader(b"PK\x03\x04 a zip file")
    assert foreign.header is None and foreign.end == "corrupt" and foreign.offset == 0
    assert foreign.problem == "not a sil recording (it does not start with the SILREC1 magic)"


def test_close_while_iterating_keeps_the_iterator_valid(tmp_path):
    path = write(tmp_path, writer.recording(sample_messages(5)))
    rec = sil.recording.open(path)
    iterator = iter(rec)
    first = next(iterator)
    rec.close()
    assert len([first, *iterator]) == len(sample_messages(5))

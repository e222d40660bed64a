"""The generated Wireshark dissector and `sil-rec pcap`, checked with tshark
(docs/wireshark.md): every field tshark decodes from a pcapng of a real
recording is what sil's Python decoder gives for the same bytes."""

import importlib
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import sil
import sil.recording
from sil import ProcessTarget, RevisionRequest, RevisionResponse, SetPoint, pcap, wireshark
from sil import sil_control_pb2 as pb
from sil._system import system_module
from sil.catalogue import KINDS, Catalogue, FieldInfo, MessageInfo, message_class
from sil.control import encode_request

ROOT_WARNING = 'Running as user "root" and group "root". This could be dangerous.'
_KIND_SIZE = {"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8, "f32": 4, "f64": 8}


def tshark(lua: Path, capture: Path, *options: str) -> list[dict]:
    """tshark's JSON for capture with the dissector loaded: one layers dict per packet."""
    assert shutil.which("tshark"), "tshark is missing: scripts/install-deps installs it (Debian package tshark)"
    result = subprocess.run(["tshark", "-X", f"lua_script:{lua}", "-r", str(capture), "-T", "json",
                             "--no-duplicate-keys", *options], capture_output=True, text=True, timeout=120)
    # tshark warns on stderr when run as root (as CI containers do); anything else is a problem.
    problems = [line for line in result.stderr.splitlines() if line.strip() and line.strip() != ROOT_WARNING]
    assert result.returncode == 0 and not problems, result.stderr
    # A Lua error inside the dissector shows up in the packet, not in the exit status.
    assert "_ws.lua.error" not in result.stdout and "Lua Error" not in result.stdout, result.stdout
    return [packet["_source"]["layers"] for packet in json.loads(result.stdout)]


def info_column(lua: Path, capture: Path) -> list[str]:
    result = subprocess.run(["tshark", "-X", f"lua_script:{lua}", "-r", str(capture), "-T", "fields",
                             "-e", "_ws.col.Info"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def expected_info(decoder, msg_id: int, payload: bytes) -> str:
    """The Info column: a message's name and fields; a control datagram's commands or results."""
    if msg_id in (0xFFF0, 0xFFF1):
        message = (pb.Request if msg_id == 0xFFF0 else pb.Reply).FromString(payload)
        nested = [field.name for field, _ in message.ListFields() if field.type == field.TYPE_MESSAGE]
        return " ".join(["ControlRequest" if msg_id == 0xFFF0 else "ControlReply", *nested])
    info = decoder.remote[msg_id]
    value = decoder.decode(msg_id, payload)
    return " ".join([info.name, *(f"{f.name}=" + (f'"{getattr(value, f.name)}"' if f.is_text else
                                                  shown(f.kind, getattr(value, f.name))) for f in info.fields)])


def shown(kind: str, value) -> str:
    """A field's value as Wireshark 4.0 shows it: floats with FLT_DIG/DBL_DIG significant digits."""
    if kind == "f32":
        return f"{value:.6g}"
    if kind == "f64":
        return f"{value:.15g}"
    return str(value)


def expected_message(info: MessageInfo, value) -> dict:
    fields = {f"sil.{info.name}.{field.name}": shown(field.kind, getattr(value, field.name)) for field in info.fields}
    return {"sil.msg_id": str(info.id), "sil.message": info.name, **fields}


def shown_protobuf(field, value):
    """A protobuf field's value as the dissector shows it in tshark's JSON."""
    if field.type == field.TYPE_MESSAGE:
        return expected_protobuf(value) or ""
    if field.type == field.TYPE_BOOL:
        return "1" if value else "0"
    if field.type == field.TYPE_DOUBLE:
        return f"{value:.15g}"
    if field.type == field.TYPE_BYTES:
        return ":".join(f"{b:02x}" for b in value)
    return str(value)


def expected_protobuf(message) -> dict:
    """A sil.control message as the dissector's tree: the fields on the wire
    (proto3 leaves out defaults, and so does ListFields; a map entry always
    carries its key and value)."""
    short = message.DESCRIPTOR.full_name[len("sil.control."):]
    tree = {}
    for field, value in message.ListFields():
        entry = field.message_type if field.message_type is not None and \
            field.message_type.GetOptions().map_entry else None
        if entry is not None:
            prefix = f"sil.control.{entry.full_name[len('sil.control.'):]}"
            key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
            items = [{f"{prefix}.key": shown_protobuf(key_field, k), f"{prefix}.value": shown_protobuf(value_field, v)}
                     for k, v in value.items()]
        elif field.label == field.LABEL_REPEATED:
            items = [shown_protobuf(field, item) for item in value]
        else:
            items = [shown_protobuf(field, value)]
        tree[f"sil.control.{short}.{field.name}"] = items[0] if len(items) == 1 else items
    return tree


def canonical(tree):
    """Repeated fields (map entries above all) in a stable order."""
    if isinstance(tree, dict):
        return {key: canonical(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return sorted((canonical(item) for item in tree), key=lambda item: json.dumps(item, sort_keys=True))
    return tree


def sil_layer(layers: dict) -> dict:
    layer = dict(layers["sil"])
    layer.pop("_ws.expert", None)
    return layer


def expected_datagram(decoder, msg_id: int, payload: bytes) -> dict:
    if msg_id in (0xFFF0, 0xFFF1):
        kind, name, field = (pb.Request, "ControlRequest", "sil.control.request") if msg_id == 0xFFF0 else \
            (pb.Reply, "ControlReply", "sil.control.reply")
        return {"sil.msg_id": str(msg_id), "sil.message": name, field: expected_protobuf(kind.FromString(payload))}
    info = decoder.remote[msg_id]
    return expected_message(info, decoder.decode(msg_id, payload))


@pytest.fixture(scope="module")
def dissector(tmp_path_factory) -> Path:
    """The dissector for the system module in use, written by the command line."""
    path = tmp_path_factory.mktemp("wireshark") / "system.lua"
    name = system_module().__name__
    result = subprocess.run([sys.executable, "-m", "sil.wireshark", "--module", name, "-o", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def recorded(sil_sim_path, tmp_path_factory):
    """A stepped run of the sim with telemetry, injections, a request and control traffic, recorded."""
    directory = tmp_path_factory.mktemp("recorded")
    path = directory / "run.silrec"
    with ProcessTarget(sil_sim_path, rate_hz=100, clock="step", log_dir=directory,
                       extra_args=["--record", str(path)]) as target:
        target.advance(ms=50)
        target.inject(SetPoint(setpoint_c=61.25))
        target.advance(ms=150)
        assert target.request(RevisionRequest(request_id=77), RevisionResponse, within=sil.ms(10)).request_id == 77
        target.stats()
        assert target.close() == 0
    return path


def test_a_running_sim_and_a_recording_give_the_same_dissector(sil_sim_path, recorded, dissector, tmp_path):
    """--sim asks GetCatalogue; --recording reads the header; both are the module's catalogue here."""
    with sil.SimProcess(sil_sim_path, ["--clock", "step"], log_dir=tmp_path) as sim:
        asked = subprocess.run([sys.executable, "-m", "sil.wireshark", "--sim", f"127.0.0.1:{sim.port}"],
                               capture_output=True, text=True, timeout=120)
    read = subprocess.run([sys.executable, "-m", "sil.wireshark", "--recording", str(recorded)],
                          capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0 and read.returncode == 0, asked.stderr + read.stderr

    def body(text: str) -> str:  # all but the first line, which says where the catalogue came from
        return text.split("\n", 1)[1]

    assert body(asked.stdout) == body(read.stdout) == body(dissector.read_text())


def test_bad_input_is_refused_with_a_message_and_writes_nothing(recorded, tmp_path):
    def run(*argv):
        return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=120)

    missing = run("-m", "sil.rec", "pcap", str(tmp_path / "nothing.silrec"), str(tmp_path / "out.pcapng"))
    assert missing.returncode == 2 and "nothing.silrec" in missing.stderr
    no_directory = run("-m", "sil.rec", "pcap", str(recorded), str(tmp_path / "no" / "out.pcapng"))
    assert no_directory.returncode == 2 and no_directory.stderr.startswith(f"sil-rec: error: {tmp_path}/no/out.pcapng: ")
    not_a_recording = tmp_path / "text.silrec"
    not_a_recording.write_text("hello")
    damaged = run("-m", "sil.rec", "pcap", str(not_a_recording), str(tmp_path / "out.pcapng"))
    assert damaged.returncode == 2 and damaged.stderr.startswith("sil-rec: error:")
    assert list(tmp_path.glob("out.pcapng*")) == []
    for argv, says in ((["--module", "no_such_module_here"], "no_such_module_here"),
                       (["--sim", "127.0.0.1:notaport"], "HOST:PORT"),
                       (["--recording", str(not_a_recording)], "text.silrec"),
                       (["--module", system_module().__name__, "--port", "70000"], "70000")):
        result = run("-m", "sil.wireshark", *argv)
        assert result.returncode == 2 and says in result.stderr and result.stdout == "", (argv, result.stderr)


def test_a_cut_recording_is_converted_up_to_its_last_record_with_a_warning(recorded, tmp_path):
    cut = tmp_path / "cut.silrec"
    data = recorded.read_bytes()
    cut.write_bytes(data[:len(data) * 2 // 3])
    capture = tmp_path / "cut.pcapng"
    result = subprocess.run([sys.executable, "-m", "sil.rec", "pcap", str(cut), str(capture)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "sil-rec: warning:" in result.stderr
    with sil.recording.open(recorded) as rec:
        whole = len(list(rec))
    with pytest.warns(sil.recording.IncompleteRecordingWarning):
        with sil.recording.open(cut) as rec:
            kept = len(list(rec))
    assert 0 < kept < whole
    assert capture.read_bytes().count(b"sim_time_ns=") == kept


def test_the_build_writes_the_same_dissector_beside_the_module(dissector):
    module = importlib.import_module(system_module().__name__)
    beside = Path(module.__file__).with_name(module.__name__.rpartition(".")[2] + ".lua")
    assert beside.read_text() == dissector.read_text()


def test_every_recorded_datagram_decodes_as_python_decodes_it(recorded, dissector, tmp_path):
    capture = tmp_path / "run.pcapng"
    result = subprocess.run([sys.executable, "-m", "sil.rec", "pcap", str(recorded), str(capture)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stderr
    with sil.recording.open(recorded) as rec:
        start = rec.header.start_unix_ns
        messages = list(rec)
        decoder = sil.catalogue.Decoder(rec.header.catalogue)
    packets = tshark(dissector, capture)
    assert len(packets) == len(messages)
    assert {m.direction for m in messages} == {"published", "injected", "control_request", "control_reply"}
    for m, layers in zip(messages, packets):
        to_sim = m.direction in ("injected", "control_request")
        ports = (pcap.HARNESS_ADDRESS[1], pcap.SIM_ADDRESS[1]) if to_sim else \
            (pcap.SIM_ADDRESS[1], pcap.HARNESS_ADDRESS[1])
        assert (int(layers["udp"]["udp.srcport"]), int(layers["udp"]["udp.dstport"])) == ports
        seconds, _, fraction = layers["frame"]["frame.time_epoch"].partition(".")
        assert int(seconds) * 10**9 + int(fraction.ljust(9, "0")) == start + m.wall_ns
        assert canonical(sil_layer(layers)) == canonical(expected_datagram(decoder, m.msg_id, m.payload)), m
    assert info_column(dissector, capture) == [expected_info(decoder, m.msg_id, m.payload) for m in messages]


def test_bundles_split_into_their_datagrams(recorded, dissector, tmp_path):
    """Each tick's datagrams, packed as docs/wire-format.md "Bundles" says."""
    with sil.recording.open(recorded) as rec:
        decoder = sil.catalogue.Decoder(rec.header.catalogue)
        ticks: dict[int, list] = {}
        for m in rec:
            if m.direction in ("published", "control_reply"):
                ticks.setdefault(m.sim_time_ns, []).append(struct.pack("<H", m.msg_id) + m.payload)
    capture = tmp_path / "bundles.pcapng"
    with open(capture, "wb") as out:
        writer = pcap.PcapngWriter(out)
        for number, items in enumerate(ticks.values()):
            bundle = b"\xf2\xff" + b"".join(struct.pack("<H", len(item)) + item for item in items)
            writer.write_udp(number, pcap.SIM_ADDRESS, pcap.HARNESS_ADDRESS, bundle)
    packets = tshark(dissector, capture)
    assert len(packets) == len(ticks) and any(len(items) > 1 for items in ticks.values())
    for items, layers in zip(ticks.values(), packets):
        layer = layers["sil"]
        assert (layer["sil.msg_id"], layer["sil.message"], layer["sil.bundle.items"]) == \
            ("65522", "Bundle", str(len(items)))
        inner = layer["sil"] if isinstance(layer["sil"], list) else [layer["sil"]]
        lengths = layer["sil.bundle.length"] if isinstance(layer["sil.bundle.length"], list) else \
            [layer["sil.bundle.length"]]
        assert lengths == [str(len(item)) for item in items]
        assert [canonical(tree) for tree in inner] == \
            [canonical(expected_datagram(decoder, struct.unpack_from("<H", item)[0], item[2:])) for item in items]


def test_damage_is_shown_as_damage(dissector, tmp_path):
    """Unknown ids, wrong sizes, cut bundles and unparseable control bodies,
    on a port given to the dissector with Decode As."""
    info = next(iter(Catalogue.local()))
    good = struct.pack("<H", info.id) + bytes(info.size)
    unknown_id = next(i for i in range(1, 0xFF00) if i not in Catalogue.local())
    cases = {
        "sil.unknown_id": struct.pack("<H", unknown_id) + b"abc",
        "sil.wrong_size": good + b"\0",
        "sil.too_short": b"\x01",
        "sil.malformed_bundle": b"\xf2\xff" + struct.pack("<H", len(good) + 1) + good,
        "sil.malformed_control": b"\xf1\xff\x0a\x05ab",
    }
    capture = tmp_path / "damage.pcapng"
    with open(capture, "wb") as out:
        writer = pcap.PcapngWriter(out)
        for number, datagram in enumerate(cases.values()):
            writer.write_udp(number, pcap.SIM_ADDRESS, pcap.HARNESS_ADDRESS, datagram)
    plain = tshark(dissector, capture)
    # Heuristically, none of these is claimed: they are not sil datagrams.
    assert [("sil" in layers) for layers in plain] == [False] * len(cases)
    packets = tshark(dissector, capture, "-d", f"udp.port=={pcap.SIM_ADDRESS[1]},sil")
    for expert, layers in zip(cases, packets):
        assert expert in layers["sil"]["_ws.expert"], (expert, layers["sil"])
    assert packets[0]["sil"]["sil.payload"] == "61:62:63"


def test_every_field_kind_is_shown_as_python_decodes_it(tmp_path):
    """A catalogue with one field of each kind, at the edges of their ranges."""
    fields, offset = [], 0
    for kind in KINDS:
        size = 12 if kind == "text" else _KIND_SIZE[kind]
        fields.append(FieldInfo(f"f_{kind}", kind, offset, size, size if kind == "text" else 1))
        offset += size
    info = MessageInfo(4321, "AllKinds", offset, tuple(fields))
    lua = tmp_path / "kinds.lua"
    lua.write_text(wireshark.generate(Catalogue([info]), source="test"))
    cls = message_class(info)
    values = [
        cls(f_u8=255, f_i8=-128, f_u16=65535, f_i16=-32768, f_u32=2**32 - 1, f_i32=-2**31, f_u64=2**64 - 1,
            f_i64=-2**63, f_f32=0.1, f_f64=0.1, f_text="hello"),
        cls.zero(f_i8=127, f_i16=32767, f_i32=2**31 - 1, f_i64=2**63 - 1, f_f32=3.4028234663852886e38, f_f64=1 / 3,
                 f_text="twelve bytes"),
        cls.zero(f_f32=-1.17549435e-38, f_f64=-2.5e-308, f_text="ü"),
        cls.zero(f_f32=float("inf"), f_f64=float("-inf")),
    ]
    capture = tmp_path / "kinds.pcapng"
    with open(capture, "wb") as out:
        writer = pcap.PcapngWriter(out)
        for number, value in enumerate(values):
            writer.write_udp(number, pcap.SIM_ADDRESS, pcap.HARNESS_ADDRESS, struct.pack("<H", 4321) + value.to_bytes())
    packets = tshark(lua, capture)
    assert [sil_layer(layers) for layers in packets] == [expected_message(info, value) for value in values]


def test_control_commands_and_results_decode(dissector, tmp_path):
    """Every command and result sil.control has, with its fields set."""
    until = pb.Until(msg_id=2101, field="temperature_c", equals=pb.FieldValue(float_value=-0.5), limit_ns=10)
    requests = [encode_request(1, hello=pb.Hello(catalogue_hash=0xDEADBEEF, bundle_bytes=65507)),
                encode_request(2, advance=pb.Advance(ticks=3, duration_ns=2**63, until=until)),
                encode_request(3, pause=pb.Pause()), encode_request(4, resume=pb.Resume()),
                encode_request(5, set_speed=pb.SetSpeed(speed=2.5)), encode_request(6, get_stats=pb.GetStats()),
                encode_request(7, get_catalogue=pb.GetCatalogue()),
                encode_request(8, advance=pb.Advance(until=pb.Until(equals=pb.FieldValue(int_value=-7)))),
                encode_request(9, advance=pb.Advance(until=pb.Until(equals=pb.FieldValue(text_value="on"))))]
    stats = pb.Stats(ticks=9, overruns=1, published=[pb.IdCount(msg_id=1, name="a", count=3),
                                                      pb.IdCount(msg_id=2, name="b", count=4)],
                     drops={"too_short": 2, "unknown_id": 1}, clock="step", speed=1.0, paused=True,
                     trace_digest=2**64 - 1)
    catalogue = pb.Catalogue(hash=5, messages=[pb.MessageType(id=2000, name="RevisionRequest", size=4, fields=[
        pb.Field(name="request_id", type="u32", offset=0, size=4, count=1)])])
    replies = [pb.Reply(sequence=1, ready=pb.Ready(version="1.2.3", git_revision="abc", catalogue_hash=7,
                                                   catalogue_matches=True, clock="step", rate_hz=100, speed=1.5,
                                                   paused=True, bundle_bytes=1472)),
               pb.Reply(sequence=2, sim_time_ns=10, tick=1, advanced=pb.Advanced(
                   ticks_run=3, matched=True, matched_payload=b"\x00\xff\x10", matched_at_ns=20)),
               pb.Reply(sequence=3, ack=pb.Ack()), pb.Reply(sequence=4, stats=stats),
               pb.Reply(sequence=5, catalogue=catalogue),
               pb.Reply(sequence=6, error=pb.Error(code=pb.Error.WRONG_CLOCK, message="not stepped"))]
    datagrams = requests + [b"\xf1\xff" + reply.SerializeToString() for reply in replies]
    capture = tmp_path / "control.pcapng"
    with open(capture, "wb") as out:
        writer = pcap.PcapngWriter(out)
        for number, datagram in enumerate(datagrams):
            writer.write_udp(number, pcap.HARNESS_ADDRESS, pcap.SIM_ADDRESS, datagram)
    decoder = sil.catalogue.Decoder()
    packets = tshark(dissector, capture)
    assert [canonical(sil_layer(layers)) for layers in packets] == \
        [canonical(expected_datagram(decoder, struct.unpack_from("<H", d)[0], d[2:])) for d in datagrams]
    assert "WRONG_CLOCK" in subprocess.run(
        ["tshark", "-X", f"lua_script:{dissector}", "-r", str(capture), "-O", "sil", "-Y", "frame.number==15"],
        capture_output=True, text=True, timeout=120).stdout

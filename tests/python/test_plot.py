"""sil-rec plot and sil.plot: subplots by unit, sample-and-hold, markers for
injected messages and control requests, the time range, PNG and SVG. The
figures are checked through matplotlib's own objects (axes, lines, tick
labels), not by their pixels."""

import subprocess
import sys

import pytest

import sil
import sil.plot
import sil.recording
from sil import HeaterCommand, Heartbeat, PlantTemperature, SetPoint
from sil import sil_control_pb2 as cpb

import recording_writer as writer

MS = 1_000_000
TEMPERATURE, PLANT_POWER = "PlantTemperature.temperature_c", "PlantTemperature.heater_power_w"
SETPOINT, COMMAND, SEQUENCE = "SetPoint.setpoint_c", "HeaterCommand.power_w", "Heartbeat.sequence"
FIELDS = [TEMPERATURE, PLANT_POWER, SETPOINT, COMMAND, SEQUENCE]


def control(t, sequence, direction, **command):
    if direction == writer.CONTROL_REQUEST:
        return (t, 0xFFF0, cpb.Request(sequence=sequence, **command).SerializeToString(), direction)
    return (t, 0xFFF1, cpb.Reply(sequence=sequence, sim_time_ns=t, **command).SerializeToString(), direction)


def messages():
    """10 s at 100 Hz: a temperature ramp under a 0/2000 W square wave (1 s
    on, 1 s off), a 1 Hz heartbeat, SetPoint injected twice (60 C at 0.5 s,
    45 C at 6 s), and control traffic: hello, advance and the queries
    get_stats, get_params and list_faults (never marked), set_speed at 2 s, pause at 3 s, and a set_speed at 4 s that is
    refused."""
    out = [control(0, 1, writer.CONTROL_REQUEST, hello=cpb.Hello(catalogue_hash=1)),
           control(0, 1, writer.CONTROL_REPLY, ready=cpb.Ready())]
    for tick in range(1000):
        t = tick * 10 * MS
        power = 2000.0 if (tick // 100) % 2 == 0 else 0.0
        if tick % 100 == 0:
            out.append((t, int(HeaterCommand.ID), HeaterCommand(power_w=power).to_bytes()))
            out.append((t, int(Heartbeat.ID), Heartbeat(sequence=tick // 100, tick=tick, sim_time_ns=t).to_bytes()))
        out.append((t, int(PlantTemperature.ID),
                    PlantTemperature(temperature_c=20 + tick * 0.04, heater_power_w=power).to_bytes()))
        if tick == 50:
            out.append((t, int(SetPoint.ID), SetPoint(setpoint_c=60.0).to_bytes(), writer.INJECTED))
        if tick == 600:
            out.append((t, int(SetPoint.ID), SetPoint(setpoint_c=45.0).to_bytes(), writer.INJECTED))
        if tick == 150:
            out += [control(t, 2, writer.CONTROL_REQUEST, advance=cpb.Advance(ticks=5)),
                    control(t, 2, writer.CONTROL_REPLY, advanced=cpb.Advanced(ticks_run=5)),
                    control(t, 3, writer.CONTROL_REQUEST, get_stats=cpb.GetStats()),
                    control(t, 3, writer.CONTROL_REQUEST, get_params=cpb.GetParams(names=["plant.ambient_c"])),
                    control(t, 3, writer.CONTROL_REQUEST, list_faults=cpb.ListFaults())]
        if tick == 200:
            out += [control(t, 4, writer.CONTROL_REQUEST, set_speed=cpb.SetSpeed(speed=2.0)),
                    control(t, 4, writer.CONTROL_REPLY, ack=cpb.Ack())]
        if tick == 300:
            out += [control(t, 5, writer.CONTROL_REQUEST, pause=cpb.Pause()),
                    control(t, 5, writer.CONTROL_REPLY, ack=cpb.Ack())]
        if tick == 400:
            out += [control(t, 6, writer.CONTROL_REQUEST, set_speed=cpb.SetSpeed(speed=-1.0)),
                    control(t, 6, writer.CONTROL_REPLY, error=cpb.Error(message="speed must be positive"))]
    return out


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "run.silrec"
    path.write_bytes(writer.recording(messages()))
    return path


def figure_of(path, fields=FIELDS, subplots=(), **range_):
    with sil.recording.open(path) as rec:
        data = sil.plot.collect(rec, fields, subplots, **range_)
    return data, sil.plot.draw(data, "test")


def series_lines(axes):
    """{Type.field: (xs, ys)} of the field lines of a subplot."""
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in axes.get_lines()}


def marker_times(axes, kind=None):
    """The times of the vertical marker lines of a subplot, of one kind or all."""
    times = []
    for collection in axes.collections:
        gid = collection.get_gid() or ""
        if gid.startswith("marker:") and kind in (None, gid.partition(":")[2]):
            times += [segment[0][0] for segment in collection.get_segments()]
    return sorted(times)


def top_tick_labels(figure):
    top = figure.axes[0]
    (secondary,) = [child for child in top.get_children() if type(child).__name__ == "SecondaryAxis"]
    return [(tick, label.get_text()) for tick, label in zip(secondary.get_xticks(), secondary.get_xticklabels())]


def test_fields_are_grouped_by_unit_suffix_and_unitless_fields_get_their_own_subplot(recording):
    _data, figure = figure_of(recording)
    axes = figure.axes[:3]
    assert len([a for a in figure.axes if a.get_ylabel()]) == 3
    assert [a.get_ylabel() for a in axes] == ["°C", "W", SEQUENCE]
    assert [sorted(series_lines(a)) for a in axes] == [sorted([TEMPERATURE, SETPOINT]), sorted([PLANT_POWER, COMMAND]),
                                                      [SEQUENCE]]
    assert [[t.get_text() for t in a.get_legend().get_texts()][:2] for a in axes[1:]] == [[PLANT_POWER, COMMAND],
                                                                                        [SEQUENCE]]
    assert axes[-1].get_xlabel() == "simulated time (s)"
    # The square wave has its own axis: the temperature's spans 20 .. 60 C, not 0 .. 2000.
    low, high = axes[0].get_ylim()
    assert 14 < low < 20 and 60 < high < 70


def test_a_sparse_message_holds_its_value_to_the_end_of_the_range(recording):
    _data, figure = figure_of(recording)
    xs, ys = series_lines(figure.axes[0])[SETPOINT]
    assert xs == [0.5, 6.0, 9.99] and ys == [60.0, 45.0, 45.0]
    assert series_lines(figure.axes[0])[SETPOINT][0][-1] == figure.axes[0].get_xlim()[1] == 9.99
    # Every line is drawn as steps: a value holds until the next sample.
    assert {line.get_drawstyle() for a in figure.axes[:3] for line in a.get_lines()} == {"steps-post"}


def test_the_time_range_is_simulated_time_and_values_set_before_it_hold_inside_it(recording):
    _data, figure = figure_of(recording, start=sil.s(2), end=sil.ms(5500))
    assert figure.axes[0].get_xlim() == (2.0, 5.5)
    lines = series_lines(figure.axes[0])
    # Set at 0.5 s, before the range: it holds from the range's start to its end.
    assert lines[SETPOINT] == ([2.0, 5.5], [60.0, 60.0])
    xs, ys = lines[TEMPERATURE]
    assert xs[0] == 2.0 and xs[-1] == 5.5 and min(xs) >= 2.0 and max(xs) <= 5.5
    assert ys[0] == pytest.approx(28.0) and ys[-1] == ys[-2] == pytest.approx(20 + 549 * 0.04)
    # Markers outside the range are left out: only set_speed (2 s), pause (3 s) and the refused set_speed (4 s).
    assert marker_times(figure.axes[0]) == [2.0, 3.0, 4.0]


def test_injected_messages_and_run_changing_control_requests_are_marked_and_labelled(recording):
    data, figure = figure_of(recording)
    expected = [(0.5, "SetPoint setpoint_c=60"), (2.0, "set_speed speed: 2.0"), (3.0, "pause"),
                (4.0, "set_speed speed: -1.0 (refused)"), (6.0, "SetPoint setpoint_c=45")]
    assert sorted((m.time_s, m.label) for m in data.markers) == expected
    assert [m.kind for m in sorted(data.markers, key=lambda m: m.time_s)] == \
        ["injected", "control", "control", "control", "injected"]
    # hello, advance and get_stats leave no mark; every subplot carries every marker.
    for axes in figure.axes[:3]:
        assert marker_times(axes, "injected") == [0.5, 6.0]
        assert marker_times(axes, "control") == [2.0, 3.0, 4.0]
    assert sorted(top_tick_labels(figure)) == expected
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend[-2:] == ["injected message", "control request"]


def test_many_markers_are_drawn_but_not_labelled(tmp_path):
    """40 injected set points, the last with a payload that does not fit the
    catalogue: every one is a marker, none has a label, and the undecodable one
    adds no point to the line."""
    out = [(t * 100 * MS, int(SetPoint.ID), SetPoint(setpoint_c=float(t)).to_bytes(), writer.INJECTED)
           for t in range(39)]
    out.append((39 * 100 * MS, int(SetPoint.ID), b"\x01\x02", writer.INJECTED))
    path = tmp_path / "many.silrec"
    path.write_bytes(writer.recording(out))
    data, figure = figure_of(path, fields=[SETPOINT])
    assert marker_times(figure.axes[0], "injected") == [t / 10 for t in range(40)]
    assert data.markers[-1].label == "SetPoint"
    assert not [child for child in figure.axes[0].get_children() if type(child).__name__ == "SecondaryAxis"]
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == [SETPOINT, "injected message (40, too many to label)"]
    xs, ys = series_lines(figure.axes[0])[SETPOINT]
    assert xs[-2:] == [3.8, 3.9] and ys[-2:] == [38.0, 38.0]


def test_explicit_subplots_come_first_and_the_other_fields_are_grouped_by_unit(recording):
    _data, figure = figure_of(recording, fields=[SETPOINT, COMMAND],
                              subplots=[[TEMPERATURE, PLANT_POWER], [SEQUENCE]])
    axes = [a for a in figure.axes if a.get_ylabel()]
    assert [a.get_ylabel() for a in axes] == ["°C, W", SEQUENCE, "°C", "W"]
    assert [sorted(series_lines(a)) for a in axes] == [sorted([TEMPERATURE, PLANT_POWER]), [SEQUENCE], [SETPOINT],
                                                      [COMMAND]]


def test_a_recording_cut_short_says_so_in_the_title(recording, tmp_path):
    data = recording.read_bytes()
    cut = tmp_path / "cut.silrec"
    cut.write_bytes(data[:len(data) - 30])
    with pytest.warns(sil.recording.IncompleteRecordingWarning):
        _data, figure = figure_of(cut, fields=[SETPOINT])
    assert [text.get_text() for text in figure.texts] == ["test (recording cut short: no footer)"]


@pytest.mark.parametrize("name, unit", [("temperature_c", "°C"), ("heater_power_w", "W"), ("raised_at_ns", "ns"),
                                        ("speed_RPM", "rpm"), ("sequence", None), ("active", None),
                                        ("supply_x", None)])
def test_unit_suffixes(name, unit):
    assert sil.plot.unit_of(name) == unit


def sil_rec(*args):
    return subprocess.run([sys.executable, "-m", "sil.rec", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("name, magic", [("plot.svg", b"<?xml"), ("plot.PNG", b"\x89PNG\r\n\x1a\n")])
def test_the_cli_writes_svg_or_png_by_extension(recording, tmp_path, name, magic):
    out = tmp_path / name
    result = sil_rec("plot", recording, TEMPERATURE, PLANT_POWER, "--subplot", f"{SETPOINT},{COMMAND}",
                     "--from", "1s", "--to", "8s", "--title", "heat-up", "-o", out)
    assert result.returncode == 0, result.stderr
    content = out.read_bytes()
    assert content.startswith(magic)
    if name.endswith(".svg"):
        text = content.decode()
        assert "<svg" in text and "heat-up" in text and "set_speed speed: 2.0" in text


@pytest.mark.parametrize("args, message", [
    (["{recording}", SETPOINT, "-o", "{tmp}/out.jpg"], "the output format comes from the extension: .png or .svg"),
    (["{recording}", SETPOINT, "-o", "{tmp}/out"], "the output format comes from the extension"),
    (["{recording}", "-o", "{tmp}/out.png"], "name the fields to plot"),
    (["{recording}", "--subplot", f"{SETPOINT},,", "-o", "{tmp}/out.png"],
     "a subplot is Type.field names separated by commas"),
    (["{recording}", "--subplot", "SetPoint.nope", "-o", "{tmp}/out.png"], "SetPoint has no field 'nope'"),
    (["{recording}", SETPOINT, "--from", "3s", "--to", "2s", "-o", "{tmp}/out.png"],
     "the time range is empty: from 3 s to 2 s"),
    (["{recording}", SETPOINT, "--from", "20s", "-o", "{tmp}/out.png"],
     "the recording ends at 9.99 s, not after 20 s"),
    (["{recording}", SETPOINT, "--to", "200ms", "-o", "{tmp}/out.png"], "nothing to plot for SetPoint.setpoint_c"),
    (["{recording}", SETPOINT, "--from", "2", "-o", "{tmp}/out.png"], "is not a simulated time with a unit"),
])
def test_bad_arguments_are_one_clear_line_and_exit_status_2(recording, tmp_path, args, message):
    result = sil_rec("plot", *[arg.format(recording=recording, tmp=tmp_path) for arg in args])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("out*")), "nothing is written when the plot cannot be made"

"""What a failing test's report shows about the sim, the same on every
target (inproc, process, udp://), from what the target itself saw: the
messages it received and what the test did (Target.journal: injections,
parameter changes, faults).

    window    the last few seconds of simulated time before the failure:
              every injection, parameter change and fault in it, and each
              message the sim published when it differs from the one of
              its type before (a periodic message that did not change is
              counted, not repeated)
    last      the last value of every message type (published or injected),
              decoded by name
    the test  every injection, parameter change and fault of the whole test
    files     sil-history.txt: every message of the test, decoded, with what
              the test did in between; sil-window.png: the numeric fields
              over the window, one subplot per unit, the test's actions
              marked (not sil's own Heartbeat and Revision messages;
              written only when matplotlib is importable)

The pytest plugin calls write() for a failing test; docs/scenarios.md
"When a scenario fails" shows a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import warnings

from sil import plot as sil_plot
from sil.rec import describe_value, format_seconds
from sil.recording import Recording, RecordingError
from sil.simtime import NS_PER_S, format_ns

HISTORY_FILE = "sil-history.txt"
PLOT_FILE = "sil-window.png"
MAX_PLOTTED_SERIES = 12
# sil's own messages (ipc/messages.hpp) carry counters and identifiers, not
# signals: the plot leaves them out. By name, as every system's catalogue
# has them; test_artefacts checks the list against sil._core's (not imported
# here: sil._core and a system's module in one process break protobuf's
# registry for the recording reader).
FRAMEWORK_MESSAGES = frozenset({"Heartbeat", "RevisionRequest", "RevisionResponse"})
_MARKER_KINDS = {"injected": "injected", "injected_raw": "injected", "param": "control", "fault": "control"}


@dataclass(frozen=True)
class _Line:
    """One row of the timeline: a publication or something the test did."""
    time_ns: int
    exact: bool
    kind: str  # "published" or a JournalEntry kind
    name: str
    text: str
    msg_id: Optional[int] = None
    value: object = None


def write(target, directory: Path, window_ns: int, max_lines: int, recording: Optional[Path] = None) -> str:
    """The report's text; writes its files into directory. With the sim's
    complete recording (a stopped process target's), the sim's publications
    come from it, at their exact times: over a socket, a message published
    during a long advance() is only known to lie within it."""
    directory.mkdir(parents=True, exist_ok=True)
    notes = []
    end_ns = target.now_ns
    start_ns = max(0, end_ns - window_ns)
    published = None
    if recording is not None:
        try:
            published = _recorded(target, recording)
        except (RecordingError, OSError) as error:
            notes.append(f"(the recording could not be read, so times come from the harness: {error})")
    if published is None:
        try:
            target._sync(None)  # the messages published up to the failure
        except Exception as error:  # noqa: BLE001 - a hung or vanished sim: report what the target has
            notes.append(f"(could not bring the history up to date: {error})")
        published = _received(target)
    timeline = _timeline(target, published)

    history = directory / HISTORY_FILE
    with history.open("w", encoding="utf-8") as out:
        for line in timeline:
            out.write(_format(line) + "\n")
    lines = [f"target:  {target!r}, failed at {format_ns(end_ns)} of simulated time",
             f"history: {history} (every message of the test, decoded)"]
    plotted = _plot(timeline, start_ns, end_ns, directory / PLOT_FILE, notes)
    if plotted is not None:
        lines.append(f"plot:    {plotted} (the window below)")
    lines += notes

    actions = [line for line in timeline if line.kind != "published"]
    lines.append(f"what the test did ({len(actions)}):" if actions else "what the test did: nothing to the sim")
    lines += _capped([f"  {_format(line)}" for line in actions], max_lines)

    lines.append(f"the last {format_ns(end_ns - start_ns)} ({format_seconds(start_ns)} s to "
                 f"{format_seconds(end_ns)} s), a message shown when it differs from the one of its type before:")
    lines += _capped(_window(timeline, start_ns), max_lines)

    last = _last_values(timeline)
    lines.append(f"last value of each message type ({len(last)}):" if last else "no message was published")
    lines += [f"  {_format(line)}" for line in last]
    return "\n".join(lines)


def _received(target) -> list[_Line]:
    """What the sim published, as the target received it."""
    rows = []
    for entry in target._log:
        if entry.injected:
            continue  # the journal has it, at the time the test sent it
        exact = entry.sim_time_ns is not None
        time_ns = entry.sim_time_ns if exact else (entry.latest_ns if entry.latest_ns is not None
                                                    else entry.earliest_ns or 0)
        rows.append(_message_line(target, time_ns, exact, "published", entry.msg_id, entry.payload))
    return rows


def _recorded(target, path: Path) -> list[_Line]:
    """What the sim published, from its recording. A damaged recording raises
    RecordingError; one cut short gives what it has (a warning, not shown)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Recording(path) as rec:
            return [_message_line(target, m.sim_time_ns, True, "published", m.msg_id, m.payload)
                    for m in rec.messages(directions="published")]


def _timeline(target, published: list[_Line]) -> list[_Line]:
    rows = list(published)
    for event in target.journal:
        if event.kind == "injected":
            rows.append(_message_line(target, event.time_ns, True, "injected", event.msg_id, event.payload))
        else:
            rows.append(_Line(event.time_ns, True, event.kind, "", event.text))
    # Stable: at equal times the sim's publications come first, as the
    # test acts at the tick boundary after them.
    rows.sort(key=lambda line: line.time_ns)
    return rows


def _message_line(target, time_ns: int, exact: bool, kind: str, msg_id: int, payload: bytes) -> _Line:
    info = target.types.info(msg_id)
    name = info.name if info is not None else f"MsgId {msg_id}"
    try:
        value = target.types.decode(msg_id, payload)
        text = describe_value(value)
    except Exception:  # noqa: BLE001 - a payload that does not fit the catalogue is shown, not raised
        value, text = None, f"payload={payload.hex()} ({len(payload)} bytes; does not fit the catalogue)"
    return _Line(time_ns, exact, kind, name, text, msg_id, value)


def _format(line: _Line) -> str:
    when = f"{format_seconds(line.time_ns)} s" if line.exact else f"<={format_seconds(line.time_ns)} s"
    label = {"published": "published", "injected": "injected", "injected_raw": "injected",
             "param": "parameter", "fault": "fault"}[line.kind]
    return f"{when:>18}  {label:<10}  {line.name:<20}  {line.text}".rstrip()


def _window(timeline: list[_Line], start_ns: int) -> list[str]:
    shown, previous, repeats = [], {}, {}
    for line in timeline:
        if line.kind != "published":
            if line.time_ns >= start_ns:
                shown.append(f"  {_format(line)}")
            continue
        changed = previous.get(line.msg_id) != line.text
        previous[line.msg_id] = line.text
        if line.time_ns < start_ns:
            continue
        if changed:
            shown.append(f"  {_format(line)}")
        else:
            repeats[line.name] = repeats.get(line.name, 0) + 1
    if repeats:
        shown.append("  unchanged and not shown: " + ", ".join(f"{name} x{n}" for name, n in sorted(repeats.items())))
    return shown or ["  (nothing)"]


def _capped(lines: list[str], max_lines: int) -> list[str]:
    """The last max_lines of lines (what came just before the failure)."""
    if len(lines) <= max_lines:
        return lines
    return [f"  ({len(lines) - max_lines} earlier lines left out; see the history file)", *lines[-max_lines:]]


def _last_values(timeline: list[_Line]) -> list[_Line]:
    last: dict[int, _Line] = {}
    for line in timeline:
        if line.kind in ("published", "injected"):
            last[line.msg_id] = line
    return sorted(last.values(), key=lambda line: line.name)


def _plot(timeline: list[_Line], start_ns: int, end_ns: int, path: Path, notes: list) -> Optional[Path]:
    """The window's plot as a file; None (and a note) when there is nothing
    to plot or no matplotlib."""
    data = plot_data(timeline, start_ns, end_ns)
    if data is None:
        return None
    try:
        sil_plot.save(sil_plot.draw(data, title="the window before the failure"), path)
    except sil_plot.PlotError as error:  # no matplotlib
        notes.append(f"(no plot: {error})")
        return None
    return path


def plot_data(timeline: list[_Line], start_ns: int, end_ns: int) -> Optional[sil_plot.PlotData]:
    """The numeric fields of every message type published or injected up to
    the failure, over the window, held between samples, one subplot per unit;
    the test's actions as markers. None when there is nothing to plot."""
    if end_ns <= start_ns:
        return None
    specs: dict[str, tuple[list[int], list[float]]] = {}
    held: dict[str, float] = {}
    for line in timeline:
        # Every type seen up to the end, not only in the window: a sparse
        # message sent before it (a set point) holds its value across it.
        if line.value is None or line.kind not in ("published", "injected") or line.name in FRAMEWORK_MESSAGES:
            continue
        for name, *_ in line.value.fields():
            number = getattr(line.value, name)
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                continue
            spec = f"{line.name}.{name}"
            if line.time_ns < start_ns:
                held[spec] = float(number)
            else:
                times, values = specs.setdefault(spec, ([], []))
                times.append(line.time_ns)
                values.append(float(number))
    names = list(dict.fromkeys([*specs, *held]))[:MAX_PLOTTED_SERIES]
    if not names:
        return None
    series = {spec: sil_plot.held_series(spec, held.get(spec), *specs.get(spec, ([], [])), start_ns, end_ns)
              for spec in names}
    markers = tuple(sil_plot.Marker(line.time_ns / NS_PER_S, _MARKER_KINDS[line.kind], line.name or line.text[:40])
                    for line in timeline if line.kind != "published" and start_ns <= line.time_ns <= end_ns)
    panels = tuple(sil_plot.Panel(sil_plot.ylabel(g), tuple(series[spec] for spec in g))
                   for g in sil_plot.group(names))
    return sil_plot.PlotData(panels=panels, markers=markers, start_s=start_ns / NS_PER_S, end_s=end_ns / NS_PER_S,
                             complete=True)

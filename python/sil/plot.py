"""Plots of a recording over simulated time (``sil-rec plot``).

``collect`` reads a recording into a ``PlotData`` (plain data: the held step
series, their subplots, the markers); ``draw`` turns that into a matplotlib
``Figure``; ``save`` writes it as PNG or SVG. The rules (which fields share a
subplot, how a sparse message holds its value, what gets a marker) are in
docs/recording.md "Plots".

Matplotlib is used through ``matplotlib.figure.Figure`` only, never pyplot:
no global figure registry, no backend switch, nothing shown on a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from google.protobuf import text_format

from sil import simtime
from sil.recording import Recording

# The unit suffixes a field name may end in (`temperature_c`, `power_w`,
# `raised_at_ns`), and the axis label each gets. Fields with the same suffix
# share a subplot; a field with none of these has a subplot of its own.
UNITS = {
    "c": "°C", "k": "K", "w": "W", "kw": "kW", "j": "J", "v": "V", "mv": "mV", "a": "A", "ma": "mA",
    "hz": "Hz", "rpm": "rpm", "pa": "Pa", "kpa": "kPa", "bar": "bar", "n": "N", "nm": "N·m",
    "m": "m", "mm": "mm", "mps": "m/s", "deg": "°", "rad": "rad", "pct": "%",
    "s": "s", "ms": "ms", "us": "µs", "ns": "ns",
}
FORMATS = ("png", "svg")
# Control requests that only ask or step the clock: they change nothing a plot
# shows, so they get no marker. Every other command (set_speed, pause, and
# whatever the control plane adds) is marked by its name.
UNMARKED_COMMANDS = frozenset({"hello", "get_stats", "get_catalogue", "get_params", "list_faults", "advance"})
MAX_LABELLED_MARKERS = 30
_LABEL_CHARS = 40
_SUFFIX = re.compile(r"_([A-Za-z]+)$")


class PlotError(ValueError):
    """A plot that cannot be made as asked (an unknown field, nothing in the
    range, an unsupported output format)."""


@dataclass(frozen=True)
class Series:
    """One field as a step line: ``values[i]`` holds from ``times_s[i]`` to
    ``times_s[i + 1]``; the last point repeats the held value at the end of the
    range."""
    spec: str  # Type.field
    times_s: tuple[float, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Panel:
    """One subplot: its y-axis label and its series."""
    ylabel: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Marker:
    """An event drawn as a vertical line: an injected message (``kind``
    "injected") or a control request that changes the run ("control")."""
    time_s: float
    kind: str
    label: str


@dataclass(frozen=True)
class PlotData:
    panels: tuple[Panel, ...]
    markers: tuple[Marker, ...]
    start_s: float
    end_s: float
    complete: bool  # False: the recording has no footer (cut short)


def unit_of(field_name: str) -> Optional[str]:
    """The axis label of a field's unit suffix ('temperature_c' -> '°C'), or
    None when its name ends in no known unit."""
    match = _SUFFIX.search(field_name)
    return UNITS.get(match.group(1).lower()) if match else None


def output_format(path: Union[str, Path]) -> str:
    """'png' or 'svg', from the output file's extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise PlotError(f"{path}: the output format comes from the extension: .png or .svg")
    return suffix


def group(fields: Sequence[str], subplots: Sequence[Sequence[str]] = ()) -> list[list[str]]:
    """Which fields share a subplot: each of ``subplots`` as given, then every
    other field of ``fields`` with the fields of the same unit suffix (in the
    order the units first appear), a field without a known unit alone."""
    groups = [list(dict.fromkeys(s)) for s in subplots]
    placed = {spec for s in groups for spec in s}
    by_unit: dict[str, list[str]] = {}
    for spec in dict.fromkeys(fields):
        if spec in placed:
            continue
        unit = unit_of(spec.partition(".")[2])
        if unit is None:
            groups.append([spec])
        elif unit in by_unit:
            by_unit[unit].append(spec)
        else:
            by_unit[unit] = [spec]
            groups.append(by_unit[unit])
    return groups


def collect(rec: Recording, fields: Sequence[str] = (), subplots: Sequence[Sequence[str]] = (), *,
            start=None, end=None) -> PlotData:
    """The plot of ``fields`` (and of the fields of ``subplots``, each a list of
    Type.field forming one subplot) between ``start`` and ``end`` (SimTime or
    timedelta; the recording's first and last record by default)."""
    groups = group(fields, subplots)
    if not groups:
        raise PlotError("name the fields to plot (Type.field), or a --subplot")
    specs = list(dict.fromkeys(spec for g in groups for spec in g))
    wanted = _resolve(rec, specs)
    start_ns = None if start is None else simtime.to_sim_time(start, "start").ns
    end_ns = None if end is None else simtime.to_sim_time(end, "end").ns
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        raise PlotError(f"the time range is empty: from {simtime.format_ns(start_ns)} "
                        f"to {simtime.format_ns(end_ns)}")

    held: dict[str, Optional[float]] = {spec: None for spec in specs}  # the value at start_ns
    points: dict[str, tuple[list[int], list[float]]] = {spec: ([], []) for spec in specs}
    markers = _Markers(rec)
    first_ns = last_ns = None
    # Every record once, from the beginning: a sparse message sent before the
    # range still holds its value inside it.
    for m in rec.messages(end=None if end_ns is None else simtime.SimTime(end_ns)):
        t = m.sim_time_ns
        first_ns = t if first_ns is None else min(first_ns, t)
        last_ns = t if last_ns is None else max(last_ns, t)
        before = start_ns is not None and t < start_ns
        # A payload that does not fit the catalogue (value None) has nothing to plot; dump shows it as hex.
        value = m.value if m.msg_id in wanted and m.direction in ("published", "injected") else None
        if value is not None:
            for spec, name in wanted[m.msg_id]:
                if before:
                    held[spec] = float(getattr(value, name))
                else:
                    times, values = points[spec]
                    times.append(t)
                    values.append(float(getattr(value, name)))
        if not before:
            markers.see(m)

    if first_ns is None:
        raise PlotError("nothing to plot: the recording has no messages" +
                        (" before that time" if end_ns is not None else ""))
    range_start = start_ns if start_ns is not None else first_ns
    range_end = end_ns if end_ns is not None else max(last_ns, _footer_end(rec))
    if range_end <= range_start:
        raise PlotError(f"nothing to plot: the recording ends at {simtime.format_ns(range_end)}"
                        + (f", not after {simtime.format_ns(range_start)}" if start_ns is not None else ""))
    empty = [spec for spec in specs if not points[spec][0] and held[spec] is None]
    if empty:
        raise PlotError(f"nothing to plot for {', '.join(empty)}: no such messages in the recording"
                        + (" up to that time" if end_ns is not None else ""))

    series = {spec: held_series(spec, held[spec], *points[spec], range_start, range_end) for spec in specs}
    panels = tuple(Panel(ylabel(g), tuple(series[spec] for spec in g)) for g in groups)
    return PlotData(panels=panels, markers=tuple(markers.found),
                    start_s=_seconds(range_start), end_s=_seconds(range_end), complete=rec.footer is not None)


def draw(data: PlotData, title: str = ""):
    """A matplotlib Figure of ``data``: one subplot per panel on a shared
    simulated-time axis, markers across all of them, labelled on the top one."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise PlotError(f"plotting needs matplotlib (Debian: apt-get install python3-matplotlib): {error}") from None
    rows = len(data.panels)
    figure = Figure(figsize=(11, 1.5 + 2.2 * rows), layout="constrained")
    axes_list = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    index = 0
    for axes, panel in zip(axes_list, data.panels):
        for series in panel.series:
            axes.plot(series.times_s, series.values, drawstyle="steps-post", label=series.spec,
                      color=_COLOURS[index % len(_COLOURS)], linewidth=1.4)
            index += 1
        axes.set_ylabel(panel.ylabel)
        axes.grid(True, alpha=0.3)
        axes.margins(y=0.12)
    axes_list[-1].set_xlabel("simulated time (s)")
    axes_list[-1].set_xlim(data.start_s, data.end_s)
    proxies = _draw_markers(axes_list, data.markers)
    for row, axes in enumerate(axes_list):
        handles, labels = axes.get_legend_handles_labels()
        if row == 0:
            handles, labels = handles + [h for h, _ in proxies], labels + [name for _, name in proxies]
        # Beside the subplot, not on it: a legend never hides a line.
        axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                    fontsize="small")
    note = "" if data.complete else " (recording cut short: no footer)"
    if title or note:
        figure.suptitle(f"{title}{note}")
    return figure


def save(figure, path: Union[str, Path]) -> None:
    """Writes ``figure`` as PNG or SVG, by the extension of ``path``."""
    figure.savefig(path, format=output_format(path), dpi=100)


def plot(rec: Recording, output: Union[str, Path], fields: Sequence[str] = (),
         subplots: Sequence[Sequence[str]] = (), *, start=None, end=None, title: Optional[str] = None) -> PlotData:
    """collect, draw and save in one call (what ``sil-rec plot`` does);
    returns the data plotted."""
    output_format(output)  # before any reading
    data = collect(rec, fields, subplots, start=start, end=end)
    save(draw(data, rec.path.name if title is None else title), output)
    return data


# -- reading ----------------------------------------------------------------------


def _resolve(rec: Recording, specs: Iterable[str]) -> dict[int, list[tuple[str, str]]]:
    """MsgId -> [(Type.field, field name)], checked against the recording's catalogue."""
    wanted: dict[int, list[tuple[str, str]]] = {}
    catalogue = rec.header.catalogue
    for spec in specs:
        type_name, dot, field_name = spec.partition(".")
        info = catalogue.get(type_name) if dot else None
        if info is None:
            raise PlotError(f"{spec!r}: name a field as Type.field, with a Type of the recording "
                            f"({', '.join(i.name for i in catalogue)})")
        field = info.field(field_name)
        if field is None:
            raise PlotError(f"{spec!r}: {type_name} has no field {field_name!r} (fields: {info.field_names()})")
        if field.is_text:
            raise PlotError(f"{spec!r} is a text field; only numbers can be plotted")
        wanted.setdefault(info.id, []).append((spec, field.name))
    return wanted


def held_series(spec: str, held: Optional[float], times: list[int], values: list[float], start_ns: int,
                 end_ns: int) -> Series:
    """Sample-and-hold: the value in effect at the start of the range (the last
    sample before it) opens the line, and the last value runs to the end."""
    if held is not None and (not times or times[0] > start_ns):
        times, values = [start_ns, *times], [held, *values]
    if times and times[-1] < end_ns:
        times, values = [*times, end_ns], [*values, values[-1]]
    return Series(spec, tuple(_seconds(t) for t in times), tuple(values))


class _Markers:
    """The markers of the records it is shown: injected messages, and control
    requests other than UNMARKED_COMMANDS, relabelled '(refused)' when their
    reply is an error."""

    def __init__(self, rec: Recording) -> None:
        self._rec = rec
        self.found: list[Marker] = []
        self._unanswered: dict[int, int] = {}  # request sequence -> index in found

    def see(self, m) -> None:
        if m.direction == "injected":
            self.found.append(Marker(_seconds(m.sim_time_ns), "injected", _message_label(self._rec, m)))
        elif m.direction == "control_request":
            request = m.value
            command = request.WhichOneof("command") if request is not None else None
            if command is not None and command not in UNMARKED_COMMANDS:
                self._unanswered[request.sequence] = len(self.found)
                self.found.append(Marker(_seconds(m.sim_time_ns), "control", _command_label(request, command)))
        elif m.direction == "control_reply":
            reply = m.value
            index = self._unanswered.pop(reply.sequence, None) if reply is not None else None
            if index is not None and reply.WhichOneof("result") == "error":
                marker = self.found[index]
                self.found[index] = Marker(marker.time_s, marker.kind, f"{marker.label} (refused)")


def _footer_end(rec: Recording) -> int:
    footer = rec.footer
    return footer.end_sim_time_ns if footer is not None else 0


def ylabel(specs: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(unit_of(spec.partition(".")[2]) or spec for spec in specs))


def _seconds(ns: int) -> float:
    return ns / simtime.NS_PER_S


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[:_LABEL_CHARS - 1] + "…"


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _message_label(rec: Recording, m) -> str:
    """'SetPoint setpoint_c=70': an injected message's name and fields."""
    value = m.value
    info = rec.header.catalogue.get(m.msg_id)
    if value is None or info is None:
        return m.name
    fields = " ".join(f"{f.name}={_number(getattr(value, f.name))}" for f in info.fields)
    return _short(f"{m.name} {fields}".rstrip())


def _command_label(request, command: str) -> str:
    """'set_speed speed: 2': a control command's name and arguments."""
    arguments = text_format.MessageToString(getattr(request, command), as_one_line=True)
    return _short(f"{command} {arguments}".rstrip())


# -- drawing ----------------------------------------------------------------------

_MARKER_STYLE = {"injected": {"color": "tab:purple", "linestyle": "--"},
                 "control": {"color": "tab:gray", "linestyle": ":"}}
_MARKER_LEGEND = {"injected": "injected message", "control": "control request"}


# Line colours: the default cycle without the marker colours, so a line never looks like a marker.
_COLOURS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:brown", "tab:cyan", "tab:olive", "tab:pink")


def _draw_markers(axes_list, markers: Sequence[Marker]) -> list:
    """Draws the markers; returns (legend handle, legend text) per kind of marker."""
    if not markers:
        return []
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    kinds = dict.fromkeys(m.kind for m in markers)
    for axes in axes_list:
        for kind in kinds:
            # One collection per kind, top to bottom of the subplot: cheap for thousands of markers.
            # Not autoscaled: y is in axes coordinates and must not stretch the data's range.
            style = _MARKER_STYLE[kind]
            lines = LineCollection([[(m.time_s, 0), (m.time_s, 1)] for m in markers if m.kind == kind],
                                   transform=axes.get_xaxis_transform(), colors=style["color"],
                                   linestyles=style["linestyle"], linewidths=1.0, alpha=0.8, gid=f"marker:{kind}")
            axes.add_collection(lines, autolim=False)
    labelled = len(markers) <= MAX_LABELLED_MARKERS
    if labelled:
        # A tick on a top axis per marker, labelled with what happened.
        ticks = axes_list[0].secondary_xaxis("top")
        ticks.set_xticks([m.time_s for m in markers], labels=[m.label for m in markers], rotation=30,
                         ha="left", fontsize="small")
        for label, marker in zip(ticks.get_xticklabels(), markers):
            label.set_color(_MARKER_STYLE[marker.kind]["color"])
    caption = "" if labelled else f" ({len(markers)}, too many to label)"
    return [(Line2D([], [], linewidth=1.0, **_MARKER_STYLE[k]), _MARKER_LEGEND[k] + caption) for k in kinds]

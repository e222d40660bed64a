"""sil-rec: look at a sil recording (``sil-sim --record PATH``).

    sil-rec info FILE [--json]            build, clock, duration, counts, rates and gaps per message type
    sil-rec dump FILE [filters] [--limit N]
                                          one line per message, decoded by name
    sil-rec csv FILE [filters] [-o OUT]   one row per message, one column per field (Type.field)
    sil-rec plot FILE [Type.field...] [--subplot A.x,B.y]... -o OUT.png|OUT.svg [--from T] [--to T] [--title TEXT]
                                          the fields over simulated time, a subplot per unit, markers for
                                          injected messages and control requests (sil.plot)
    sil-rec pcap FILE OUT.pcapng          every datagram as UDP on loopback, for Wireshark (docs/wireshark.md)
    sil-rec recover FILE OUT [--json]     every intact record of a damaged recording, into a new one (sil.recover)

filters: --type NAME|MSGID (repeatable), --start T, --end T (simulated time with a unit: 1.5s, 250ms,
20us, 100ns; start inclusive, end exclusive), --direction published|injected|control_request|control_reply
(repeatable).

Runs as ``/usr/bin/python3 -m sil.rec`` or as <build>/bin/sil-rec. Exit status 0, or 2 with a one-line
message for a bad command line, a file that cannot be read (a corrupt recording among them) or an unknown
type or field. A recording cut short (no footer) is read up to its last complete record, with a warning on
stderr.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
import warnings
from fractions import Fraction
from typing import Optional, Sequence

from google.protobuf import text_format

from sil import pcap, plot, recover, simtime
from sil.recording import DIRECTIONS, Recording, RecordingError

PROG = "sil-rec"
_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|ms|us|ns)\s*$")
_SCALE = {"s": simtime.NS_PER_S, "ms": simtime.NS_PER_MS, "us": simtime.NS_PER_US, "ns": 1}


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit 2."""


def parse_time(text: str) -> simtime.SimTime:
    """'1.5s', '250ms', '20us', '100ns' -> SimTime (exact)."""
    match = _TIME.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a simulated time with a unit (e.g. 1.5s, 250ms, 20us, "
                                         f"100ns)")
    value = Fraction(match.group(1)) * _SCALE[match.group(2)]
    if value.denominator != 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of nanoseconds")
    return simtime.SimTime(int(value))


def _type_spec(text: str):
    return int(text) if text.isdigit() else text


def format_seconds(ns: int) -> str:
    """Simulated time as seconds with nanosecond digits, for aligned columns."""
    sign = "-" if ns < 0 else ""
    whole, rest = divmod(abs(ns), simtime.NS_PER_S)
    return f"{sign}{whole}.{rest:09d}"


# -- info ----------------------------------------------------------------------


def summarize(rec: Recording) -> dict:
    """What `info` prints, as data (`info --json`)."""
    per_id: dict[int, dict] = {}
    first_ns = last_ns = None
    total = 0
    first_wall = last_wall = None
    for m in rec.messages():
        total += 1
        t, wall = m.sim_time_ns, m.wall_ns
        if first_ns is None:
            first_ns = last_ns = t
            first_wall = last_wall = wall
        first_ns, last_ns = min(first_ns, t), max(last_ns, t)
        first_wall, last_wall = min(first_wall, wall), max(last_wall, wall)
        entry = per_id.get(m.msg_id)
        if entry is None:
            entry = per_id[m.msg_id] = {"msg_id": m.msg_id, "name": m.name, "count": 0, "directions": {},
                                        "first_ns": t, "last_ns": t, "max_gap_ns": 0, "max_gap_at_ns": None}
        entry["count"] += 1
        entry["directions"][m.direction] = entry["directions"].get(m.direction, 0) + 1
        gap = t - entry["last_ns"]
        if gap > entry["max_gap_ns"]:
            entry["max_gap_ns"], entry["max_gap_at_ns"] = gap, entry["last_ns"]
        entry["last_ns"] = t
    duration_ns = (last_ns - first_ns) if total else 0
    types = []
    for entry in sorted(per_id.values(), key=lambda e: e["msg_id"]):
        span = entry["last_ns"] - entry["first_ns"]
        # Messages per simulated second between the first and the last of the type.
        entry["rate_hz"] = (entry["count"] - 1) * simtime.NS_PER_S / span if span > 0 else None
        types.append(entry)
    footer = rec.footer
    header = rec.header
    return {
        "path": str(rec.path),
        "bytes": os.path.getsize(rec.path),
        "version": header.version,
        "git_revision": header.git_revision,
        "clock": header.clock,
        "rate_hz": header.rate_hz,
        "start_unix_ns": header.start_unix_ns,
        "catalogue_hash": header.catalogue.hash,
        "complete": footer is not None,
        "dropped": footer.dropped if footer is not None else None,
        "messages": total,
        "first_ns": first_ns,
        "last_ns": last_ns,
        "duration_ns": duration_ns,
        "wall_duration_ns": (last_wall - first_wall) if total else 0,
        "types": types,
    }


def print_info(summary: dict, out) -> None:
    started = datetime.datetime.fromtimestamp(summary["start_unix_ns"] / 1e9, datetime.timezone.utc)
    print(f"file       {summary['path']} ({summary['bytes']:,} bytes)", file=out)
    print(f"build      {summary['version'] or '?'}, git {summary['git_revision'] or '?'}, "
          f"catalogue {summary['catalogue_hash']:#010x}", file=out)
    print(f"clock      {summary['clock'] or '?'}, {summary['rate_hz']} Hz", file=out)
    print(f"started    {started:%Y-%m-%d %H:%M:%S} UTC", file=out)
    if summary["complete"]:
        print(f"complete   yes, {summary['dropped']} dropped", file=out)
    else:
        print("complete   no: cut short (no footer); read up to the last complete record", file=out)
    if summary["messages"]:
        print(f"messages   {summary['messages']:,} from {simtime.format_ns(summary['first_ns'])} to "
              f"{simtime.format_ns(summary['last_ns'])} of simulated time "
              f"({simtime.format_ns(summary['duration_ns'])}; "
              f"{simtime.format_ns(summary['wall_duration_ns'])} of wall time)", file=out)
    else:
        print("messages   0", file=out)
        return
    rows = [("MsgId", "name", "count", "rate/s", "max gap", "at", "directions")]
    for entry in summary["types"]:
        rows.append((str(entry["msg_id"]), entry["name"], f"{entry['count']:,}",
                     "-" if entry["rate_hz"] is None else f"{entry['rate_hz']:.6g}",
                     simtime.format_ns(entry["max_gap_ns"]) if entry["max_gap_at_ns"] is not None else "-",
                     simtime.format_ns(entry["max_gap_at_ns"]) if entry["max_gap_at_ns"] is not None else "-",
                     ", ".join(f"{d} {n:,}" for d, n in entry["directions"].items())))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(file=out)
    for row in rows:
        print("  ".join(cell.rjust(w) if i in (0, 2, 3, 4) else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip(), file=out)


# -- dump ----------------------------------------------------------------------


def describe(m) -> str:
    """A message's content for people: fields by name, control traffic in
    protobuf text, anything undecodable as hex."""
    value = m.value
    if value is None:
        return f"payload={m.payload.hex()} ({len(m.payload)} bytes; does not fit the catalogue)"
    if hasattr(value, "DESCRIPTOR"):
        return text_format.MessageToString(value, as_one_line=True) or "(empty)"
    return describe_value(value)


def describe_value(value) -> str:
    """A decoded bus message's fields by name, as dump shows them."""
    return " ".join(f"{name}={getattr(value, name)!r}" for name, *_ in value.fields()) or "(no fields)"


def format_line(m) -> str:
    """One message as `dump` prints it: sim time, direction, name, content."""
    return f"{format_seconds(m.sim_time_ns)} s  {m.direction:<15}  {m.name:<20}  {describe(m)}"


def dump(rec: Recording, args, out) -> None:
    shown = 0
    for m in _select(rec, args):
        if args.limit is not None and shown >= args.limit:
            break
        print(format_line(m), file=out)
        shown += 1


# -- the command line ------------------------------------------------------------


def _select(rec: Recording, args):
    types = [_type_spec(t) for t in args.type] if args.type else None
    return rec.messages(types, start=args.start, end=args.end, directions=args.direction or None)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", action="append", metavar="NAME|MSGID",
                        help="only messages of this type (repeatable); ControlRequest/ControlReply for control")
    parser.add_argument("--start", type=parse_time, metavar="T", help="from this simulated time (e.g. 1.5s)")
    parser.add_argument("--end", type=parse_time, metavar="T", help="before this simulated time (e.g. 2s)")
    parser.add_argument("--direction", action="append", choices=DIRECTIONS, help="only this direction (repeatable)")


def _subplot(text: str) -> list[str]:
    fields = [field.strip() for field in text.split(",")]
    if not all(fields):
        raise argparse.ArgumentTypeError(f"{text!r}: a subplot is Type.field names separated by commas")
    return fields


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Inspect, export and plot sil recordings "
                                                            "(sil-sim --record PATH).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="build, clock, duration, counts, rates and gaps per message type")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    dump_parser = commands.add_parser("dump", help="one line per message: sim time, direction, name, fields")
    dump_parser.add_argument("file")
    _add_filters(dump_parser)
    dump_parser.add_argument("--limit", type=int, metavar="N", help="at most N lines")

    csv_parser = commands.add_parser("csv", help="CSV: one row per message, one column per field (Type.field)")
    csv_parser.add_argument("file")
    _add_filters(csv_parser)
    csv_parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")

    plot_parser = commands.add_parser("plot", help="PNG or SVG of fields over simulated time, a subplot per unit")
    plot_parser.add_argument("file")
    plot_parser.add_argument("fields", nargs="*", metavar="Type.field",
                             help="e.g. PlantTemperature.temperature_c; fields with the same unit suffix "
                                  "(_c, _w, _ns, ...) share a subplot")
    plot_parser.add_argument("--subplot", action="append", default=[], type=_subplot, metavar="A.x,B.y",
                             help="these fields in one subplot of their own (repeatable)")
    plot_parser.add_argument("-o", "--output", required=True, metavar="OUT.png|OUT.svg",
                             help="the format comes from the extension")
    plot_parser.add_argument("--from", "--start", dest="start", type=parse_time, metavar="T",
                             help="from this simulated time (e.g. 30s)")
    plot_parser.add_argument("--to", "--end", dest="end", type=parse_time, metavar="T",
                             help="to this simulated time")
    plot_parser.add_argument("--title", help="the figure's title (default: the file's name)")

    pcap_parser = commands.add_parser("pcap", help="pcapng for Wireshark: every datagram as UDP on loopback")
    pcap_parser.add_argument("file")
    pcap_parser.add_argument("output", metavar="OUT.pcapng")
    recover_parser = commands.add_parser("recover", help="copy every intact record of a damaged recording to a new "
                                                         "one, saying what was skipped")
    recover_parser.add_argument("file")
    recover_parser.add_argument("output", metavar="OUT", help="the new recording (must not exist)")
    recover_parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return parser


def run(args: argparse.Namespace, out) -> None:
    if args.command == "recover":  # reads what Recording refuses to
        recovery = recover.recover(args.file, args.output)
        print(recover.to_json(recovery) if args.json else "\n".join(recover.report(recovery)), file=out)
        return
    with Recording(args.file) as rec:
        if args.command == "info":
            summary = summarize(rec)
            if args.json:
                print(json.dumps(summary), file=out)
            else:
                print_info(summary, out)
        elif args.command == "dump":
            if args.limit is not None and args.limit < 0:
                raise UsageError("--limit must be 0 or more")
            dump(rec, args, out)
        elif args.command == "csv":
            types = [_type_spec(t) for t in args.type] if args.type else None
            if args.output:
                rec.to_csv(args.output, types, start=args.start, end=args.end, directions=args.direction or None)
            else:
                rec.to_csv(out, types, start=args.start, end=args.end, directions=args.direction or None)
        elif args.command == "pcap":
            pcap.convert(rec, args.output)
        else:
            plot.plot(rec, args.output, args.fields, args.subplot, start=args.start, end=args.end, title=args.title)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run(args, sys.stdout)
        except BrokenPipeError:
            # `sil-rec dump ... | head`: the reader has all it wanted.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except KeyboardInterrupt:
            return 130
        except (RecordingError, UsageError, LookupError, ValueError, OSError) as error:
            print(f"{PROG}: error: {_message(error)}", file=sys.stderr)
            if isinstance(error, RecordingError) and error.damaged:
                print(f"{PROG}: `{PROG} recover {args.file} OUT` copies every intact record to a new recording",
                      file=sys.stderr)
            return 2
        finally:
            for text in dict.fromkeys(str(w.message) for w in caught):
                print(f"{PROG}: warning: {text}", file=sys.stderr)
    return 0


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    text = str(error)
    # KeyError-like messages come quoted.
    return text[1:-1] if isinstance(error, LookupError) and text[:1] == text[-1:] == '"' else text


if __name__ == "__main__":
    sys.exit(main())

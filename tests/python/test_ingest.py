"""sil._core.Receiver: bulk receive on a C++ thread. A plain socket in the
test sends; nothing here depends on how fast anything runs."""

import os
import select
import socket
import struct
import threading
import time

import numpy as np
import pytest

import sil
from sil import Heartbeat, PlantTemperature, Receiver, RevisionResponse, message_dtype
from sil.ingest import SequenceTracker

# Room for every datagram a test sends even if the receiving thread never
# ran meanwhile (about 1 KiB of kernel memory per small datagram).
RECEIVE_BUFFER = 8 << 20
WAIT_S = 10.0  # an upper bound for things that happen at once; never a timing assertion


@pytest.fixture
def rx_socket():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


@pytest.fixture
def sender(rx_socket):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(rx_socket.getsockname())
        yield sock


@pytest.fixture
def receiver(rx_socket):
    with Receiver(rx_socket.fileno(), receive_buffer=RECEIVE_BUFFER, batch=16) as receiver:
        yield receiver


def take_all(receiver, count, take=Receiver.take):
    """Batches from take(...) until count items arrived (bounded by WAIT_S)."""
    batches = []
    taken = 0
    deadline = time.monotonic() + WAIT_S
    while taken < count and time.monotonic() < deadline:
        batch = take(receiver, 0.2)
        if batch:
            batches.append(batch)
            taken += sum(map(len, batch.values())) if isinstance(batch, dict) else len(batch)
    return batches


def test_batches_keep_arrival_order_and_content(sender, receiver):
    sent = []
    for i in range(2000):
        msg = Heartbeat.zero(sequence=i, tick=3 * i) if i % 3 else PlantTemperature(temperature_c=i / 8, heater_power_w=-i)
        sent.append(msg)
        sender.send(sil.encode(msg))
    batches = take_all(receiver, len(sent))
    assert [m for batch in batches for m in batch] == sent
    stats = receiver.stats()
    assert stats["received"] == stats["delivered"] == len(sent)
    assert stats["kernel_drops"] == stats["ring_overruns"] == 0
    assert stats["receive_calls"] >= len(sent) // 16


def test_take_arrays_gives_one_structured_array_per_type_in_arrival_order(sender, receiver):
    for i in range(300):
        sender.send(sil.encode(Heartbeat(sequence=i, tick=i << 40, sim_time_ns=7)))
        if i % 100 == 0:
            sender.send(sil.encode(RevisionResponse.zero(request_id=i, git_revision="abc", build_time_unix=-5)))
    arrays = {}
    for batch in take_all(receiver, 303, Receiver.take_arrays):
        for cls, rows in batch.items():
            arrays.setdefault(cls, []).append(rows)
    heartbeats = np.concatenate(arrays[Heartbeat])
    assert heartbeats.dtype == message_dtype(Heartbeat)
    assert list(heartbeats["sequence"]) == list(range(300))
    assert list(heartbeats["tick"]) == [i << 40 for i in range(300)]
    responses = np.concatenate(arrays[RevisionResponse])
    assert list(responses["request_id"]) == [0, 100, 200]
    assert list(responses["git_revision"]) == [b"abc"] * 3
    assert list(responses["build_time_unix"]) == [-5] * 3
    assert set(arrays) == {Heartbeat, RevisionResponse}


def test_message_dtype_is_the_payload_layout():
    for cls in sil.message_types():
        dtype = message_dtype(cls)
        assert dtype.itemsize == cls.SIZE
        assert [(name, dtype.fields[name][1]) for name, *_ in cls.fields()] == \
            [(name, offset) for name, _kind, offset, _size in cls.fields()]
    msg = RevisionResponse.zero(request_id=9, version_minor=3, git_revision="f" * 40, tick_rate_hz=250)
    row = np.frombuffer(msg.to_bytes(), dtype=message_dtype(RevisionResponse))[0]
    assert (row["request_id"], row["version_minor"], row["git_revision"], row["tick_rate_hz"]) == \
        (9, 3, b"f" * 40, 250)
    with pytest.raises(TypeError, match="message class"):
        message_dtype(int)


def test_sequence_gaps_are_detected_in_objects_and_in_arrays(sender, receiver):
    dropped = {10, 11, 500, 999}
    for i in range(1000):
        if i not in dropped:
            sender.send(sil.encode(Heartbeat.zero(sequence=i)))
    expected = 1000 - len(dropped)
    arrays = take_all(receiver, expected, Receiver.take_arrays)
    tracker = SequenceTracker()
    for batch in arrays:
        tracker.update(batch[Heartbeat]["sequence"])
    # 999, the last one, is not a gap yet: nothing after it has arrived.
    assert (tracker.received, tracker.missing, tracker.late, tracker.highest) == (expected, 3, 0, 998)

    objects = SequenceTracker()
    for batch in arrays:
        objects.update(int(s) for s in batch[Heartbeat]["sequence"])
    assert (objects.received, objects.missing, objects.late) == (expected, 3, 0)


def test_kernel_drops_are_counted_and_match_the_sequence_gaps(sender, rx_socket):
    # A small buffer and no thread reading: the kernel must drop most of these.
    receiver = Receiver(rx_socket.fileno(), receive_buffer=4096)
    tracker = SequenceTracker()

    def take_until(done):
        deadline = time.monotonic() + WAIT_S
        while not done() and time.monotonic() < deadline:
            tracker.update(m.sequence for m in receiver.take(0.1))

    try:
        for i in range(500):
            sender.send(sil.encode(Heartbeat.zero(sequence=i)))
        receiver.start()
        # Until the thread has emptied the socket, so the next one is queued.
        readable = select.poll()
        readable.register(rx_socket, select.POLLIN)
        take_until(lambda: tracker.received > 0 and not readable.poll(0))
        # The drop counter travels on the next datagram queued after the drops.
        sender.send(sil.encode(Heartbeat.zero(sequence=500)))
        take_until(lambda: tracker.highest == 500)
        stats = receiver.stats()
    finally:
        receiver.close()
    assert tracker.highest == 500
    assert tracker.missing > 0
    assert stats["kernel_drops"] == tracker.missing == 501 - stats["received"]
    assert stats["ring_overruns"] == 0


def test_sequence_tracker_wraps_and_counts_late_arrivals():
    tracker = SequenceTracker(bits=8)
    assert tracker.update([250, 251, 253, 0, 1]) == 1 + 2
    assert tracker.update([1, 0, 5]) == 3
    assert (tracker.received, tracker.missing, tracker.late, tracker.highest) == (8, 6, 2, 5)
    array_tracker = SequenceTracker(bits=8)
    array_tracker.update(np.array([250, 251, 253, 0, 1], dtype=np.uint8))
    array_tracker.update(np.array([1, 0, 5], dtype=np.uint8))  # out of order: counted one by one
    assert (array_tracker.received, array_tracker.missing, array_tracker.late) == (8, 6, 2)
    with pytest.raises(ValueError):
        SequenceTracker(bits=0)


def test_invalid_datagrams_are_counted_and_skipped(sender, receiver):
    good = [Heartbeat.zero(sequence=1), Heartbeat.zero(sequence=2)]
    bad = [b"", b"\xd2", b"\x99\x99" + bytes(20), sil.encode(Heartbeat.zero())[:-1], b"\xd2\x07" + bytes(300)]
    sender.send(sil.encode(good[0]))
    for data in bad:
        sender.send(data)
    sender.send(sil.encode(good[1]))
    invalid = []
    received = []
    deadline = time.monotonic() + WAIT_S
    while len(received) + len(invalid) < 7 and time.monotonic() < deadline:
        received += receiver.take(0.2, invalid)
    assert received == good
    assert invalid == [(bad[0], "too_short", 0), (bad[1], "too_short", 1), (bad[2], "unknown_id", 22),
                       (bad[3], "wrong_size", 21),
                       (bad[4][:sil.MAX_DATAGRAM_SIZE], "truncated", 302)]  # cut: the rest was never read
    assert receiver.stats()["invalid"] == {"too_short": 2, "unknown_id": 1, "wrong_size": 1, "truncated": 1}
    with pytest.raises(TypeError):
        receiver.take(0.0, invalid=())


def test_take_datagrams_returns_the_raw_bytes(sender, receiver):
    data = [sil.encode(Heartbeat.zero(sequence=3)), b"\x01"]
    for d in data:
        sender.send(d)
    assert [d for batch in take_all(receiver, 2, Receiver.take_datagrams) for d in batch] == data


def test_bad_arguments_are_refused_with_a_clear_error(rx_socket):
    with pytest.raises(ValueError, match="batch"):
        Receiver(rx_socket.fileno(), batch=0)
    with pytest.raises(ValueError, match="receive_buffer"):
        Receiver(rx_socket.fileno(), receive_buffer=0)
    with pytest.raises(OSError):
        Receiver(-1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as stream, pytest.raises(ValueError, match="datagram"):
        Receiver(stream.fileno())
    with Receiver(rx_socket.fileno()) as receiver:
        with pytest.raises(ValueError, match="timeout"):
            receiver.take(-1.0)
        with pytest.raises(ValueError, match="timeout"):
            receiver.take(float("nan"))


def test_receive_buffer_reports_what_the_kernel_granted(rx_socket):
    with Receiver(rx_socket.fileno(), receive_buffer=1 << 16) as receiver:
        assert receiver.receive_buffer == rx_socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1 << 16


def test_close_while_receiving_is_clean(sender, rx_socket):
    receiver = Receiver(rx_socket.fileno(), receive_buffer=RECEIVE_BUFFER)
    receiver.start()
    stop_sending = threading.Event()

    def flood():
        for i in range(200_000):  # bounded, whatever happens
            if stop_sending.is_set():
                return
            sender.send(sil.encode(Heartbeat.zero(sequence=i)))

    flooder = threading.Thread(target=flood)
    flooder.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while receiver.stats()["received"] == 0 and time.monotonic() < deadline:
            receiver.take(0.05)
        assert receiver.running
        receiver.close()
        assert receiver.closed and not receiver.running
        receiver.close()  # again: nothing happens
        with pytest.raises(ValueError, match="closed"):
            receiver.take()
        with pytest.raises(ValueError, match="closed"):
            receiver.start()
        assert receiver.stats()["delivered"] >= 0
    finally:
        stop_sending.set()
        flooder.join()
    # The caller's socket is its own: still open and usable.
    sender.send(b"\x01")
    assert rx_socket.recv(16) is not None


def test_close_from_another_thread_ends_a_waiting_take(rx_socket):
    receiver = Receiver(rx_socket.fileno())
    receiver.start()
    outcome = []
    waiter = threading.Thread(target=lambda: outcome.append(receiver.take(60.0)))
    waiter.start()
    time.sleep(0.05)  # not a timing assertion: the test passes whether take() is waiting yet or not
    receiver.close()
    waiter.join(WAIT_S)
    assert not waiter.is_alive() and outcome == [[]]


def test_take_while_stopped_does_not_wait_for_what_cannot_come(sender, rx_socket):
    receiver = Receiver(rx_socket.fileno())
    waiter = threading.Thread(target=lambda: receiver.take(60.0))
    waiter.start()
    waiter.join(WAIT_S)
    assert not waiter.is_alive()
    receiver.start()
    sender.send(sil.encode(Heartbeat.zero(sequence=4)))
    assert [m for batch in take_all(receiver, 1) for m in batch] == [Heartbeat.zero(sequence=4)]
    receiver.stop()
    assert not receiver.running and not receiver.closed
    receiver.start()  # again, after a stop
    sender.send(sil.encode(Heartbeat.zero(sequence=5)))
    assert [m for batch in take_all(receiver, 1) for m in batch] == [Heartbeat.zero(sequence=5)]
    receiver.close()


def test_the_gil_is_released_while_take_waits(rx_socket):
    progress = [0]
    done = threading.Event()

    def spin():
        while not done.is_set():
            progress[0] += 1

    with Receiver(rx_socket.fileno()) as receiver:
        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            before = progress[0]
            receiver.take(0.3)  # nothing arrives: it waits the whole time
            after = progress[0]
        finally:
            done.set()
            spinner.join()
    # With the GIL held for the whole call, the spinner could not have run.
    assert after > before


def test_one_consumer_at_a_time(rx_socket):
    receiver = Receiver(rx_socket.fileno())
    receiver.start()
    waiter = threading.Thread(target=lambda: receiver.take(60.0))  # nothing arrives; close() ends it
    waiter.start()
    refused = None
    try:
        deadline = time.monotonic() + WAIT_S
        while refused is None and time.monotonic() < deadline:
            try:
                receiver.take(0.0)  # allowed until the waiter is inside take()
            except ValueError as error:
                refused = str(error)
    finally:
        receiver.close()
        waiter.join(WAIT_S)
    assert refused is not None and "another thread" in refused
    assert not waiter.is_alive()


UDP_SEGMENT = getattr(socket, "UDP_SEGMENT", 103)  # linux/udp.h


def send_gso_run(sender, payload: bytes, segment: int) -> None:
    sender.sendmsg([payload], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("=H", segment))])


def test_gro_splits_a_gso_run_into_its_datagrams_in_order(sender, rx_socket):
    first = [Heartbeat.zero(sequence=i, tick=i) for i in range(40)]
    lone = PlantTemperature(temperature_c=21.5, heater_power_w=0.0)
    second = [Heartbeat.zero(sequence=40 + i) for i in range(3)]
    with Receiver(rx_socket.fileno(), receive_buffer=RECEIVE_BUFFER, gro=True) as receiver:
        send_gso_run(sender, b"".join(map(sil.encode, first)), 22)
        sender.send(sil.encode(lone))
        # A run whose last datagram is shorter: 3 Heartbeats, then 10 bytes of MsgId 0.
        send_gso_run(sender, b"".join(map(sil.encode, second)) + bytes(10), 22)
        sender.send(b"\xd2\x07" + bytes(300))  # one oversized datagram, not a run
        invalid = []
        received = []
        deadline = time.monotonic() + WAIT_S
        while len(received) + len(invalid) < 46 and time.monotonic() < deadline:
            received += receiver.take(0.2, invalid)
        stats = receiver.stats()
    assert received == first + [lone] + second
    assert invalid == [(bytes(10), "unknown_id", 10), ((b"\xd2\x07" + bytes(300))[:sil.MAX_DATAGRAM_SIZE], "truncated", 302)]
    assert stats["received"] == 46
    assert stats["gro_runs"] == 2  # the kernel kept each run whole: one receive each


def test_closed_receivers_leave_no_thread_and_no_descriptor_behind(rx_socket):
    def threads_and_fds():
        return len(os.listdir("/proc/self/task")), sorted(os.listdir("/proc/self/fd"))

    before = threads_and_fds()
    for _ in range(20):
        with Receiver(rx_socket.fileno(), gro=True) as receiver:
            assert len(os.listdir("/proc/self/task")) == before[0] + 1  # its one thread
        receiver.close()
    dropped = Receiver(rx_socket.fileno())
    dropped.start()
    del dropped  # garbage: the destructor stops and joins too
    assert threads_and_fds() == before

"""The embedded broker (kombu's filesystem transport, the non-root fallback of `make run`):
a consumer never reads a message another process is still writing.

kombu 5.7.0 creates a message file under its final `*.msg` name, then serializes and writes
it; a consumer polling the folder in between read a half-written file and celery died with
`Unrecoverable error: JSONDecodeError` (the scheduler of `make run`). Here the writer is made
slow where a loaded machine can deschedule it: a header whose JSON encoding takes a while
(kombu serializes the message's headers inside that window). Real files, real kombu
connections, one producer and one consumer thread.
"""
import json
import threading
import time

from kombu import Connection

from cloudproj.broker_transport import FilesystemTransport, register


class SlowToEncode:
    """A header value whose JSON encoding takes `seconds` (kombu calls `__json__`)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __json__(self):
        time.sleep(self.seconds)
        return "slow"


def _options(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "control", "processed")}
    for folder in folders.values():
        folder.mkdir()
    return {
        "data_folder_in": str(folders["queue"]), "data_folder_out": str(folders["queue"]),
        "control_folder": str(folders["control"]), "processed_folder": str(folders["processed"]),
        "polling_interval": 0.01,
    }


def _send_while_a_consumer_polls(transport, tmp_path, queue: str, count: int = 3):
    """Sends `count` slow-to-write messages while a consumer polls; returns (received, errors)."""
    options = _options(tmp_path)
    received, errors = [], []
    with Connection(transport=transport, transport_options=options) as consumer_conn:
        inbox = consumer_conn.SimpleQueue(queue)
        done = threading.Event()

        def consume():
            while not done.is_set() or len(received) < count:
                try:
                    message = inbox.get(timeout=0.5)
                except inbox.Empty:
                    if done.is_set():
                        return
                    continue
                except ValueError as exc:  # json.JSONDecodeError
                    errors.append(exc)
                    continue
                received.append(message.payload)
                message.ack()

        consumer = threading.Thread(target=consume)
        consumer.start()
        try:
            with Connection(transport=transport, transport_options=options) as producer_conn:
                outbox = producer_conn.SimpleQueue(queue)
                for number in range(count):
                    outbox.put({"boot": number}, headers={"slow": SlowToEncode(0.3)})
        finally:
            done.set()
            consumer.join(20)
    return received, errors


def test_stock_transport_reads_a_half_written_message(tmp_path):
    """The failure this module fixes, reproduced with kombu's own transport."""
    from kombu.transport.filesystem import Transport as StockTransport

    received, errors = _send_while_a_consumer_polls(StockTransport, tmp_path, "stock")
    assert errors and isinstance(errors[0], json.JSONDecodeError)
    assert len(received) < 3  # the half-read messages are gone


def test_every_message_arrives_whole_with_the_fixed_transport(tmp_path):
    received, errors = _send_while_a_consumer_polls(FilesystemTransport, tmp_path, "fixed")
    assert errors == []
    assert sorted(message["boot"] for message in received) == [0, 1, 2]
    assert list((tmp_path / "queue").iterdir()) == []  # no temporary file left behind
    assert list((tmp_path / "processed").iterdir()) == []


def test_filesystem_urls_use_the_fixed_transport():
    register()
    with Connection("filesystem://localhost//") as conn:
        assert conn.transport_cls == "filesystem"
        assert isinstance(conn.transport, FilesystemTransport)


def test_two_consumers_never_get_the_same_message(tmp_path):
    """A message is claimed by an atomic rename: of several polling consumers one gets it."""
    options = _options(tmp_path)
    got: list[int] = []
    lock = threading.Lock()
    with Connection(transport=FilesystemTransport, transport_options=options) as conn:
        outbox = conn.SimpleQueue("shared")
        for number in range(200):
            outbox.put({"n": number})

    def consume():
        with Connection(transport=FilesystemTransport, transport_options=options) as own:
            inbox = own.SimpleQueue("shared")
            while True:
                try:
                    message = inbox.get(timeout=1)
                except inbox.Empty:
                    return
                with lock:
                    got.append(message.payload["n"])
                message.ack()

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(got) == list(range(200))

"""kombu's Redis and filesystem transports with fixes, registered for redis://, rediss:// and
filesystem:// URLs.

Redis:

kombu 5.7.0: when a worker loses Redis, celery collects the broken connection (the channel's
transport, or its client, becomes None) while the old channel still has work to do through
it: closing it puts the messages the worker holds back on their queues, and tasks that finish
after the reconnect ack on it. Both fail with AttributeError, which celery treats as
unrecoverable: the worker exits instead of reconnecting (an agent died with the broker
restart in compute/tests/faults/test_broker_restart.py). Here they fail with Redis's own
ConnectionError, which kombu and celery handle as the lost connection it is: the messages
stay in Redis's unacknowledged set and kombu's visibility sweep puts them back on their
queues after BROKER_VISIBILITY_TIMEOUT (a step delivered twice converges).

Filesystem (the embedded broker of the non-root fallback): kombu 5.7.0 creates a message file
under its final `*.msg` name and then writes it, while a consumer in another process lists
`*.msg`, moves the file away and reads it: a consumer that came between the two read a
half-written message, and celery died with `Unrecoverable error: JSONDecodeError` (seen with
the scheduler of `make run`). Here a message is written under a temporary name in the same
folder (which no consumer lists) and renamed into place once complete; a rename is atomic.
A consumer claims a message by renaming it into the processed folder (on the broker's own
filesystem; kombu moves it to the system's temporary folder, a copy when that is another
filesystem, so two consumers could both take it). An exchange's binding table is replaced the
same way, so no reader sees it empty.
"""
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu import transport
from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection of this channel was lost and collected")
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel


TEMPORARY_SUFFIX = ".tmp"


def write_atomically(path: str, data: bytes) -> None:
    """`path` appears complete or not at all: written under a temporary name beside it, flushed,
    then renamed (the temporary name ends in .tmp, which no reader lists)."""
    temporary = f"{path}.{uuid.uuid4().hex}{TEMPORARY_SUFFIX}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class FilesystemChannel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        filename = os.path.join(
            self.data_folder_out, f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg")
        try:
            write_atomically(filename, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {filename!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        claimed_folder = Path(self.processed_folder)
        claimed_folder.mkdir(parents=True, exist_ok=True)
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            claimed = claimed_folder / filename
            try:
                # atomic: of two consumers, one gets the file and the other FileNotFoundError
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except OSError:
                continue
            try:
                payload = claimed.read_bytes()
                if not self.store_processed:
                    claimed.unlink()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {str(claimed)!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        if not file.exists():
            # kombu creates the table by truncating a new file and then writing it: a reader
            # in between loaded an empty file. Link a complete one into place instead (link
            # fails if another process created it first: then update that one).
            entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
            temporary = f"{file}.{uuid.uuid4().hex}{TEMPORARY_SUFFIX}"
            try:
                with open(temporary, "wb") as handle:
                    handle.write(str_to_bytes(dumps([entry])))
                try:
                    os.link(temporary, file)
                    return
                except FileExistsError:
                    pass
            except OSError as exc:
                raise ChannelError(f"Cannot open {file}") from exc
            finally:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
        super()._queue_bind(exchange, routing_key, pattern, queue)


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel


def register() -> None:
    for scheme in ("redis", "rediss"):
        transport.TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
    transport.TRANSPORT_ALIASES["filesystem"] = f"{__name__}:FilesystemTransport"

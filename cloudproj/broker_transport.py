"""kombu's Redis transport with one fix, registered for redis:// and rediss:// URLs.

kombu 5.7.0: when a worker loses Redis, celery collects the broken connection (the channel's
transport, or its client, becomes None) while the old channel still has work to do through
it: closing it puts the messages the worker holds back on their queues, and tasks that finish
after the reconnect ack on it. Both fail with AttributeError, which celery treats as
unrecoverable: the worker exits instead of reconnecting (an agent died with the broker
restart in compute/tests/faults/test_broker_restart.py). Here they fail with Redis's own
ConnectionError, which kombu and celery handle as the lost connection it is: the messages
stay in Redis's unacknowledged set and kombu's visibility sweep puts them back on their
queues after BROKER_VISIBILITY_TIMEOUT (a step delivered twice converges).
"""
from kombu import transport
from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection of this channel was lost and collected")
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel


def register() -> None:
    for scheme in ("redis", "rediss"):
        transport.TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"

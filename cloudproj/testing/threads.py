"""Run the same call from several threads at once (each with its own DB connection)."""
import threading

from django.db import connection


def run_threads(count, target):
    """target(i) in `count` threads released together -> (results, errors), both by i."""
    results, errors = [None] * count, [None] * count
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors

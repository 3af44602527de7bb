"""Run a host command from an argument list (never a shell string); an exclusive file lock."""
import fcntl
import logging
import subprocess
from contextlib import contextmanager

log = logging.getLogger(__name__)


class HostCommandError(RuntimeError):
    def __init__(self, argv, returncode, stderr):
        self.argv, self.returncode, self.stderr = list(argv), returncode, (stderr or "").strip()
        super().__init__(f"{' '.join(self.argv)} failed ({returncode}): {self.stderr}")


def run(argv: list[str], check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    if not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv):
        raise TypeError("run() takes a list of strings")
    log.debug("running %s", argv)
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode, proc.stderr or proc.stdout)
    return proc


@contextmanager
def file_lock(path):
    """An exclusive lock on `path` (created if missing), across threads and processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

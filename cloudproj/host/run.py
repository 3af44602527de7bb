"""The one way host code runs a command: an argument list (never a shell string), a
timeout, no stdin unless given, and an error that carries the command's stderr."""
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class HostCommandError(RuntimeError):
    """A host command exited non-zero (a command that is not installed raises FileNotFoundError)."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str | None):
        self.argv, self.returncode, self.stderr = list(argv), returncode, (stderr or "").strip()
        super().__init__(f"{' '.join(self.argv)} failed ({returncode}): {self.stderr}")


def run(argv: Sequence[str], check: bool = True, timeout: float = DEFAULT_TIMEOUT,
        input_text: str | None = None, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `argv`; with `check`, a non-zero exit raises HostCommandError. `input_text` is fed
    to the command's stdin (else stdin is /dev/null); `env` is added to os.environ."""
    if not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv):
        raise TypeError("run() takes a list of strings")
    log.debug("running %s", argv)
    environment = {**os.environ, **env} if env else None
    if input_text is None:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=environment)
    else:
        proc = subprocess.run(list(argv), input=input_text, capture_output=True, text=True, timeout=timeout,
                              env=environment)
    if check and proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode, proc.stderr or proc.stdout)
    return proc

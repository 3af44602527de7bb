"""Reading a guest's serial console log: only its tail, never the whole file.

Console logs grow without bound while a guest runs; the API asks for at most a few KiB
(`os-getConsoleOutput` with `length`), and whatever we return travels through the broker.
"""
import os

DEFAULT_MAX_BYTES = 64 * 1024
HARD_MAX_BYTES = 1024 * 1024


def read_tail(path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The last `max_bytes` bytes of `path` decoded as UTF-8 (bad bytes replaced);
    "" when the file does not exist yet (a guest that has not written anything)."""
    max_bytes = max(0, min(int(max_bytes), HARD_MAX_BYTES))
    if max_bytes == 0:
        return ""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                fh.seek(size - max_bytes)
            data = fh.read(max_bytes)
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", errors="replace")


def tail_lines(text: str, lines: int | None) -> str:
    """The API's `length` parameter as Nova counts it: the last `lines` pieces of `text` split
    at newlines, joined again (a log ending with a newline: its last piece is the empty one, so
    length 3 gives two lines and the final newline); all when None, "" for 0."""
    if lines is None:
        return text
    lines = int(lines)
    if lines <= 0:
        return ""
    return "\n".join(text.split("\n")[-lines:])

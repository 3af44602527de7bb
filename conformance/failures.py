"""Group a conformance run's failures by cause: `python -m conformance.failures` reads
.cache/conformance-cloud/results.json and tempest.log (written by scripts/conformance.py) and
prints one line per cause, most tests first (the draft of conformance/FAILURES.md).

A cause is (the failing API call, the exception tempest raised, its message with ids
blanked). The failing call is the test's last request that tempest logged with a 4xx/5xx
answer, or, for a response that failed schema validation, its last request.
"""
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOUD_DIR = ROOT / ".cache" / "conformance-cloud"

_REQUEST = re.compile(
    r"Request \((?P<who>[\w.]+):(?P<what>\w+)\): (?P<status>\d{3}) (?P<method>[A-Z]+) (?P<url>\S+)")
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_SCHEMA = re.compile(r"Additional properties are not allowed \([^)]*\)|'[\w:.-]+' is a required property|"
                     r"\S+ is not of type '\w+'|\S+ is not one of \[[^\]]*\]")
_NUM = re.compile(r"(?<=/)\d+(?=/|$|\?)")


def normalise_url(url: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", url)
    path = _UUID.sub("{id}", path)
    path = _NUM.sub("{n}", path)
    path = re.sub(r"(marker|changes-since|name|tag|hostname)=[^&]+", r"\1=…", path)
    return path


def normalise_message(text: str) -> str:
    text = _UUID.sub("{id}", text)
    text = re.sub(r"tempest-[\w-]+?-\d+", "tempest-…", text)
    text = re.sub(r"\b\d{5,}\b", "…", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:400]


def exception_summary(details: str) -> str:
    """The response-schema violation tempest found, else the last exception line of the
    traceback plus the `Details:` line tempest adds."""
    schema = _SCHEMA.search(details)
    if schema:
        where = re.search(r"On instance(\[[^\]]*\])*", details)
        return normalise_message(f"response schema: {schema.group(0)}" + (f" ({where.group(0)})" if where else ""))
    lines = [line for line in details.strip().splitlines() if line.strip()]
    summary = ""
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if re.match(r"^[\w.]+(Error|Exception|Failure|NotFound|Forbidden|Unauthorized|Conflict|BadRequest|"
                    r"TimeoutException|ServerFault|Body|Response|Failed|Invalid\w*)\b.*:", line) or \
                line.startswith(("tempest.", "testtools.", "AssertionError", "jsonschema", "KeyError")):
            summary = " ".join(lines[index:index + 3])
            break
    if not summary and lines:
        summary = lines[-1]
    return normalise_message(summary)


def requests_by_test(log_text: str) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for match in _REQUEST.finditer(log_text):
        out[(match["who"], match["what"])].append((match["status"], match["method"], match["url"]))
    return out


def failing_call(test_id: str, requests) -> str:
    parts = re.sub(r"\[.*\]$", "", test_id).split(".")
    if test_id.startswith(("setUpClass", "tearDownClass")):
        # "setUpClass (tempest.api.compute.servers.test_x.ServersTest)"
        klass = re.search(r"\.(\w+)\)$", test_id)
        key = (klass.group(1) if klass else "", test_id.split()[0])
    else:
        key = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
    calls = requests.get(key, [])
    bad = [c for c in calls if c[0][0] in "45"]
    chosen = bad[-1] if bad else (calls[-1] if calls else None)
    if chosen is None:
        return "(no request logged)"
    status, method, url = chosen
    return f"{method} {normalise_url(url)} → {status}"


def group(results: list[dict], log_text: str) -> list[tuple[int, str, str, list[str]]]:
    requests = requests_by_test(log_text)
    causes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for test in results:
        if test["status"] not in ("fail", "uxsuccess"):
            continue
        call = failing_call(test["id"], requests)
        causes[(call, exception_summary(test.get("details", "")))].append(test["id"])
    ranked = sorted(causes.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(len(tests), call, summary, tests) for (call, summary), tests in ranked]


def main() -> int:
    results = json.loads((CLOUD_DIR / "results.json").read_text())
    log_text = (CLOUD_DIR / "tempest" / "tempest.log").read_text(errors="replace")
    for number, call, summary, tests in group(results, log_text):
        print(f"- **{number}** · `{call}` · {summary}")
        for test_id in tests[:3]:
            print(f"    - {test_id}")
        if len(tests) > 3:
            print(f"    - … and {len(tests) - 3} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The process-wide metrics. API processes fill the request histogram, workers the task ones."""
from prometheus_client import Counter, Histogram

API_LATENCY = Histogram(
    "cloudproj_api_request_duration_seconds",
    "API request latency by resolved route (never the raw path), method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASK_DURATION = Histogram(
    "cloudproj_task_duration_seconds",
    "Celery task run time by task name, host (worker node) and final state.",
    ["task", "host", "state"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
TASK_FAILURES = Counter(
    "cloudproj_task_failures",
    "Celery tasks that raised, by task name, host and exception type.",
    ["task", "host", "exception"],
)

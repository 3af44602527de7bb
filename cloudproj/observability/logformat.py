"""LOG_FORMAT=json: one JSON object per line, for log shippers (Loki, ELK) that index fields."""
import json
import logging
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(_task_fields())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _task_fields() -> dict:
    from celery import current_task

    request = getattr(current_task, "request", None) if current_task else None
    if request is None or not getattr(request, "id", None):
        return {}
    return {"task": current_task.name, "task_id": request.id, "worker": request.hostname or ""}

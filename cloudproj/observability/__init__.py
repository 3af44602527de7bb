"""Observability: Prometheus metrics (API, tasks, queues, instances), request ids carried into
Celery tasks, and the checks behind `./manage.py health`."""

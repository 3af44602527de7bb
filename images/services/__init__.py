"""Image registry operations and shared-image members in plain Python: no HTTP, no Celery."""

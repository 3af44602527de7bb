"""Compute business operations (plain Python: no HTTP, no Celery).

Views and CLI commands call these and translate `cloudproj.exceptions.CloudError`s into their
own errors.
"""

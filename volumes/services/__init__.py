"""Volume business operations (plain Python: no HTTP, no Celery). Errors are the compute
app's CloudError family (Invalid 400, NotFound 404, Conflict 409, OverQuota), so both the
Block Storage and the Compute API map them the same way."""

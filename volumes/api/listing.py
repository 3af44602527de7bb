"""Cinder's list parameters for volumes and snapshots: `limit`, `marker`, `offset`, `sort`
(`key[:dir],...`) or `sort_key`/`sort_dir`, and the `<collection>_links` next link of a full
page (as Cinder, also when it happens to be the last: the next one is then empty). Bad values
are a 400 (badRequest), as Cinder: a limit or offset that is not a non-negative integer, an
unknown sort key or direction; a marker that is not in the list is a 404 (Cinder's
MarkerNotFound).
"""
from urllib.parse import urlencode

from cloudproj.api.errors import BadRequest, NotFound
from identity.services import catalog

MAX_LIMIT = 1000
DIRECTIONS = ("asc", "desc")


def _int(value: str, name: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise BadRequest(f"Invalid input received: {name} param must be an integer, got {value!r}.")
    number = int(text)
    if number > 2**31 - 1:
        raise BadRequest(f"Invalid input received: {name} param is too large.")
    return number


def sort_spec(params, keys: dict) -> list[str]:
    """The ORM ordering the request asks for (default: newest first)."""
    pairs = []
    if "sort" in params:
        if "sort_key" in params or "sort_dir" in params:
            raise BadRequest("Invalid input received: the 'sort_key' and 'sort_dir' parameters are deprecated "
                             "and cannot be used with the 'sort' parameter.")
        for item in params["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key.strip(), direction.strip().lower() or "desc"))
    elif "sort_key" in params or "sort_dir" in params:
        pairs.append((params.get("sort_key", "created_at").strip(), params.get("sort_dir", "desc").strip().lower()))
    if not pairs:
        return ["-created_at", "-id"]
    ordering = []
    for key, direction in pairs:
        if key not in keys:
            raise BadRequest(f"Invalid input received: Invalid sort key {key!r}.")
        if direction not in DIRECTIONS:
            raise BadRequest(f"Invalid input received: Unknown sort direction {direction!r}, must be 'desc' or "
                             f"'asc'.")
        ordering.append(("-" if direction == "desc" else "") + keys[key])
    return [*ordering, "-id"]


def paginate(request, queryset, keys: dict, collection: str, project_id: str):
    """(page of rows, links): validated sort, marker (a row's uuid), offset and limit."""
    params = request.query_params
    limit = _int(params["limit"], "limit") if "limit" in params else None
    offset = _int(params["offset"], "offset") if "offset" in params else 0
    rows = list(queryset.order_by(*sort_spec(params, keys)))
    if "marker" in params:
        marker = params["marker"]
        index = next((i for i, row in enumerate(rows) if str(row.uuid) == marker), None)
        if index is None:
            raise NotFound(f"Marker {marker} could not be found.")
        rows = rows[index + 1:]
    rows = rows[offset:]
    page_size = min(limit if limit is not None else MAX_LIMIT, MAX_LIMIT)
    page = rows[:page_size]
    links = []
    # Cinder: a full page has a next link, even when nothing follows (the next page is empty)
    if page and len(page) == page_size:
        query = {k: v for k, v in params.items() if k not in ("marker", "offset")}
        query.update({"limit": page_size, "marker": str(page[-1].uuid)})
        base = catalog.base_url(request)
        links.append({"rel": "next", "href": f"{base}/volume/v3/{project_id}/{collection}?{urlencode(query)}"})
    return page, links

"""Request bodies of the security group calls.

Nova's shape is `{"security_group": {...}}` / `{"security_group_rule": {...}}` (novaclient,
openstacksdk). python-openstackclient's nova-network calls (`openstackclient.api.
compute_v2`) send the same fields unwrapped and form-encoded; both are accepted so that
client works unchanged.
"""
from rest_framework.parsers import FormParser

from cloudproj.api.errors import BadRequest
from cloudproj.api.parsers import StrictJSONParser

PARSERS = [StrictJSONParser, FormParser]


def body(view, key: str, allowed: set, required: set = frozenset()) -> dict:
    data = view.request.data
    if hasattr(data, "dict"):  # a form: flat fields
        data = data.dict()
        if any("\x00" in str(k) + str(v) for k, v in data.items()):
            raise BadRequest("NUL characters are not allowed in the request body.")
    if isinstance(data, dict) and key in data:
        return view.body(key, allowed, required)
    if isinstance(data, dict) and data and set(data) <= set(allowed):
        missing = sorted(set(required) - set(data))
        if missing:
            raise BadRequest(f"Invalid input for field/attribute {key}: '{missing[0]}' is a required property.")
        return data
    raise BadRequest(f"Invalid input: '{key}' is a required property.")

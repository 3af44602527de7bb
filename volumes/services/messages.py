"""User messages (Cinder's /messages, microversion 3.3): when an asynchronous request on a volume
or snapshot fails (no host to put it on, the host's driver failed), the owning project gets a
message saying which action failed and why, as Cinder's message_field: event id
`VOLUME_<resource type>_<action id>_<detail id>` and "<action>: <detail>". Messages live
MESSAGE_TTL (Cinder's message_ttl, 30 days); expired ones are neither listed nor shown.
"""
import datetime
import logging
import uuid as uuid_lib

from django.utils import timezone

from cloudproj.exceptions import NotFound
from cloudproj.middleware import current_request_id

from ..models import Message

log = logging.getLogger(__name__)

MESSAGE_TTL = datetime.timedelta(days=30)
VOLUME, SNAPSHOT = "VOLUME", "VOLUME_SNAPSHOT"

# Cinder's message_field: (id, description)
SCHEDULE_ALLOCATE_VOLUME = ("001", "schedule allocate volume")
COPY_VOLUME_TO_IMAGE = ("004", "copy volume to image")
COPY_IMAGE_TO_VOLUME = ("005", "copy image to volume")
EXTEND_VOLUME = ("007", "extend volume")
CREATE_VOLUME_FROM_BACKEND = ("008", "create volume from backend storage")
SNAPSHOT_CREATE = ("009", "create snapshot")
SNAPSHOT_DELETE = ("010", "delete snapshot")
DELETE_VOLUME = ("013", "delete volume")

UNKNOWN_ERROR = ("001", "An unknown error occurred.")
NO_BACKEND_AVAILABLE = ("003", "Could not find any available weighted backend.")
DRIVER_FAILED_EXTEND = ("010", "Volume Driver failed to extend volume.")
DRIVER_FAILED_CREATE = ("012", "Driver failed to create the volume.")
IMAGE_FAILED = ("019", "The image could not be written into the volume.")
UPLOAD_FAILED = ("020", "The volume could not be copied into the image.")


def record(project_id: str, resource_type: str, resource_uuid, action: tuple, detail: tuple) -> Message | None:
    """Leave a message for the project; never lets the failure it reports fail worse."""
    request_id = current_request_id.get()
    if not request_id or request_id == "-":
        request_id = f"req-{uuid_lib.uuid4()}"
    try:
        return Message.objects.create(
            project_id=project_id, request_id=request_id, resource_type=resource_type,
            resource_uuid=str(resource_uuid or ""), event_id=f"VOLUME_{resource_type}_{action[0]}_{detail[0]}",
            detail=f"{action[1]}: {detail[1]}", expires_at=timezone.now() + MESSAGE_TTL,
        )
    except Exception:  # a message is a courtesy; the status change is what matters
        log.exception("could not record a user message for %s %s", resource_type, resource_uuid)
        return None


def messages_for(ctx, filters: dict | None = None):
    qs = Message.objects.filter(expires_at__gt=timezone.now())
    if not ctx.is_admin:
        qs = qs.filter(project_id=ctx.project_id)
    filters = filters or {}
    for key in ("resource_type", "resource_uuid", "event_id", "message_level", "request_id"):
        if key in filters:
            qs = qs.filter(**{key: filters[key]})
    return qs


def get_message(ctx, message_id) -> Message:
    try:
        key = uuid_lib.UUID(str(message_id))
    except ValueError:
        raise NotFound(f"Message {message_id} could not be found.") from None
    message = messages_for(ctx).filter(uuid=key).first()
    if message is None:
        raise NotFound(f"Message {message_id} could not be found.")
    return message


def delete_message(message: Message) -> None:
    Message.objects.filter(pk=message.pk).delete()

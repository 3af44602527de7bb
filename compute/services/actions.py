"""Instance faults, actions and action events (what `os-instance-actions` shows).

    action = start_action(instance, "create", ctx)        # in the API request
    action = get_action(instance, request_id)             # in a task, from the message's ids
    with event(action, "schedule", host=None):            # records start/finish/result/traceback
        ...
    finish_action(action)
    record_fault(instance, exc, code=500, host="host-a")
"""
import traceback as tb_lib
from contextlib import contextmanager

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ..models import Instance, InstanceAction, InstanceActionEvent, InstanceFault
from cloudproj.exceptions import CloudError

MESSAGE_MAX = 255


def _ids(ctx, request_id, user_id, project_id):
    if ctx is not None:
        request_id = request_id or getattr(ctx, "request_id", None)
        user_id = user_id or getattr(ctx, "user_id", None)
        project_id = project_id or getattr(ctx, "project_id", None)
    return request_id or "-", user_id, project_id


def start_action(instance: Instance, action: str, ctx=None, request_id=None, user_id=None, project_id=None):
    request_id, user_id, project_id = _ids(ctx, request_id, user_id, project_id)
    return InstanceAction.objects.create(
        instance=instance, action=action, request_id=request_id, user_id=user_id,
        project_id=project_id or instance.project_id,
    )


def get_action(instance, request_id: str, action: str | None = None):
    """The latest action of `instance` for `request_id` (None if there is none)."""
    qs = InstanceAction.objects.filter(instance_id=getattr(instance, "pk", instance), request_id=request_id)
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-start_time", "-id").first()


def latest_action_id(request_id: str) -> Subquery:
    """For an Instance query: the id of get_action(instance, request_id), in the same query."""
    return Subquery(InstanceAction.objects.filter(instance_id=OuterRef("pk"), request_id=request_id)
                    .order_by("-start_time", "-id").values("id")[:1])


def action_handle(action_id: int | None, instance, request_id: str) -> InstanceAction | None:
    """The action row `action_id` of `instance` without reading it again: enough for
    event(), finish_action() and the request id (its other fields are not loaded)."""
    if action_id is None:
        return None
    action = InstanceAction(id=action_id, instance=instance, request_id=request_id)
    action._state.adding = False
    return action


def finish_action(action: InstanceAction, message: str | None = None) -> InstanceAction:
    action.finish_time = timezone.now()
    fields = ["finish_time", "updated_at"]
    if message is not None:
        action.message = message[:MESSAGE_MAX]
        fields.append("message")
    action.save(update_fields=fields)
    return action


def event_start(action: InstanceAction, name: str, host: str | None = None) -> InstanceActionEvent:
    return InstanceActionEvent.objects.create(action=action, event=name, host=host)


def event_finish(evt: InstanceActionEvent, exc: BaseException | None = None, details: str | None = None):
    evt.finish_time = timezone.now()
    if exc is None:
        evt.result = "Success"
    else:
        evt.result = "Error"
        evt.traceback = "".join(tb_lib.format_exception(type(exc), exc, exc.__traceback__))
        evt.details = details or _message(exc)
        InstanceAction.objects.filter(pk=evt.action_id).update(message="Error", updated_at=timezone.now())
    evt.save()
    return evt


@contextmanager
def event(action: InstanceAction | None, name: str, host: str | None = None):
    """Record one step: start now; on exit finish with Success, or Error + traceback (the
    exception propagates). `action` None (no action recorded for this request) is a no-op."""
    if action is None:
        yield None
        return
    evt = event_start(action, name, host)
    try:
        yield evt
    except BaseException as exc:
        event_finish(evt, exc)
        raise
    event_finish(evt)


def list_actions(instance):
    return InstanceAction.objects.filter(instance=instance).order_by("-start_time", "-id")


def list_events(action):
    return InstanceActionEvent.objects.filter(action=action).order_by("start_time", "id")


# --- faults ------------------------------------------------------------------------------------


def _message(exc_or_message) -> str:
    if isinstance(exc_or_message, BaseException):
        message = getattr(exc_or_message, "message", None) or str(exc_or_message) or type(exc_or_message).__name__
    else:
        message = str(exc_or_message)
    return message


def record_fault(instance: Instance, exc_or_message, code: int | None = None, host: str | None = None,
                 details: str | None = None) -> InstanceFault:
    """Store a fault: the message (≤255 characters; the rest goes to details), the code
    (the CloudError's code when not given, else 500) and the traceback of an exception."""
    message = _message(exc_or_message)
    if code is None:
        code = exc_or_message.code if isinstance(exc_or_message, CloudError) else 500
    if details is None:
        details = ""
        if isinstance(exc_or_message, BaseException) and exc_or_message.__traceback__ is not None:
            details = "".join(
                tb_lib.format_exception(type(exc_or_message), exc_or_message, exc_or_message.__traceback__)
            )
        elif len(message) > MESSAGE_MAX:
            details = message
    return InstanceFault.objects.create(
        instance=instance, code=code, message=message[:MESSAGE_MAX], details=details,
        host=host if host is not None else instance.host,
    )


def latest_fault(instance) -> InstanceFault | None:
    return InstanceFault.objects.filter(instance_id=getattr(instance, "pk", instance)).order_by("-created_at", "-id").first()

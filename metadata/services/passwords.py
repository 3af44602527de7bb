"""Server passwords (Nova's metadata password handler and os-server-password).

    get(instance_uuid) -> str            "" when the guest posted none
    post(instance_uuid, body: bytes)     once: PasswordExists (409) after, PasswordTooLarge (400)
    clear(instance_uuid)                 the owner's DELETE: the guest may post again
"""
from django.db import IntegrityError, transaction

from ..models import ServerPassword

MAX_SIZE = 4 * 255  # Nova: four chunks of 255 characters of system metadata


class PasswordExists(Exception):
    pass


class PasswordTooLarge(Exception):
    pass


def get(instance_uuid) -> str:
    row = ServerPassword.objects.filter(instance_uuid=instance_uuid).first()
    return row.password if row else ""


def post(instance_uuid, body: bytes) -> None:
    if len(body) > MAX_SIZE:
        raise PasswordTooLarge(f"Request is too large (at most {MAX_SIZE} bytes).")
    text = body.decode("utf-8", errors="replace")
    if "\x00" in text:
        raise PasswordTooLarge("A password cannot hold NUL characters.")
    try:
        with transaction.atomic():
            ServerPassword.objects.create(instance_uuid=instance_uuid, password=text)
    except IntegrityError:
        raise PasswordExists("The password was already set.") from None


def clear(instance_uuid) -> None:
    ServerPassword.objects.filter(instance_uuid=instance_uuid).delete()

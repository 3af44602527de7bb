"""Volume transfers (Cinder's os-volume-transfer): a project offers one of its volumes, another
takes it with the transfer's id and secret key.

create: the volume must be available and not in the middle of anything, its snapshots
    available; it becomes `awaiting-transfer` (nothing else may happen to it meanwhile) and
    the key is returned once (only a salted SHA-256 of it is kept).
accept: another project's member (or the same project's) gives the key; the volume and its
    snapshots move to the accepting project and user, the quota usage (`volumes`, `snapshots`,
    `gigabytes`) moves with them in the same transaction (over the taker's quota: 413, nothing
    moves); the volume is available again, the transfer gone.
delete: the offering project takes the offer back; the volume is available again.
"""
import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from cloudproj.exceptions import Invalid, NotFound

from .. import states
from ..models import Snapshot, Volume, VolumeTransfer
from .volumes import _uuid, give_back, reserve, transition, type_name, validate_text, with_type

KEY_LENGTH = 16


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256((salt + key).encode()).hexdigest()


def transfers_for(ctx, all_tenants: bool = False):
    qs = VolumeTransfer.objects.select_related("volume")
    if not (all_tenants and ctx.is_admin):
        qs = qs.filter(volume__project_id=ctx.project_id)
    return qs


def get_transfer(ctx, transfer_id, for_accept: bool = False) -> VolumeTransfer:
    """The transfer by id: the offering project's (any for admins); `for_accept`: anyone's
    (the key is what proves the right to it)."""
    transfer = VolumeTransfer.objects.select_related("volume").filter(uuid=_uuid(transfer_id, "Transfer")).first()
    if transfer is None or not (for_accept or ctx.is_admin or transfer.volume.project_id == ctx.project_id):
        raise NotFound(f"Transfer {transfer_id} could not be found.")
    return transfer


def create_transfer(ctx, volume: Volume, name=None) -> tuple[VolumeTransfer, str]:
    name = validate_text(name, "name")
    with transaction.atomic():
        locked = Volume.objects.select_for_update().get(pk=volume.pk)
        if locked.status != states.AVAILABLE:
            raise Invalid(f"Invalid volume: Status of volume {volume.uuid} must be available, but it is "
                          f"{locked.status}.")
        busy = Snapshot.objects.filter(volume=locked).exclude(status=states.AVAILABLE).first()
        if busy is not None:
            raise Invalid(f"Invalid volume: Snapshot {busy.uuid} of volume {volume.uuid} is {busy.status}; "
                          "a volume is transferred with its snapshots, all available.")
        key = secrets.token_hex(KEY_LENGTH // 2)
        salt = secrets.token_hex(8)
        transfer = VolumeTransfer.objects.create(volume=locked, name=name, salt=salt, key_hash=_hash(salt, key))
        transition(Volume, locked.pk, (states.AVAILABLE,), states.AWAITING_TRANSFER)
    return transfer, key


def delete_transfer(transfer: VolumeTransfer) -> None:
    with transaction.atomic():
        VolumeTransfer.objects.filter(pk=transfer.pk).delete()
        transition(Volume, transfer.volume_id, (states.AWAITING_TRANSFER,), states.AVAILABLE)


def accept_transfer(ctx, transfer: VolumeTransfer, auth_key) -> Volume:
    if not isinstance(auth_key, str) or not hmac.compare_digest(_hash(transfer.salt, auth_key), transfer.key_hash):
        raise Invalid(f"Invalid auth key: Attempt to transfer {transfer.uuid} with invalid auth key.")
    with transaction.atomic():
        locked = VolumeTransfer.objects.select_for_update().filter(pk=transfer.pk).first()
        if locked is None:  # accepted or taken back meanwhile
            raise NotFound(f"Transfer {transfer.uuid} could not be found.")
        volume = Volume.objects.select_for_update().get(pk=transfer.volume_id)
        snapshots = list(Snapshot.objects.select_for_update().filter(volume=volume))
        gigabytes = volume.size + sum(s.size for s in snapshots)
        deltas = {"volumes": 1, "gigabytes": gigabytes}
        if snapshots:
            deltas["snapshots"] = len(snapshots)
        donor = volume.project_id
        if donor != ctx.project_id:
            deltas = with_type(deltas, type_name(volume))
            reserve(ctx.project_id, deltas, gigabytes)  # 413 over the taker's quota: nothing moves
            give_back(donor, deltas)
        now = timezone.now()
        Snapshot.objects.filter(volume=volume).update(project_id=ctx.project_id, user_id=ctx.user_id, updated_at=now)
        Volume.objects.filter(pk=volume.pk).update(project_id=ctx.project_id, user_id=ctx.user_id,
                                                   status=states.AVAILABLE, updated_at=now)
        locked.delete()
    volume.refresh_from_db()
    return volume

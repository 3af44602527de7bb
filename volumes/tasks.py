"""Thin Celery tasks of the volumes app. Storage work runs on `volume.<host>` (the volume's
host); attaching and detaching run on `compute.<host>` of the server's host and answer
(cloudproj.rpc.call), because the API reports the device. Messages carry ids only."""
from celery import shared_task

from cloudproj import task_names as names
from cloudproj.host.identity import current_host

from .services import attachments_host, host


@shared_task(name=names.CREATE_VOLUME, acks_late=True)
def create_volume(volume_id: int) -> str:
    return host.create_volume(volume_id)


@shared_task(name=names.DELETE_VOLUME, acks_late=True)
def delete_volume(volume_id: int) -> str:
    return host.delete_volume(volume_id)


@shared_task(name=names.EXTEND_VOLUME, acks_late=True)
def extend_volume(volume_id: int, new_size: int) -> str:
    return host.extend_volume(volume_id, new_size)


@shared_task(name=names.UPLOAD_VOLUME_TO_IMAGE, acks_late=True)
def upload_to_image(volume_id: int, image_id: str) -> str:
    return host.upload_to_image(volume_id, image_id)


@shared_task(name=names.CREATE_VOLUME_SNAPSHOT, acks_late=True)
def create_snapshot(snapshot_id: int) -> str:
    return host.create_snapshot(snapshot_id)


@shared_task(name=names.DELETE_VOLUME_SNAPSHOT, acks_late=True)
def delete_snapshot(snapshot_id: int) -> str:
    return host.delete_snapshot(snapshot_id)


@shared_task(name=names.REPORT_VOLUME_CAPACITY, ignore_result=False)
def report_capacity(host_name: str | None = None) -> dict:
    row = host.report_capacity(host_name or current_host())
    return {"host": row.host, "driver": row.driver, "total_gb": row.total_gb, "free_gb": row.free_gb}


@shared_task(name=names.ATTACH_VOLUME_ON_HOST, ignore_result=False)
def attach_on_host(attachment_id: int) -> str:
    return attachments_host.attach_on_host(attachment_id)


@shared_task(name=names.DETACH_VOLUME_ON_HOST, ignore_result=False)
def detach_on_host(attachment_id: int) -> bool:
    return attachments_host.detach_on_host(attachment_id)


@shared_task(name=names.EXPORT_VOLUME, ignore_result=False)
def export_volume(attachment_id: int) -> dict:
    return attachments_host.export_on_volume_host(attachment_id)


@shared_task(name=names.UNEXPORT_VOLUME, acks_late=True)
def unexport_volume(volume_id: int) -> bool:
    return attachments_host.unexport_on_volume_host(volume_id)

"""QoS specs (Cinder's qos-specs): named key/value sets for a consumer, associated with volume
types. Stored only: no volume driver here enforces them."""
import uuid as uuid_lib

from django.db import IntegrityError, transaction

from cloudproj.exceptions import Conflict, Invalid, NotFound

from ..models import QosSpecs, VolumeType

CONSUMERS = ("front-end", "back-end", "both")


def _check_specs(specs: dict) -> dict:
    clean = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 255:
            raise Invalid(f"Invalid QoS specs key {key!r}.")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or len(str(value)) > 255:
            raise Invalid(f"Invalid value for QoS specs key {key}: a string is expected.")
        clean[key] = str(value)
    return clean


def _check_consumer(consumer) -> str:
    if consumer not in CONSUMERS:
        raise Invalid(f"Invalid consumer {consumer!r}: must be one of {', '.join(CONSUMERS)}.")
    return consumer


def get(qos_id) -> QosSpecs:
    try:
        row = QosSpecs.objects.filter(uuid=uuid_lib.UUID(str(qos_id))).first()
    except ValueError:
        row = None
    if row is None:
        raise NotFound(f"QoS specs {qos_id} could not be found.")
    return row


def create(name, consumer, specs: dict) -> QosSpecs:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise Invalid("QoS specs name must be a non-empty string of at most 255 characters.")
    values = _check_specs(specs)
    try:
        with transaction.atomic():
            return QosSpecs.objects.create(name=name.strip(), consumer=_check_consumer(consumer), specs=values)
    except IntegrityError:
        raise Conflict(f"QoS specs {name} already exists.") from None


def set_keys(row: QosSpecs, specs: dict) -> dict:
    """Add or change keys (`consumer` changes the consumer); returns what was set."""
    specs = dict(specs)
    consumer = specs.pop("consumer", None)
    values = _check_specs(specs)
    with transaction.atomic():
        row = QosSpecs.objects.select_for_update().get(pk=row.pk)
        if consumer is not None:
            row.consumer = _check_consumer(consumer)
        row.specs = {**row.specs, **values}
        row.save(update_fields=["consumer", "specs"])
    return {**values, **({"consumer": consumer} if consumer is not None else {})}


def delete_keys(row: QosSpecs, keys) -> None:
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise Invalid("'keys' must be a list of strings.")
    with transaction.atomic():
        row = QosSpecs.objects.select_for_update().get(pk=row.pk)
        missing = [k for k in keys if k not in row.specs]
        if missing:
            raise NotFound(f"QoS spec {missing[0]} cannot be found.")
        row.specs = {k: v for k, v in row.specs.items() if k not in keys}
        row.save(update_fields=["specs"])


def delete(row: QosSpecs, force: bool) -> None:
    with transaction.atomic():
        if row.volume_types.exists() and not force:
            raise Invalid(f"QoS specs {row.uuid} is still associated with entities.")
        VolumeType.objects.filter(qos_specs=row).update(qos_specs=None)
        row.delete()


def associate(row: QosSpecs, vtype: VolumeType) -> None:
    with transaction.atomic():
        vtype = VolumeType.objects.select_for_update().get(pk=vtype.pk)
        if vtype.qos_specs_id not in (None, row.pk):
            raise Invalid(f"Type {vtype.uuid} is already associated with another qos specs: "
                          f"{vtype.qos_specs.uuid}")
        vtype.qos_specs = row
        vtype.save(update_fields=["qos_specs", "updated_at"])


def disassociate(row: QosSpecs, vtype: VolumeType | None = None) -> None:
    rows = VolumeType.objects.filter(qos_specs=row)
    if vtype is not None:
        rows = rows.filter(pk=vtype.pk)
    rows.update(qos_specs=None)

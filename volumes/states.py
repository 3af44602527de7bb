"""Volume and snapshot statuses (Cinder's names) and which operation each allows."""

CREATING = "creating"
AVAILABLE = "available"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
DELETING = "deleting"
EXTENDING = "extending"
ERROR = "error"
ERROR_DELETING = "error_deleting"
ERROR_EXTENDING = "error_extending"
DELETED = "deleted"
MAINTENANCE = "maintenance"  # only an admin's os-reset_status sets it (Cinder's)
AWAITING_TRANSFER = "awaiting-transfer"  # offered to another project (os-volume-transfer)
UPLOADING = "uploading"  # copied into a new image by its host (os-volume_upload_image)

VOLUME_STATUSES = (
    CREATING, AVAILABLE, ATTACHING, IN_USE, DETACHING, DELETING, EXTENDING,
    ERROR, ERROR_DELETING, ERROR_EXTENDING, DELETED, MAINTENANCE, AWAITING_TRANSFER, UPLOADING,
)
SNAPSHOT_STATUSES = (CREATING, AVAILABLE, DELETING, ERROR, ERROR_DELETING, DELETED)

# statuses from which a volume may be deleted (Cinder: not attached, not busy)
DELETABLE = (AVAILABLE, ERROR, ERROR_DELETING, ERROR_EXTENDING)
SNAPSHOT_DELETABLE = (AVAILABLE, ERROR, ERROR_DELETING)

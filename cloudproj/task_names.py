"""Every Celery task name, defined once. The tasks modules register under these
(`@shared_task(name=...)`), cloudproj.rpc sends to them, beat's schedule in settings names
them. A leaf module (no imports) so that settings can import it too."""

# compute: the boot pipeline (queue `scheduler`, then compute.<host>)
SCHEDULE_INSTANCE = "compute.schedule_instance"
ALLOCATE_IP = "compute.allocate_ip"
FETCH_IMAGE = "compute.fetch_image"
SPAWN = "compute.spawn"
HOST_STEP_TASKS = {"allocate_ip": ALLOCATE_IP, "fetch_image": FETCH_IMAGE, "spawn": SPAWN}

# compute: on the instance's host (compute.<host>)
PING = "compute.ping"
INSTANCE_ACTION = "compute.instance_action"
SNAPSHOT_INSTANCE = "compute.snapshot_instance"
TERMINATE_INSTANCE = "compute.terminate_instance"
ABORT_BUILD = "compute.abort_build"
REAP_DELETED_INSTANCE = "compute.reap_deleted_instance"
LIST_DOMAINS = "compute.list_domains"
GET_CONSOLE_OUTPUT = "compute.get_console_output"
GET_VNC_CONSOLE = "compute.get_vnc_console"
GET_DIAGNOSTICS = "compute.get_diagnostics"
HOST_UPTIME = "compute.host_uptime"
CLEANUP_IMAGE_CACHE = "compute.cleanup_image_cache"
SYNC_POWER_STATES = "compute.sync_power_states"
RUNNING_DELETED_INSTANCES = "compute.running_deleted_instances"
# compute: resize (prep on `scheduler`, the steps on compute.<source or destination host>)
PREP_RESIZE = "compute.prep_resize"
RESIZE_STEP_TASKS = {
    "resize_instance": "compute.resize_instance", "finish_resize": "compute.finish_resize",
    "confirm_on_source": "compute.confirm_resize", "revert_on_dest": "compute.revert_resize",
    "finish_revert": "compute.finish_revert_resize", "clean_source": "compute.resize_clean_source",
}
CONFIRM_EXPIRED_RESIZES = "compute.confirm_expired_resizes"
# compute: live migration (the target claimed on `scheduler`, then prepare on the target, the move
# on the source, a rollback on the target)
LIVE_MIGRATION_SCHEDULE = "compute.live_migration_schedule"
LIVE_MIGRATION_STEP_TASKS = {
    "prepare": "compute.live_migration_prepare", "migrate": "compute.live_migration_run",
    "rollback": "compute.live_migration_rollback",
}
# compute: unshelve of an offloaded server (`scheduler`, then compute.<chosen host>)
UNSHELVE_SCHEDULE = "compute.unshelve_schedule"
UNSHELVE_SPAWN = "compute.unshelve_spawn"
# compute: evacuation of a server whose host is down (`scheduler`, then compute.<chosen host>)
EVACUATE_SCHEDULE = "compute.evacuate_schedule"
EVACUATE_SPAWN = "compute.evacuate_spawn"

# compute: periodic, on `scheduler` (beat)
FAN_OUT_HOST_TASK = "compute.fan_out_host_task"
REAP_STUCK_BUILDS = "compute.reap_stuck_builds"
RECLAIM_SOFT_DELETED = "compute.reclaim_soft_deleted"

# network (network.<host>)
SETUP_NETWORK = "network.setup_network"
REFRESH_DHCP = "network.refresh_dhcp"
TEARDOWN_NETWORK = "network.teardown_network"
SUPERVISE_NETWORKS = "network.supervise"
CLEANUP_NETWORK_ORPHANS = "network.cleanup_orphans"

# secgroups (compute.<host>) and floating (network.<host>)
REFRESH_INSTANCE_SECURITY_GROUPS = "secgroups.refresh_instance"
SYNC_FLOATING_IPS = "floating.sync_host"

# volumes: storage on volume.<host>, attach/detach on the server's compute.<host>
CREATE_VOLUME = "volumes.create_volume"
DELETE_VOLUME = "volumes.delete_volume"
EXTEND_VOLUME = "volumes.extend_volume"
CREATE_VOLUME_SNAPSHOT = "volumes.create_snapshot"
DELETE_VOLUME_SNAPSHOT = "volumes.delete_snapshot"
REPORT_VOLUME_CAPACITY = "volumes.report_capacity"
ATTACH_VOLUME_ON_HOST = "volumes.attach_on_host"
DETACH_VOLUME_ON_HOST = "volumes.detach_on_host"
EXPORT_VOLUME = "volumes.export_volume"
UNEXPORT_VOLUME = "volumes.unexport_volume"
UPLOAD_VOLUME_TO_IMAGE = "volumes.upload_to_image"

# periodic housekeeping on `scheduler` (beat)
EXPIRE_QUOTA_RESERVATIONS = "identity.expire_quota_reservations"
PURGE_EXPIRED_TOKENS = "identity.purge_expired_tokens"
REFRESH_QUOTA_USAGES = "identity.refresh_quota_usages"
PURGE_EXPIRED_CONSOLE_TOKENS = "consoles.purge_expired_tokens"
REAP_STALLED_IMAGE_UPLOADS = "images.reap_stalled_uploads"

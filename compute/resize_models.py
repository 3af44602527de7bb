"""The state of an instance's resize while it is in flight (Nova keeps it in a Migration row
and the instance's old/new flavor; the Migration model and GET /os-migrations are another
part of the issue). Imported by compute/models.py so that Django sees it (string references back: no
import cycle).

One row per instance, from the resize request until it is confirmed or reverted (then the
row is deleted). It holds the old and new flavor, the source and destination, and the
destination's capacity claim for the new flavor (vcpus/RAM/disk added to that node's usage
while the instance's own Claim still holds the old flavor on the source).
"""
from django.db import models


class InstanceResize(models.Model):
    PRE_MIGRATING = "pre-migrating"   # asked for; the scheduler picks a destination
    MIGRATING = "migrating"           # the destination is claimed; the source powers off
    POST_MIGRATING = "post-migrating"  # the disk is on the destination; it spawns there
    FINISHED = "finished"             # VERIFY_RESIZE: waits for confirm or revert
    REVERTING = "reverting"           # back to the old flavor on the source
    CONFIRMING = "confirming"         # the source's old files and claim go
    ROLLING_BACK = "rolling-back"     # the target failed and let go: the source takes the guest back
    STATUSES = (PRE_MIGRATING, MIGRATING, POST_MIGRATING, FINISHED, REVERTING, CONFIRMING, ROLLING_BACK)

    RESIZE = "resize"                 # a new flavor (on the same host when allowed)
    MIGRATION = "migration"           # cold migration: the same flavor, another host
    LIVE = "live-migration"           # live migration: the guest keeps running (live_migration.py)
    KINDS = (RESIZE, MIGRATION, LIVE)

    instance = models.OneToOneField("compute.Instance", on_delete=models.CASCADE, related_name="resize")
    kind = models.CharField(max_length=16, choices=[(k, k) for k in KINDS], default=RESIZE)
    # a cold migration's host named by an admin (None: the scheduler chooses)
    requested_host = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=32, choices=[(s, s) for s in STATUSES], default=PRE_MIGRATING)
    request_id = models.CharField(max_length=255)
    old_flavor = models.JSONField(default=dict)
    new_flavor = models.JSONField(default=dict)
    # the vm_state to come back to (active or stopped) and whether the guest ran
    old_vm_state = models.CharField(max_length=255)
    source_host = models.CharField(max_length=255)
    source_node = models.CharField(max_length=255, null=True, blank=True)
    dest_host = models.CharField(max_length=255, null=True, blank=True)
    dest_node = models.CharField(max_length=255, null=True, blank=True)
    # the destination claim (None: not claimed, or released)
    dest_compute_node = models.ForeignKey("compute.ComputeNode", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    claim_vcpus = models.IntegerField(default=0)
    claim_memory_mb = models.IntegerField(default=0)
    claim_disk_gb = models.IntegerField(default=0)
    claim_instances = models.IntegerField(default=0)
    # cores/ram committed to the project's quota for the resize (the growth, none for a shrink)
    quota_cores = models.IntegerField(default=0)
    quota_ram = models.IntegerField(default=0)
    # the compute.Migration row os-migrations lists for this resize (kept after the resize)
    migration_id = models.IntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # a live migration: what the target prepared (its libvirt URI, migration address, folders)
    live = models.JSONField(default=dict, blank=True)
    # a live migration: "abort" or "force_complete" asked by an admin while it runs
    live_request = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"resize of {self.instance_id}: {self.source_host} -> {self.dest_host} ({self.status})"

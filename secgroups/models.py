"""Security groups (nova-network's): named sets of allow rules per project, and which
instances are members of which groups.

- SecurityGroup: unique name per project; every project has a `default` group, created on
  first use, whose rules let members of `default` reach each other and send anything
  (everything else inbound is denied). `uuid` is the id both APIs show.
- SecurityGroupRule: allow rule of a group, `direction` ingress (traffic to the members) or
  egress (traffic the members send): protocol tcp/udp/icmp (or none = every protocol), port
  range (icmp: type/code, -1 = any), and the remote side: a CIDR or the members of a remote
  group. Only IPv4 (`ethertype`). A new group gets Neutron's default egress rule (IPv4 to
  anywhere, every protocol); Neutron's IPv6 egress default is not created (no IPv6 here).
  Egress is enforced: deleting every egress rule of a server's groups blocks what it sends
  (replies to inbound traffic excepted).
- SecurityGroupMember: an instance in a group. `Instance.security_groups` keeps a copy of
  the names for the server views; this table is what the hosts enforce.
"""
import ipaddress
import uuid as uuid_lib

from django.db import models
from django.utils import timezone

DEFAULT_GROUP = "default"
PROTOCOLS = ("tcp", "udp", "icmp")
INGRESS, EGRESS = "ingress", "egress"
DIRECTIONS = (INGRESS, EGRESS)
IPV4 = "IPv4"


class SecurityGroup(models.Model):
    uuid = models.UUIDField(default=uuid_lib.uuid4, unique=True, editable=False)
    project = models.ForeignKey("identity.Project", on_delete=models.CASCADE, related_name="security_groups")
    name = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True, default="")
    # Neutron's revision_number: +1 on every change of the group or of its rules
    revision_number = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="secgroup_name_unique_per_project"),
        ]

    def __str__(self):
        return f"{self.name} ({self.project_id})"

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_GROUP

    @property
    def neutron_id(self) -> str:
        """The id both APIs show (network/api/neutron/ports.py reads this name)."""
        return str(self.uuid)


class SecurityGroupRule(models.Model):
    uuid = models.UUIDField(default=uuid_lib.uuid4, unique=True, editable=False)
    parent_group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE, related_name="rules")
    direction = models.CharField(max_length=7, default=INGRESS, choices=[(d, d) for d in DIRECTIONS])
    ethertype = models.CharField(max_length=4, default=IPV4, choices=[(IPV4, IPV4)])
    description = models.CharField(max_length=255, blank=True, default="")
    protocol = models.CharField(max_length=4, null=True, blank=True, choices=[(p, p) for p in PROTOCOLS])
    from_port = models.IntegerField(null=True, blank=True)
    to_port = models.IntegerField(null=True, blank=True)
    # the remote prefix as the client gave it (10.2.3.124/24 stays so, as in Nova and Neutron);
    # `network` is what it allows (10.2.3.0/24)
    cidr = models.CharField(max_length=43, null=True, blank=True)
    # the remote group: its members' fixed addresses are the allowed sources (ingress) or
    # destinations (egress)
    group = models.ForeignKey(
        SecurityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="granted_rules"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cidr__isnull=True) | models.Q(group__isnull=True),
                name="secgroup_rule_cidr_or_group",
            ),
        ]

    @property
    def network(self) -> str | None:
        """The remote prefix's network (Neutron's `normalized_cidr`), None for a remote group."""
        return str(ipaddress.ip_network(self.cidr, strict=False)) if self.cidr else None

    def __str__(self):
        remote = self.cidr or f"group {self.group_id}"
        way = "from" if self.direction == INGRESS else "to"
        return f"{self.direction} {self.protocol or 'any'} {self.from_port}:{self.to_port} {way} {remote}"

    @property
    def project_id(self) -> str:
        """A rule belongs to its group's project."""
        return self.parent_group.project_id


class SecurityGroupMember(models.Model):
    security_group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE, related_name="members")
    instance = models.ForeignKey("compute.Instance", on_delete=models.CASCADE, related_name="security_group_members")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["security_group", "instance"], name="secgroup_member_unique"),
        ]

    def __str__(self):
        return f"{self.instance_id} in {self.security_group_id}"

"""Security groups (nova-network's): named sets of allow rules per project, and which
instances are members of which groups.

- SecurityGroup: unique name per project; every project has a `default` group, created on
  first use, whose one rule lets members of `default` reach each other (everything else
  inbound is denied; outbound is always allowed).
- SecurityGroupRule: inbound allow rule of a group: protocol tcp/udp/icmp (or none = every
  protocol, only for source-group rules), port range (icmp: type/code, -1 = any), and the
  source: a CIDR or the members of a source group.
- SecurityGroupMember: an instance in a group. `Instance.security_groups` keeps a copy of
  the names for the server views; this table is what the hosts enforce.
"""
from django.db import models
from django.utils import timezone

DEFAULT_GROUP = "default"
PROTOCOLS = ("tcp", "udp", "icmp")


class SecurityGroup(models.Model):
    project = models.ForeignKey("identity.Project", on_delete=models.CASCADE, related_name="security_groups")
    name = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True, default="")
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


class SecurityGroupRule(models.Model):
    parent_group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE, related_name="rules")
    protocol = models.CharField(max_length=4, null=True, blank=True, choices=[(p, p) for p in PROTOCOLS])
    from_port = models.IntegerField(null=True, blank=True)
    to_port = models.IntegerField(null=True, blank=True)
    cidr = models.CharField(max_length=43, null=True, blank=True)
    # the source group: its members' fixed addresses are the allowed sources
    group = models.ForeignKey(
        SecurityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="granted_rules"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cidr__isnull=True) | models.Q(group__isnull=True),
                name="secgroup_rule_cidr_or_group",
            ),
        ]

    def __str__(self):
        source = self.cidr or f"group {self.group_id}"
        return f"{self.protocol or 'any'} {self.from_port}:{self.to_port} from {source}"


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

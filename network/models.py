"""nova-network's data: networks (Flat, FlatDHCP, VLAN) and the fixed IP rows of each network.

A network owns one FixedIP row per address of its CIDR (network, gateway and broadcast
rows are `reserved`); allocation takes a free row with a row lock (see
network.services.fixed_ips), so an address is never handed out twice.
"""
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cloudproj.soft_delete import SoftDeleteModel


class Network(SoftDeleteModel):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    label = models.CharField(max_length=255)
    cidr = models.CharField(max_length=43)
    netmask = models.GenericIPAddressField(protocol="IPv4")
    gateway = models.GenericIPAddressField(protocol="IPv4")
    broadcast = models.GenericIPAddressField(protocol="IPv4")
    dhcp_start = models.GenericIPAddressField(protocol="IPv4")
    dhcp_end = models.GenericIPAddressField(protocol="IPv4")
    dns1 = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True)
    dns2 = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True)
    bridge = models.CharField(max_length=15)
    bridge_interface = models.CharField(max_length=15, blank=True, default="")
    vlan = models.IntegerField(null=True, blank=True)
    multi_host = models.BooleanField(default=False)
    # Flat manager: no dnsmasq; the address reaches the guest on its kernel command line (ip=).
    injected = models.BooleanField(default=False)
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="networks"
    )
    # The network host of a non-multi-host network; null: every agent host serves it.
    host = models.CharField(max_length=255, null=True, blank=True)
    mtu = models.IntegerField(null=True, blank=True)
    # The Networking API's attributes: the network's description and its (one) subnet's name.
    description = models.CharField(max_length=255, blank=True, default="")
    subnet_name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["label"], condition=Q(deleted_at__isnull=True),
                                    name="network_label_unique_active"),
            models.UniqueConstraint(fields=["bridge"], condition=Q(deleted_at__isnull=True),
                                    name="network_bridge_unique_active"),
        ]

    def __str__(self):
        return f"{self.label} ({self.cidr})"

    @property
    def prefixlen(self) -> int:
        return int(self.cidr.split("/")[1])


class PendingNetwork(models.Model):
    """A network created through the Networking API that has no subnet yet.

    nova-network's network is a CIDR (its addresses are its rows); Neutron's clients create
    the network first and its subnet next. The network waits here, under the id the client
    was given, until its subnet arrives: then it becomes a Network with the same uuid
    (network.services.neutron)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    label = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True, default="")
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="pending_networks"
    )
    mtu = models.IntegerField(null=True, blank=True)
    vlan = models.IntegerField(null=True, blank=True)  # provider:segmentation_id asked for
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.label} (no subnet yet)"


class FixedIP(models.Model):
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="fixed_ips")
    address = models.GenericIPAddressField(protocol="IPv4")
    instance_uuid = models.UUIDField(null=True, blank=True, db_index=True)  # no FK: compute is separate
    host = models.CharField(max_length=255, blank=True, default="")
    hostname = models.CharField(max_length=63, blank=True, default="")
    mac_address = models.CharField(max_length=17, null=True, blank=True, unique=True)
    allocated = models.BooleanField(default=False)
    leased = models.BooleanField(default=False)
    reserved = models.BooleanField(default=False)
    # The Networking API's port of this address: set when the address is allocated to an
    # instance, cleared when it is released (network.services.ports).
    port_id = models.UUIDField(null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "address"], name="fixedip_address_unique_per_network"),
            models.UniqueConstraint(fields=["network", "instance_uuid"], condition=Q(instance_uuid__isnull=False),
                                    name="fixedip_one_per_instance_per_network"),
        ]
        indexes = [
            models.Index(fields=["network", "updated_at", "id"], condition=Q(allocated=False, reserved=False),
                         name="fixedip_free_idx"),
        ]

    def __str__(self):
        return f"{self.address} ({self.network_id})"

"""Block Storage v3 under /volume/ (each path with and without a trailing slash, except
/volumes: /volumes/ is an empty volume id, a 404 as in Cinder).

  /volume/                                      versions (300)
  /volume/v3/, /volume/v3/{project_id}          version document
  /volume/v3/{project_id}/os-quota-sets/{target}[/defaults]
  /volume/v3/{project_id}/limits
  /volume/v3/{project_id}/volumes[/detail], /volumes/{id}[/action|/metadata[/{key}]]
  /volume/v3/{project_id}/snapshots[/detail], /snapshots/{id}[/action|/metadata[/{key}]]
  /volume/v3/{project_id}/os-volume-transfer[/detail|/{id}[/accept]]
  /volume/v3/{project_id}/types[/default], /types/{id}[/extra_specs[/{key}]]
  /volume/v3/{project_id}/extensions, /capabilities/{host}
  /volume/v3/{project_id}/messages[/{id}] (3.3), /clusters[/detail|/{name}|/enable|/disable] (3.7)
  /volume/v3/{project_id}/os-availability-zone, /os-services
  /volume/v3/{project_id}/os-services/{enable|disable|disable-log-reason|freeze|thaw} (PUT)
  /volume/v3/{project_id}/qos-specs[/{id}[/delete_keys|/associations|/associate|/disassociate[_all]]]
  /volume/v3/{project_id}/os-hosts[/{host}], /os-quota-class-sets/{class}, /scheduler-stats/get_pools
"""
from django.urls import re_path

from .admin import HostCollection, HostItem, PoolsView, QuotaClassView, ServiceAction
from .limits import LimitsView
from .metadata import SnapshotMetadata, SnapshotMetadataItem, VolumeMetadata, VolumeMetadataItem
from .messages import ClusterCollection, ClusterItem, MessageCollection, MessageItem
from .types import (
    CapabilitiesView,
    DefaultType,
    ExtensionsView,
    ExtraSpec,
    ExtraSpecs,
    TypeAccess,
    TypeAction,
    TypeCollection,
    TypeItem,
)
from .qos import QosAssociate, QosAssociations, QosCollection, QosDeleteKeys, QosItem
from .quotas import QuotaSetDefaultsView, QuotaSetView
from .transfers import TransferAccept, TransferCollection, TransferDetailCollection, TransferItem
from .versions import RootVersionsView, VersionsView
from .zones import AvailabilityZoneView, ServicesView
from .views import (
    EmptyVolumeId,
    SnapshotAction,
    SnapshotCollection,
    SnapshotDetailCollection,
    SnapshotItem,
    VolumeAction,
    VolumeCollection,
    VolumeDetailCollection,
    VolumeItem,
)

PROJECT = r"(?P<project_id>[^/]+)"
TARGET = r"(?P<target_id>[^/]+)"
VOLUME = r"(?P<volume_id>[^/]+)"
SNAPSHOT = r"(?P<snapshot_id>[^/]+)"
TYPE = r"(?P<type_id>[^/]+)"
QOS = r"(?P<qos_id>[^/]+)"
OBJECT = r"(?P<object_id>[^/]+)"
TRANSFER = r"(?P<transfer_id>[^/]+)"
KEY = r"(?P<key>[^/]+)"

urlpatterns = [
    re_path(r"^$", RootVersionsView.as_view(), name="volume-versions"),
    re_path(r"^v3/?$", VersionsView.as_view(), name="volume-v3"),
    re_path(
        rf"^v3/{PROJECT}/os-quota-sets/{TARGET}/defaults/?$",
        QuotaSetDefaultsView.as_view(),
        name="volume-quota-defaults",
    ),
    re_path(rf"^v3/{PROJECT}/os-quota-sets/{TARGET}/?$", QuotaSetView.as_view(), name="volume-quota-set"),
    re_path(rf"^v3/{PROJECT}/limits/?$", LimitsView.as_view(), name="volume-limits"),
    re_path(rf"^v3/{PROJECT}/volumes$", VolumeCollection.as_view(), name="volume-list"),
    re_path(rf"^v3/{PROJECT}/volumes/$", EmptyVolumeId.as_view(), name="volume-empty-id"),
    re_path(rf"^v3/{PROJECT}/volumes/detail/?$", VolumeDetailCollection.as_view(), name="volume-detail"),
    re_path(rf"^v3/{PROJECT}/volumes/{VOLUME}/action/?$", VolumeAction.as_view(), name="volume-action"),
    re_path(rf"^v3/{PROJECT}/volumes/{VOLUME}/?$", VolumeItem.as_view(), name="volume-item"),
    re_path(rf"^v3/{PROJECT}/volumes/{OBJECT}/metadata/?$", VolumeMetadata.as_view(), name="volume-metadata"),
    re_path(rf"^v3/{PROJECT}/volumes/{OBJECT}/metadata/{KEY}/?$", VolumeMetadataItem.as_view(),
            name="volume-metadata-item"),
    re_path(rf"^v3/{PROJECT}/snapshots/?$", SnapshotCollection.as_view(), name="snapshot-list"),
    re_path(rf"^v3/{PROJECT}/snapshots/detail/?$", SnapshotDetailCollection.as_view(), name="snapshot-detail"),
    re_path(rf"^v3/{PROJECT}/snapshots/{SNAPSHOT}/?$", SnapshotItem.as_view(), name="snapshot-item"),
    re_path(rf"^v3/{PROJECT}/snapshots/{SNAPSHOT}/action/?$", SnapshotAction.as_view(), name="snapshot-action"),
    re_path(rf"^v3/{PROJECT}/snapshots/{OBJECT}/metadata/?$", SnapshotMetadata.as_view(), name="snapshot-metadata"),
    re_path(rf"^v3/{PROJECT}/snapshots/{OBJECT}/metadata/{KEY}/?$", SnapshotMetadataItem.as_view(),
            name="snapshot-metadata-item"),
    re_path(rf"^v3/{PROJECT}/os-volume-transfer/?$", TransferCollection.as_view(), name="volume-transfers"),
    re_path(rf"^v3/{PROJECT}/os-volume-transfer/detail/?$", TransferDetailCollection.as_view(),
            name="volume-transfers-detail"),
    re_path(rf"^v3/{PROJECT}/os-volume-transfer/{TRANSFER}/accept/?$", TransferAccept.as_view(),
            name="volume-transfer-accept"),
    re_path(rf"^v3/{PROJECT}/os-volume-transfer/{TRANSFER}/?$", TransferItem.as_view(), name="volume-transfer"),
    re_path(rf"^v3/{PROJECT}/types/?$", TypeCollection.as_view(), name="volume-types"),
    re_path(rf"^v3/{PROJECT}/types/default/?$", DefaultType.as_view(), name="volume-type-default"),
    re_path(rf"^v3/{PROJECT}/types/{TYPE}/extra_specs/?$", ExtraSpecs.as_view(), name="volume-type-specs"),
    re_path(rf"^v3/{PROJECT}/types/{TYPE}/extra_specs/(?P<key>[^/]+)/?$", ExtraSpec.as_view(),
            name="volume-type-spec"),
    re_path(rf"^v3/{PROJECT}/types/{TYPE}/?$", TypeItem.as_view(), name="volume-type"),
    re_path(rf"^v3/{PROJECT}/types/{TYPE}/action/?$", TypeAction.as_view(), name="volume-type-action"),
    re_path(rf"^v3/{PROJECT}/types/{TYPE}/os-volume-type-access/?$", TypeAccess.as_view(),
            name="volume-type-access"),
    re_path(rf"^v3/{PROJECT}/messages/?$", MessageCollection.as_view(), name="volume-messages"),
    re_path(rf"^v3/{PROJECT}/messages/(?P<message_id>[^/]+)/?$", MessageItem.as_view(), name="volume-message"),
    re_path(rf"^v3/{PROJECT}/clusters(/detail)?/?$", ClusterCollection.as_view(), name="volume-clusters"),
    re_path(rf"^v3/{PROJECT}/clusters/(?P<name>[^/]+)/?$", ClusterItem.as_view(), name="volume-cluster"),
    re_path(rf"^v3/{PROJECT}/extensions/?$", ExtensionsView.as_view(), name="volume-extensions"),
    re_path(rf"^v3/{PROJECT}/capabilities/(?P<host>[^/]+)/?$", CapabilitiesView.as_view(),
            name="volume-capabilities"),
    re_path(rf"^v3/{PROJECT}/os-availability-zone/?$", AvailabilityZoneView.as_view(), name="volume-zones"),
    re_path(rf"^v3/{PROJECT}/os-services/?$", ServicesView.as_view(), name="volume-services"),
    re_path(rf"^v3/{PROJECT}/os-services/(?P<action>[^/]+)/?$", ServiceAction.as_view(),
            name="volume-service-action"),
    re_path(rf"^v3/{PROJECT}/os-hosts/?$", HostCollection.as_view(), name="volume-hosts"),
    re_path(rf"^v3/{PROJECT}/os-hosts/(?P<host>[^/]+)/?$", HostItem.as_view(), name="volume-host"),
    re_path(rf"^v3/{PROJECT}/os-quota-class-sets/(?P<class_name>[^/]+)/?$", QuotaClassView.as_view(),
            name="volume-quota-class"),
    re_path(rf"^v3/{PROJECT}/scheduler-stats/get_pools/?$", PoolsView.as_view(), name="volume-pools"),
    re_path(rf"^v3/{PROJECT}/qos-specs/?$", QosCollection.as_view(), name="volume-qos-list"),
    re_path(rf"^v3/{PROJECT}/qos-specs/{QOS}/delete_keys/?$", QosDeleteKeys.as_view(), name="volume-qos-delete-keys"),
    re_path(rf"^v3/{PROJECT}/qos-specs/{QOS}/associations/?$", QosAssociations.as_view(),
            name="volume-qos-associations"),
    re_path(rf"^v3/{PROJECT}/qos-specs/{QOS}/(?P<action>associate|disassociate|disassociate_all)/?$",
            QosAssociate.as_view(), name="volume-qos-associate"),
    re_path(rf"^v3/{PROJECT}/qos-specs/{QOS}/?$", QosItem.as_view(), name="volume-qos"),
    re_path(rf"^v3/{PROJECT}/?$", VersionsView.as_view(), name="volume-v3-project"),
]

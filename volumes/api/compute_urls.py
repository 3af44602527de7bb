"""Volume attachment calls under /compute/v2.1/ (with or without a trailing slash)."""
from django.urls import re_path

from .attachments import VolumeAttachmentCollection, VolumeAttachmentItem

urlpatterns = [
    re_path(r"^servers/(?P<server_id>[^/]+)/os-volume_attachments/?$", VolumeAttachmentCollection.as_view()),
    re_path(r"^servers/(?P<server_id>[^/]+)/os-volume_attachments/(?P<volume_id>[^/]+)/?$",
            VolumeAttachmentItem.as_view()),
]

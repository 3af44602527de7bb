"""Image API v2 (Glance) under /image/ (each path with and without a trailing slash, except
/v2/images: /v2/images/ is an empty image id, a 404 as in Glance).

  /image/, /image/versions         versions document (no token needed)
  /image/v2/images                 list (name, id=in:, visibility, status, limit/marker, sort)
  /image/v2/images/{id}            show, patch, delete
  /image/v2/images/{id}/file       upload (PUT, streamed) and download (GET, streamed)
  /image/v2/images/{id}/actions/deactivate|reactivate
  /image/v2/images/{id}/members[/{member_id}]
  /image/v2/images/{id}/tags/{tag}  add (PUT) / remove (DELETE) a tag
  /image/v2/images/{id}/tasks, /image/v2/tasks[/{id}]  tasks (none: tasks.py)
  /image/v2/schemas/...            JSON Schemas (image, images, member(s), metadefs/*)
  /image/v2/info/import|stores|usage
  /image/v2/metadefs/...           metadata definitions catalogue (metadefs.py)
"""
from django.urls import re_path

from . import data, discovery, members, metadefs, tasks, v2

ID = r"(?P<image_id>[^/]+)"
NS = r"(?P<namespace>[^/]+)"
NAME = r"(?P<name>[^/]+)"

urlpatterns = [
    re_path(r"^$", v2.VersionsView.as_view(), name="image-versions"),
    re_path(r"^versions/?$", v2.VersionsView.as_view(explicit=True)),
    re_path(r"^v2/?$", v2.VersionsView.as_view(), name="image-v2"),
    re_path(r"^v2/images$", v2.ImageListView.as_view(), name="image-list"),
    re_path(r"^v2/images/$", tasks.EmptyImageIdView.as_view(), name="image-empty-id"),
    re_path(rf"^v2/images/{ID}/tasks/?$", tasks.ImageTasksView.as_view(), name="image-tasks"),
    re_path(r"^v2/tasks/?$", tasks.TaskListView.as_view(), name="image-task-list"),
    re_path(r"^v2/tasks/(?P<task_id>[^/]+)/?$", tasks.TaskView.as_view(), name="image-task"),
    re_path(rf"^v2/images/{ID}/?$", v2.ImageView.as_view(), name="image-detail"),
    re_path(rf"^v2/images/{ID}/file/?$", data.ImageFileView.as_view(), name="image-file"),
    re_path(rf"^v2/images/{ID}/actions/(?P<action>deactivate|reactivate)/?$", v2.ImageActionView.as_view(),
            name="image-action"),
    re_path(rf"^v2/images/{ID}/members/?$", members.MemberListView.as_view(), name="image-members"),
    re_path(rf"^v2/images/{ID}/members/(?P<member_id>[^/]+)/?$", members.MemberView.as_view(),
            name="image-member"),
    re_path(rf"^v2/images/{ID}/tags/(?P<tag>[^/]+)/?$", v2.ImageTagView.as_view(), name="image-tag"),
    re_path(r"^v2/schemas/(?P<name>[a-z_]+|metadefs/[a-z_]+)/?$", discovery.SchemaView.as_view(),
            name="image-schema"),
    re_path(r"^v2/info/import/?$", discovery.ImportInfoView.as_view(), name="image-info-import"),
    re_path(r"^v2/info/stores/?$", discovery.StoresInfoView.as_view(), name="image-info-stores"),
    re_path(r"^v2/info/usage/?$", discovery.UsageInfoView.as_view(), name="image-info-usage"),
    re_path(r"^v2/metadefs/namespaces/?$", metadefs.NamespaceListView.as_view(), name="metadef-namespaces"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/?$", metadefs.NamespaceView.as_view(), name="metadef-namespace"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/objects/?$", metadefs.ObjectListView.as_view(),
            name="metadef-objects"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/objects/{NAME}/?$", metadefs.ObjectView.as_view(),
            name="metadef-object"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/properties/?$", metadefs.PropertyListView.as_view(),
            name="metadef-properties"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/properties/{NAME}/?$", metadefs.PropertyView.as_view(),
            name="metadef-property"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/tags/?$", metadefs.TagListView.as_view(), name="metadef-tags"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/tags/{NAME}/?$", metadefs.TagView.as_view(), name="metadef-tag"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/resource_types/?$", metadefs.AssociationListView.as_view(),
            name="metadef-associations"),
    re_path(rf"^v2/metadefs/namespaces/{NS}/resource_types/{NAME}/?$", metadefs.AssociationView.as_view(),
            name="metadef-association"),
    re_path(r"^v2/metadefs/resource_types/?$", metadefs.ResourceTypeListView.as_view(),
            name="metadef-resource-types"),
]

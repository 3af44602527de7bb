"""Metadata definitions catalogue, `/v2/metadefs/...` (Glance v2 shapes and status codes).

Reads: any token (private namespaces only to their owner project and admins, 404 to others);
writes: admins (Glance's default policy). Business rules: images/services/metadefs.py.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services.policy import enforce
from images.services import metadefs

from .common import ImageAPIView, glance_time, parse_limit

NS = "/v2/metadefs/namespaces"


def _times(obj) -> dict:
    return {"created_at": glance_time(obj.created_at), "updated_at": glance_time(obj.updated_at)}


def association_body(assoc) -> dict:
    body = {"name": assoc.resource_type.name}
    if assoc.prefix:
        body["prefix"] = assoc.prefix
    if assoc.properties_target:
        body["properties_target"] = assoc.properties_target
    body.update(_times(assoc))
    return body


def property_body(prop) -> dict:
    return {"name": prop.name, **prop.schema}


def object_body(obj) -> dict:
    body = {"name": obj.name}
    if obj.description:
        body["description"] = obj.description
    if obj.required:
        body["required"] = list(obj.required)
    body["properties"] = dict(obj.properties)
    body.update(_times(obj))
    body["schema"] = "/v2/schemas/metadefs/object"
    body["self"] = f"{NS}/{obj.namespace.namespace}/objects/{obj.name}"
    return body


def tag_body(tag) -> dict:
    return {"name": tag.name, **_times(tag)}


def namespace_body(namespace, detail: bool = True) -> dict:
    body = {"namespace": namespace.namespace}
    if namespace.display_name:
        body["display_name"] = namespace.display_name
    if namespace.description:
        body["description"] = namespace.description
    body.update({"visibility": namespace.visibility, "protected": namespace.protected, "owner": namespace.owner})
    associations = [association_body(a) for a in namespace.associations.select_related("resource_type")]
    if associations:
        body["resource_type_associations"] = associations
    if detail:
        properties = {p.name: p.schema for p in namespace.property_defs.all()}
        if properties:
            body["properties"] = properties
        objects = [object_body(o) for o in namespace.object_defs.all()]
        if objects:
            body["objects"] = objects
        tags = [{"name": t.name} for t in namespace.tag_defs.all()]
        if tags:
            body["tags"] = tags
    body.update(_times(namespace))
    body["schema"] = "/v2/schemas/metadefs/namespace"
    body["self"] = f"{NS}/{namespace.namespace}"
    return body


def _body(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


class MetadefView(ImageAPIView):
    def namespace(self, name: str, action: str | None = None):
        ctx = self.ctx
        enforce(ctx, "metadef:get_namespace")
        namespace = metadefs.get_namespace(name, ctx.project_id, ctx.is_admin)
        if action:
            enforce(ctx, action)
        return namespace


class NamespaceListView(MetadefView):
    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "metadef:get_namespaces")
        params = request.query_params
        resource_types = [r for r in params.get("resource_types", "").split(",") if r] or None
        qs = metadefs.list_namespaces(ctx.project_id, ctx.is_admin, params.get("visibility"), resource_types,
                                      params.get("sort_key", "created_at"), params.get("sort_dir", "desc"))
        limit = parse_limit(params.get("limit"), default=1000)
        marker = params.get("marker")
        names = list(qs.values_list("namespace", flat=True))
        if marker:
            if marker not in names:
                raise BadRequest(f"Invalid marker: namespace {marker} could not be found.")
            names = names[names.index(marker) + 1:]
        page_names = names[:limit]
        page = {n.namespace: n for n in qs.filter(namespace__in=page_names)}
        body = {
            "namespaces": [namespace_body(page[n], detail=False) for n in page_names],
            "first": NS,
            "schema": "/v2/schemas/metadefs/namespaces",
        }
        if len(names) > limit and page_names:
            body["next"] = f"{NS}?marker={page_names[-1]}&limit={limit}"
        return Response(body)

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "metadef:add_namespace")
        namespace = metadefs.create_namespace(_body(request), ctx.project_id)
        return Response(namespace_body(namespace), status=201)


class NamespaceView(MetadefView):
    def get(self, request, namespace):
        return Response(namespace_body(self.namespace(namespace)))

    def put(self, request, namespace):
        ns = self.namespace(namespace, "metadef:modify_namespace")
        return Response(namespace_body(metadefs.update_namespace(ns, _body(request))))

    def delete(self, request, namespace):
        metadefs.delete_namespace(self.namespace(namespace, "metadef:delete_namespace"))
        return Response(status=204)


class ObjectListView(MetadefView):
    def get(self, request, namespace):
        ns = self.namespace(namespace)
        return Response({"objects": [object_body(o) for o in ns.object_defs.all()],
                         "schema": "v2/schemas/metadefs/objects"})

    def post(self, request, namespace):
        ns = self.namespace(namespace, "metadef:add_object")
        return Response(object_body(metadefs.create_object(ns, _body(request))), status=201)

    def delete(self, request, namespace):
        metadefs.delete_objects(self.namespace(namespace, "metadef:delete_object"))
        return Response(status=204)


class ObjectView(MetadefView):
    def get(self, request, namespace, name):
        return Response(object_body(metadefs.get_object(self.namespace(namespace), name)))

    def put(self, request, namespace, name):
        obj = metadefs.get_object(self.namespace(namespace, "metadef:modify_object"), name)
        return Response(object_body(metadefs.update_object(obj, _body(request))))

    def delete(self, request, namespace, name):
        metadefs.get_object(self.namespace(namespace, "metadef:delete_object"), name).delete()
        return Response(status=204)


class PropertyListView(MetadefView):
    def get(self, request, namespace):
        ns = self.namespace(namespace)
        return Response({"properties": {p.name: p.schema for p in ns.property_defs.all()}})

    def post(self, request, namespace):
        ns = self.namespace(namespace, "metadef:add_property")
        return Response(property_body(metadefs.create_property(ns, _body(request))), status=201)

    def delete(self, request, namespace):
        metadefs.delete_properties(self.namespace(namespace, "metadef:delete_property"))
        return Response(status=204)


class PropertyView(MetadefView):
    def get(self, request, namespace, name):
        return Response(property_body(metadefs.get_property(self.namespace(namespace), name)))

    def put(self, request, namespace, name):
        prop = metadefs.get_property(self.namespace(namespace, "metadef:modify_property"), name)
        return Response(property_body(metadefs.update_property(prop, _body(request))))

    def delete(self, request, namespace, name):
        metadefs.get_property(self.namespace(namespace, "metadef:delete_property"), name).delete()
        return Response(status=204)


class TagListView(MetadefView):
    def get(self, request, namespace):
        ns = self.namespace(namespace)
        return Response({"tags": [tag_body(t) for t in ns.tag_defs.all()]})

    def post(self, request, namespace):
        ns = self.namespace(namespace, "metadef:add_tags")
        append = request.headers.get("X-Openstack-Append", "").strip().lower() in ("true", "1", "yes", "on")
        tags = metadefs.create_tags(ns, _body(request), append=append)
        return Response({"tags": [{"name": t.name} for t in tags]}, status=201)

    def delete(self, request, namespace):
        metadefs.delete_tags(self.namespace(namespace, "metadef:delete_tag"))
        return Response(status=204)


class TagView(MetadefView):
    def get(self, request, namespace, name):
        return Response(tag_body(metadefs.get_tag(self.namespace(namespace), name)))

    def post(self, request, namespace, name):
        ns = self.namespace(namespace, "metadef:add_tag")
        return Response(tag_body(metadefs.create_tag(ns, name)), status=201)

    def put(self, request, namespace, name):
        tag = metadefs.get_tag(self.namespace(namespace, "metadef:modify_tag"), name)
        return Response(tag_body(metadefs.update_tag(tag, _body(request))))

    def delete(self, request, namespace, name):
        metadefs.get_tag(self.namespace(namespace, "metadef:delete_tag"), name).delete()
        return Response(status=204)


class ResourceTypeListView(MetadefView):
    def get(self, request):
        enforce(self.ctx, "metadef:list_resource_types")
        return Response({"resource_types": [{"name": r.name, **_times(r)} for r in metadefs.resource_types()]})


class AssociationListView(MetadefView):
    def get(self, request, namespace):
        ns = self.namespace(namespace)
        rows = ns.associations.select_related("resource_type")
        return Response({"resource_type_associations": [association_body(a) for a in rows]})

    def post(self, request, namespace):
        ns = self.namespace(namespace, "metadef:add_resource_type_association")
        return Response(association_body(metadefs.associate(ns, _body(request))), status=201)


class AssociationView(MetadefView):
    def delete(self, request, namespace, name):
        metadefs.dissociate(self.namespace(namespace, "metadef:remove_resource_type_association"), name)
        return Response(status=204)

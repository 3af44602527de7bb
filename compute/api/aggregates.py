"""Host aggregates (`/os-aggregates`, admins): thin views over compute.services.aggregates,
in Nova's 2.1 shape, from 2.41 with the aggregate's uuid. Create answers without hosts and metadata."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import aggregates as svc
from identity.services.policy import enforce

from .base import ComputeAPIView, api_version, isotime


def aggregate_body(aggregate, version, full: bool = True) -> dict:
    metadata = svc.metadata_of(aggregate)
    body = {
        "availability_zone": metadata.get(svc.AZ_KEY),
        "created_at": isotime(aggregate.created_at),
        "deleted": False,
        "deleted_at": None,
        "id": aggregate.pk,
        "name": aggregate.name,
        "updated_at": isotime(aggregate.updated_at),
    }
    if version >= (2, 41):
        body["uuid"] = str(aggregate.uuid)
    if full:
        body["hosts"] = svc.hosts_of(aggregate)
        body["metadata"] = metadata
    return body


class AggregateListView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:aggregates:index")
        return Response({"aggregates": [aggregate_body(a, api_version(request)) for a in svc.list_aggregates()]})

    def post(self, request):
        enforce(self.ctx, "compute:aggregates:create")
        body = self.body("aggregate", allowed={"name", "availability_zone"}, required={"name"})
        aggregate = svc.create_aggregate(body["name"], body.get("availability_zone"))
        return Response({"aggregate": aggregate_body(aggregate, api_version(request), full=False)})


class AggregateView(ComputeAPIView):
    def get(self, request, aggregate_id):
        enforce(self.ctx, "compute:aggregates:show")
        return Response({"aggregate": aggregate_body(svc.get_aggregate(aggregate_id), api_version(request))})

    def put(self, request, aggregate_id):
        enforce(self.ctx, "compute:aggregates:update")
        body = self.body("aggregate", allowed={"name", "availability_zone"})
        if not body:
            raise BadRequest("Invalid input for field/attribute aggregate: name or availability_zone is required.")
        aggregate = svc.update_aggregate(
            aggregate_id, name=body.get("name"), availability_zone=body.get("availability_zone"),
            set_zone="availability_zone" in body,
        )
        return Response({"aggregate": aggregate_body(svc.get_aggregate(aggregate.pk), api_version(request))})

    def delete(self, request, aggregate_id):
        enforce(self.ctx, "compute:aggregates:delete")
        svc.delete_aggregate(aggregate_id)
        return Response(status=200)


ACTIONS = {"add_host": "host", "remove_host": "host", "set_metadata": "metadata"}


class AggregateActionView(ComputeAPIView):
    def post(self, request, aggregate_id):
        data = request.data
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in ACTIONS:
            raise BadRequest(f"Invalid request body: exactly one of {', '.join(ACTIONS)} is expected.")
        action = next(iter(data))
        enforce(self.ctx, f"compute:aggregates:{action}")
        field = ACTIONS[action]
        body = self.body(action, allowed={field}, required={field})
        if action == "add_host":
            aggregate = svc.add_host(aggregate_id, body["host"])
        elif action == "remove_host":
            aggregate = svc.remove_host(aggregate_id, body["host"])
        else:
            aggregate = svc.set_metadata(aggregate_id, body["metadata"])
        return Response({"aggregate": aggregate_body(svc.get_aggregate(aggregate.pk), api_version(request))})

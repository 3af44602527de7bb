"""Glance's tasks (v2.12+), as far as this cloud has them: none. Images are made by upload
(PUT /file) or by Nova's snapshots, never by an asynchronous task (no `import` from a URL, no
interoperable image import), so:

    GET  /v2/images/{id}/tasks   {"tasks": []} for an image the caller sees (404 otherwise)
    GET  /v2/tasks               {"tasks": [], "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
    GET  /v2/tasks/{id}          404 (no task exists)
    POST /v2/tasks               admins only (Glance's tasks_api_access); the body is checked as
                                 Glance checks it ({"type": "import", "input": {...}}), then a
                                 400: import tasks are not offered (newer Glance also answers 400
                                 for an import_from it will not fetch)
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from identity.services.policy import enforce

from .common import ImageAPIView

TASK_TYPES = ("import", "api_image_import", "location_import")


class ImageTasksView(ImageAPIView):
    def get(self, request, image_id):
        self.image(image_id)  # 404 for an image the caller does not see
        return Response({"tasks": []})


class TaskListView(ImageAPIView):
    def get(self, request):
        enforce(self.ctx, "image:get_tasks")
        return Response({"tasks": [], "first": "/v2/tasks", "schema": "/v2/schemas/tasks"})

    def post(self, request):
        enforce(self.ctx, "image:add_task")
        body = request.data
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        task_type, task_input = body.get("type"), body.get("input")
        if task_type is None:
            raise BadRequest("Task type is required.")
        if task_type not in TASK_TYPES:
            raise BadRequest(f"Invalid type value: {task_type}")
        if not isinstance(task_input, dict):
            raise BadRequest("Invalid input: 'input' must be an object.")
        missing = [key for key in ("import_from", "import_from_format", "image_properties") if key not in task_input]
        if task_type == "import" and missing:
            raise BadRequest(f"Input does not contain '{missing[0]}' field.")
        raise BadRequest(f"Task type {task_type} is not supported by this cloud: images are uploaded "
                         "(PUT /v2/images/{id}/file), not imported from a URL.")


class TaskView(ImageAPIView):
    def get(self, request, task_id):
        enforce(self.ctx, "image:get_task")
        raise NotFound(f"Task with the given ID {task_id} could not be found.")


class EmptyImageIdView(ImageAPIView):
    """/v2/images/ (an empty image id): Glance has no such route, every method is a 404."""

    def _not_found(self, request, *args, **kwargs):
        raise NotFound("The resource could not be found.")

    get = post = put = patch = delete = _not_found

"""Image data: `PUT /v2/images/{id}/file` streams the request body to the store (never
whole in memory), `GET /v2/images/{id}/file` streams it back.

A request body comes with a Content-Length (it must arrive whole: a short body means the
client went away, and the image is killed) or chunked: decoded by the WSGI server when it
says so (`wsgi.input_terminated`, gunicorn), else decoded here from the raw input (plain
wsgiref). Django's development server cuts the input at Content-Length, so a chunked body
never reaches the view there: 411, and the image stays queued.
"""
from django.core.handlers.wsgi import LimitedStream
from django.http import StreamingHttpResponse
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Forbidden
from identity.services.policy import enforce
from images.services import registry
from images.drivers import store
from images.models import Image

from .common import ImageAPIView

CHUNK = 64 * 1024
MAX_CHUNK_LINE = 1024


class IncompleteBody(Exception):
    pass


class LengthRequired(APIException):
    status_code = 411
    default_detail = "This server cannot read chunked request bodies: send a Content-Length."


class _LengthBody:
    def __init__(self, request, length: int):
        self.request, self.left = request, length

    def read(self, size: int = CHUNK) -> bytes:
        if self.left <= 0:
            return b""
        data = self.request.read(min(size, self.left))
        if not data:
            raise IncompleteBody(f"the request body ended {self.left} bytes short")
        self.left -= len(data)
        return data


def _decoded_chunks(raw):
    """The payload of an HTTP/1.1 chunked body read from the raw input stream."""
    while True:
        line = raw.readline(MAX_CHUNK_LINE)
        if not line.endswith(b"\n"):
            raise IncompleteBody("malformed or truncated chunk header")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise IncompleteBody("malformed chunk size") from None
        if size == 0:
            while raw.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        while size:
            data = raw.read(min(size, CHUNK))
            if not data:
                raise IncompleteBody("the chunked request body ended early")
            size -= len(data)
            yield data
        if raw.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n"):
            raise IncompleteBody("missing CRLF after a chunk")


def request_body(request):
    """A file-like object or an iterable of bytes over the body of `request` (Django's)."""
    meta = request.META
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        raw = meta["wsgi.input"]
        if meta.get("wsgi.input_terminated"):
            return raw
        if isinstance(raw, LimitedStream) and raw.limit == 0:
            raise LengthRequired()
        return _decoded_chunks(raw)
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("Invalid Content-Length.") from None
    return _LengthBody(request, length)


class ImageFileView(ImageAPIView):
    def put(self, request, image_id):
        image = self.image(image_id, "image:upload_image")
        body = request_body(request._request)
        try:
            registry.upload(image, body)
        except IncompleteBody as exc:
            raise BadRequest(f"Image upload did not complete: {exc}; the image is killed.") from None
        except registry.ImageInvalid as exc:
            raise BadRequest(f"Image data refused: {exc.message}") from None
        return Response(status=204)

    def get(self, request, image_id):
        ctx = self.ctx
        enforce(ctx, "image:download_image")
        image = self.image(image_id)
        if image.status == Image.DEACTIVATED and not ctx.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
        if image.status != Image.ACTIVE and image.status != Image.DEACTIVATED:
            return Response(status=204)
        try:
            chunks = store.read(image.id)
        except store.StoreError:
            return Response(status=204)
        response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
        response["Content-Length"] = str(image.size)
        response["Content-MD5"] = image.checksum
        return response

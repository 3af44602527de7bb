"""Members of shared images (Glance's image members; plain Python, no HTTP).

The owner offers a `shared` image to another project (status pending); that project
accepts or rejects it. A member sees the image by id whatever its status; lists show it
only once accepted (or on request with member_status).
"""
import re

from django.db import IntegrityError, transaction

from identity.models import Project

from images.models import Image, ImageMember
from images.services.registry import ImageConflict, ImageForbidden, ImageInvalid, ImageNotFound

PROJECT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


def _check_shared(image: Image) -> None:
    if image.visibility != Image.SHARED:
        raise ImageForbidden(f"Only shared images have members; image {image.id} is {image.visibility}.")


def list_members(image: Image, project_id: str | None, is_admin: bool):
    """Owner and admins see every member; a member sees only itself."""
    _check_shared(image)
    qs = ImageMember.objects.filter(image=image).order_by("created_at", "id")
    if not is_admin and image.owner_id != project_id:
        qs = qs.filter(member_id=project_id)
    return qs


def get_member(image: Image, member_id: str, project_id: str | None, is_admin: bool) -> ImageMember:
    member = list_members(image, project_id, is_admin).filter(member_id=member_id).first()
    if member is None:
        raise ImageNotFound(f"Member {member_id} not found on image {image.id}.")
    return member


def add_member(image: Image, member_id) -> ImageMember:
    _check_shared(image)
    if not isinstance(member_id, str) or not PROJECT_ID_RE.match(member_id):
        raise ImageInvalid(f"Invalid member id {member_id!r}.")
    if not Project.objects.filter(id=member_id).exists():
        raise ImageNotFound(f"Project {member_id} not found.")
    if member_id == image.owner_id:
        raise ImageForbidden("The owner of an image cannot be one of its members.")
    try:
        with transaction.atomic():
            return ImageMember.objects.create(image=image, member_id=member_id)
    except IntegrityError:
        raise ImageConflict(f"Project {member_id} is already a member of image {image.id}.") from None


def set_member_status(image: Image, member_id: str, status, project_id: str | None) -> ImageMember:
    """Only the member project itself accepts or rejects (not the owner, not an admin of
    another project)."""
    _check_shared(image)
    if status not in ImageMember.STATUSES:
        raise ImageInvalid(f"Invalid member status {status!r}: pending, accepted or rejected.")
    member = ImageMember.objects.filter(image=image, member_id=member_id).first()
    if member is None:
        raise ImageNotFound(f"Member {member_id} not found on image {image.id}.")
    if member_id != project_id:
        raise ImageForbidden("Only the member project can change its membership status.")
    member.status = status
    member.save(update_fields=["status", "updated_at"])
    return member


def remove_member(image: Image, member_id: str) -> None:
    _check_shared(image)
    if not ImageMember.objects.filter(image=image, member_id=member_id).delete()[0]:
        raise ImageNotFound(f"Member {member_id} not found on image {image.id}.")

"""Keystone's credential store (/v3/credentials). Type "ec2" is served from the Ec2Credential
rows the OS-EC2 API and the dashboard use too (blob: JSON with `access` and `secret`, a
project required); any other type is an opaque blob kept in Credential."""
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from cloudproj.exceptions import Conflict, Invalid, NotFound
from identity.models import Credential, Ec2Credential, Project, User, ec2_credential_id

BLOB_MAX_LENGTH = 65535
TYPE_MAX_LENGTH = 255


@dataclass
class CredentialView:
    """What the API shows for either kind of row."""

    id: str
    user_id: str
    project_id: str | None
    type: str
    blob: str


def _view(row) -> CredentialView:
    if isinstance(row, Ec2Credential):
        blob = json.dumps({"access": row.access, "secret": row.secret, "trust_id": None})
        return CredentialView(row.credential_id, row.user_id, row.project_id, "ec2", blob)
    return CredentialView(row.id, row.user_id, row.project_id, row.type, row.blob)


def _ec2_keys(blob: str) -> tuple[str, str]:
    try:
        data = json.loads(blob)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("access"), str) or not data["access"]:
        raise Invalid("Invalid blob in credential: an ec2 blob is a JSON object with 'access'.")
    secret = data.get("secret", "")
    if not isinstance(secret, str):
        raise Invalid("Invalid blob in credential: 'secret' must be a string.")
    if len(data["access"]) > 64 or len(secret) > 64:
        raise Invalid("Invalid blob in credential: 'access' and 'secret' are at most 64 characters.")
    return data["access"], secret


def _checked(value, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"Invalid input for field '{field}': a non-empty string is required.")
    if len(value) > max_length:
        raise Invalid(f"Invalid input for field '{field}': longer than {max_length} characters.")
    return value


def _project(project_id) -> Project | None:
    if project_id is None:
        return None
    project = Project.objects.filter(pk=project_id).first() if isinstance(project_id, str) else None
    if project is None:
        raise Invalid(f"Invalid input for field 'project_id': no project {project_id!r}.")
    return project


def _find(credential_id: str):
    row = Ec2Credential.objects.filter(credential_id=credential_id).first()
    row = row or Credential.objects.filter(pk=credential_id).first()
    if row is None:
        raise NotFound(f"Could not find credential: {credential_id}.")
    return row


def owner_of(credential_id: str) -> str:
    """The user id of a credential (for the policy check); NotFound when there is none."""
    return _find(credential_id).user_id


def get(credential_id: str) -> CredentialView:
    return _view(_find(credential_id))


def list_credentials(user_id: str | None = None, type_: str | None = None) -> list[CredentialView]:
    ec2 = Ec2Credential.objects.order_by("created_at", "access")
    other = Credential.objects.all()
    if user_id is not None:
        ec2, other = ec2.filter(user_id=user_id), other.filter(user_id=user_id)
    if type_ is not None:
        ec2 = ec2 if type_ == "ec2" else ec2.none()
        other = other.filter(type=type_)
    return [_view(r) for r in ec2] + [_view(r) for r in other]


def create(user_id, type_, blob, project_id=None) -> CredentialView:
    type_ = _checked(type_, "type", TYPE_MAX_LENGTH)
    blob = _checked(blob, "blob", BLOB_MAX_LENGTH)
    user = User.objects.filter(pk=user_id).first() if isinstance(user_id, str) else None
    if user is None:
        raise Invalid(f"Invalid input for field 'user_id': no user {user_id!r}.")
    project = _project(project_id)
    if type_ != "ec2":
        return _view(Credential.objects.create(user=user, project=project, type=type_, blob=blob))
    if project is None:
        raise Invalid("Invalid input for field 'project_id': an ec2 credential needs a project.")
    access, secret = _ec2_keys(blob)
    try:
        with transaction.atomic():
            if Ec2Credential.objects.filter(credential_id=ec2_credential_id(access)).exists():
                raise IntegrityError
            row = Ec2Credential.objects.create(user=user, project=project, access=access, secret=secret)
    except IntegrityError:
        raise Conflict("Duplicate entry: an ec2 credential with this access key exists.") from None
    return _view(row)


def update(credential_id: str, changes: dict) -> CredentialView:
    row = _find(credential_id)
    unknown = set(changes) - {"blob", "type", "project_id", "user_id"}
    if unknown:
        raise Invalid(f"Additional properties are not allowed ({', '.join(sorted(unknown))}).")
    if changes.get("type", _view(row).type) != _view(row).type:
        raise Invalid("Invalid input for field 'type': the type of a credential cannot change.")
    if "user_id" in changes and changes["user_id"] != row.user_id:
        raise Invalid("Invalid input for field 'user_id': a credential cannot change owner.")
    project = _project(changes["project_id"]) if "project_id" in changes else row.project
    if isinstance(row, Credential):
        if "blob" in changes:
            row.blob = _checked(changes["blob"], "blob", BLOB_MAX_LENGTH)
        row.project = project
        row.save()
        return _view(row)
    if project is None:
        raise Invalid("Invalid input for field 'project_id': an ec2 credential needs a project.")
    access, secret = row.access, row.secret
    if "blob" in changes:
        access, secret = _ec2_keys(_checked(changes["blob"], "blob", BLOB_MAX_LENGTH))
    try:
        with transaction.atomic():
            # `access` is the row's primary key: an update() renames it in place.
            Ec2Credential.objects.filter(pk=row.pk).update(access=access, secret=secret, project=project)
    except IntegrityError:
        raise Conflict("Duplicate entry: an ec2 credential with this access key exists.") from None
    return _view(Ec2Credential.objects.get(pk=access))


def delete(credential_id: str) -> None:
    _find(credential_id).delete()

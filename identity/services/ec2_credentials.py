"""EC2 credentials of one user in one project (the dashboard's API access panel; the
Identity API's OS-EC2 calls act on the same Ec2Credential rows)."""
from identity.models import Ec2Credential
from identity.services.accounts import create_ec2_credential


class CredentialNotFound(Exception):
    def __init__(self, access: str):
        super().__init__(f"EC2 credential {access} could not be found.")
        self.message = str(self)


def credentials_of(user, project):
    return Ec2Credential.objects.filter(user=user, project=project).order_by("created_at", "access")


def get_credential(user, project, access: str) -> Ec2Credential:
    """The user's credential in `project`; anyone else's (or none) is CredentialNotFound."""
    credential = credentials_of(user, project).filter(access=access).first()
    if credential is None:
        raise CredentialNotFound(access)
    return credential


def create(user, project) -> Ec2Credential:
    return create_ec2_credential(user, project)


def delete(user, project, access: str) -> None:
    get_credential(user, project, access).delete()

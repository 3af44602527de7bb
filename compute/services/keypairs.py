"""Key pairs: import a public key or generate a pair (the private key is returned once)."""
import base64
import binascii
import hashlib
import re

from django.db import IntegrityError, transaction

from ..models import KeyPair
from cloudproj.exceptions import Conflict, Invalid, NotFound, OverQuota
from identity.services import quotas

NAME_RE = re.compile(r"[a-zA-Z0-9 _-]+")  # used with fullmatch: "$" would let "name\n" through
SSH_KEY_TYPES = (
    "ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
)
KEYPAIR_TYPES = ("ssh", "x509")


def validate_name(name) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise Invalid("Keypair data is invalid: Keypair name must be string and between 1 and 255 characters long")
    if not NAME_RE.fullmatch(name):
        raise Invalid(
            "Keypair data is invalid: Keypair name contains unsafe characters "
            "(letters, digits, spaces, '_' and '-' only)"
        )
    return name


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob as colon-separated hex (Nova's and ssh-keygen -E md5's)."""
    stripped = (public_key or "").strip()
    parts = stripped.split()
    # one line only: a second line would become a second authorized_keys entry in the guest
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES or "\n" in stripped or "\r" in stripped:
        raise Invalid("Keypair data is invalid: failed to generate fingerprint")
    try:
        blob = base64.b64decode(parts[1].encode(), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("Keypair data is invalid: failed to generate fingerprint") from None
    # the blob starts with its own type string: it must agree with the prefix
    if len(blob) < 4:
        raise Invalid("Keypair data is invalid: failed to generate fingerprint")
    length = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + length].decode("ascii", "replace") != parts[0]:
        raise Invalid("Keypair data is invalid: failed to generate fingerprint")
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def x509_fingerprint(pem: str) -> str:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise Invalid("Keypair data is invalid: failed to generate X509 fingerprint") from None
    from cryptography.hazmat.primitives import hashes

    digest = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Nova's fingerprint format
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def generate_ssh_keypair() -> tuple[str, str]:
    """(private key PEM, public key 'ssh-rsa ... Generated-by-Nova')."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Nova"


def generate_x509_keypair(common_name: str) -> tuple[str, str]:
    """(private key PEM, self-signed certificate PEM) as Nova's x509 key pair generation makes:
    RSA 2048, SHA-256, valid for ten years, subject CN = the owner's user id."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "nova")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650)).sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


def _check_quota(user, project) -> None:
    if project is None:
        return
    try:
        quotas.check_absolute(project, {"key_pairs": KeyPair.objects.filter(user=user).count() + 1}, user_id=user.id)
    except quotas.OverQuota:
        raise OverQuota("Quota exceeded, too many key pairs.") from None


def create_keypair(user, name: str, public_key: str | None = None, key_type: str = "ssh", project=None):
    """Import `public_key`, or generate a pair when it is None. Returns (KeyPair, private key
    or None). 409 when the user already has a key pair of that name."""
    validate_name(name)
    if key_type not in KEYPAIR_TYPES:
        raise Invalid(f"Invalid input for field/attribute type. Value: {key_type}. must be one of ssh, x509")
    private_key = None
    if public_key is None:
        if key_type == "x509":
            private_key, public_key = generate_x509_keypair(str(user.pk))
        else:
            private_key, public_key = generate_ssh_keypair()
    if not isinstance(public_key, str) or not public_key.strip():
        raise Invalid("Keypair data is invalid: failed to generate fingerprint")
    public_key = public_key.strip()
    fingerprint = ssh_fingerprint(public_key) if key_type == "ssh" else x509_fingerprint(public_key)
    _check_quota(user, project)
    if KeyPair.objects.filter(user=user, name=name).exists():
        raise Conflict(f"Key pair '{name}' already exists.")
    try:
        with transaction.atomic():
            keypair = KeyPair.objects.create(
                user=user, name=name, public_key=public_key, fingerprint=fingerprint, type=key_type
            )
    except IntegrityError:
        raise Conflict(f"Key pair '{name}' already exists.") from None
    return keypair, private_key


def list_keypairs(user):
    return KeyPair.objects.filter(user=user).order_by("name")


def get_keypair(user, name: str) -> KeyPair:
    keypair = KeyPair.objects.filter(user=user, name=name).first()
    if keypair is None:
        raise NotFound(f"Keypair {name} not found for user {getattr(user, 'id', user)}")
    return keypair


def delete_keypair(user, name: str) -> None:
    get_keypair(user, name).delete()

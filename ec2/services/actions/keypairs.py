"""Key pairs: Create/Import/Describe/DeleteKeyPair over compute.services.keypairs (the user's
key pairs, as the compute API's os-keypairs)."""
from cloudproj.exceptions import CloudError, Conflict
from compute.models import KeyPair
from compute.services import keypairs as keypair_service
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error, from_cloud_error, invalid_value
from ec2.services.params import Params
from identity.services.policy import enforce


def _create(ctx, name: str, public_key: str | None):
    enforce(ctx, "compute:keypairs:create", {"user_id": ctx.user_id})
    try:
        return keypair_service.create_keypair(ctx.user, name, public_key, project=ctx.project)
    except Conflict:
        raise Ec2Error("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.") from None
    except CloudError as exc:
        if "quota" in exc.message.lower() or "exceeded" in exc.message.lower():
            raise Ec2Error("ResourceLimitExceeded", exc.message) from None
        if public_key is not None:
            raise Ec2Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format") from None
        raise from_cloud_error(exc) from None


def create_key_pair(ctx, p: Params) -> dict:
    name = p.text("KeyName", required=True)
    p.text("KeyType", choices=("rsa",))
    p.text("KeyFormat", choices=("pem",))
    keypair, private_key = _create(ctx, name, None)
    return {"keyName": keypair.name, "keyFingerprint": keypair.fingerprint, "keyMaterial": private_key,
            "keyPairId": ids.ec2_id("key", keypair.pk)}


def import_key_pair(ctx, p: Params) -> dict:
    name = p.text("KeyName", required=True)
    material = p.base64("PublicKeyMaterial", max_length=16384)
    if not material:
        raise Ec2Error("MissingParameter", "The request must contain the parameter PublicKeyMaterial")
    try:
        public_key = material.decode("ascii")
    except UnicodeDecodeError:
        raise Ec2Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format") from None
    keypair, _ = _create(ctx, name, public_key)
    return {"keyName": keypair.name, "keyFingerprint": keypair.fingerprint,
            "keyPairId": ids.ec2_id("key", keypair.pk)}


FILTERS = {
    "key-name": lambda k: k.name,
    "fingerprint": lambda k: k.fingerprint,
    "key-pair-id": lambda k: ids.ec2_id("key", k.pk),
    "key-type": lambda k: "rsa",
}


def describe_key_pairs(ctx, p: Params) -> dict:
    enforce(ctx, "compute:keypairs:index", {"user_id": ctx.user_id})
    rows = list(keypair_service.list_keypairs(ctx.user))
    names = p.values("KeyName")
    key_ids = p.values("KeyPairId")
    include_public = p.flag("IncludePublicKey")
    if names:
        by_name = {k.name: k for k in rows}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{missing[0][:255]}' does not exist")
        rows = [by_name[n] for n in dict.fromkeys(names)]
    if key_ids:
        by_id = {ids.ec2_id("key", k.pk): k for k in rows}
        missing = [n for n in key_ids if n not in by_id]
        if missing:
            raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{missing[0][:64]}' does not exist")
        rows = [by_id[n] for n in dict.fromkeys(key_ids)]
    requested = p.filters()
    if requested:
        rows = filters.apply(rows, requested, FILTERS)
    return {"keySet": [{
        "keyPairId": ids.ec2_id("key", k.pk), "keyName": k.name, "keyFingerprint": k.fingerprint, "keyType": "rsa",
        "createTime": k.created_at, "publicKey": k.public_key if include_public else None, "tagSet": [],
    } for k in rows]}


def delete_key_pair(ctx, p: Params) -> dict:
    name = p.text("KeyName")
    key_id = p.text("KeyPairId", max_length=64)
    if name is None and key_id is None:
        raise Ec2Error("MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
    enforce(ctx, "compute:keypairs:delete", {"user_id": ctx.user_id})
    rows = KeyPair.objects.filter(user=ctx.user)
    if key_id is not None:
        rows = rows.filter(pk=ids.key_of(key_id, "key"))
    if name is not None:
        rows = rows.filter(name=name)
    row = rows.first()
    if row is None:  # EC2 answers success for a key pair that is not there
        return {"return": True}
    if key_id is not None and name is not None and row.name != name:
        raise invalid_value("KeyName and KeyPairId name different key pairs.")
    keypair_service.delete_keypair(ctx.user, row.name)
    return {"return": True, "keyPairId": ids.ec2_id("key", row.pk)}

"""The EC2 actions this cloud answers: name -> function(ctx, Params) -> the answer's members."""
from . import addresses, images, instances, keypairs, secgroups, tags, volumes, zones

ACTIONS = {
    "DescribeAvailabilityZones": zones.describe_availability_zones,
    "DescribeRegions": zones.describe_regions,
    "DescribeInstances": instances.describe_instances,
    "RunInstances": instances.run_instances,
    "StartInstances": instances.start_instances,
    "StopInstances": instances.stop_instances,
    "RebootInstances": instances.reboot_instances,
    "TerminateInstances": instances.terminate_instances,
    "GetConsoleOutput": instances.get_console_output,
    "DescribeInstanceAttribute": instances.describe_instance_attribute,
    "CreateKeyPair": keypairs.create_key_pair,
    "ImportKeyPair": keypairs.import_key_pair,
    "DescribeKeyPairs": keypairs.describe_key_pairs,
    "DeleteKeyPair": keypairs.delete_key_pair,
    "CreateSecurityGroup": secgroups.create_security_group,
    "DescribeSecurityGroups": secgroups.describe_security_groups,
    "DeleteSecurityGroup": secgroups.delete_security_group,
    "AuthorizeSecurityGroupIngress": secgroups.authorize_security_group_ingress,
    "RevokeSecurityGroupIngress": secgroups.revoke_security_group_ingress,
    "AllocateAddress": addresses.allocate_address,
    "AssociateAddress": addresses.associate_address,
    "DisassociateAddress": addresses.disassociate_address,
    "ReleaseAddress": addresses.release_address,
    "DescribeAddresses": addresses.describe_addresses,
    "DescribeImages": images.describe_images,
    "DeregisterImage": images.deregister_image,
    "RegisterImage": images.register_image,
    "CreateImage": images.create_image,
    "CreateVolume": volumes.create_volume,
    "DescribeVolumes": volumes.describe_volumes,
    "DeleteVolume": volumes.delete_volume,
    "AttachVolume": volumes.attach_volume,
    "DetachVolume": volumes.detach_volume,
    "CreateSnapshot": volumes.create_snapshot,
    "DescribeSnapshots": volumes.describe_snapshots,
    "DeleteSnapshot": volumes.delete_snapshot,
    "CreateTags": tags.create_tags,
    "DescribeTags": tags.describe_tags,
    "DeleteTags": tags.delete_tags,
}

# Actions run in one transaction (all or nothing; the messages to hosts leave after the commit),
# except these: they wait for a host that must see their first step committed (the attachment
# row and the volume's attaching/detaching state), as the volume service commits it itself.
OWN_TRANSACTIONS = {"AttachVolume", "DetachVolume"}

# the NotFound code of a service's 404 in each action (when the action did not name it itself)
NOT_FOUND_CODES = {
    **{name: "InvalidInstanceID.NotFound" for name in ACTIONS if "Instance" in name},
    "CreateImage": "InvalidInstanceID.NotFound",
    "DeregisterImage": "InvalidAMIID.NotFound",
    **{name: "InvalidKeyPair.NotFound" for name in ACTIONS if "KeyPair" in name},
    **{name: "InvalidGroup.NotFound" for name in ACTIONS if "SecurityGroup" in name},
    **{name: "InvalidAddress.NotFound" for name in ACTIONS if "Address" in name},
    **{name: "InvalidVolume.NotFound" for name in ACTIONS if "Volume" in name},
    **{name: "InvalidSnapshot.NotFound" for name in ACTIONS if "Snapshot" in name},
}

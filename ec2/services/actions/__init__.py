"""The EC2 actions this cloud answers: name -> function(ctx, Params) -> the answer's members."""
from . import addresses, images, instances, keypairs, secgroups, zones

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
    "CreateImage": images.create_image,
}

# the NotFound code of a service's 404 in each action (when the action did not name it itself)
NOT_FOUND_CODES = {
    **{name: "InvalidInstanceID.NotFound" for name in ACTIONS if "Instance" in name},
    "CreateImage": "InvalidInstanceID.NotFound",
    "DeregisterImage": "InvalidAMIID.NotFound",
    **{name: "InvalidKeyPair.NotFound" for name in ACTIONS if "KeyPair" in name},
    **{name: "InvalidGroup.NotFound" for name in ACTIONS if "SecurityGroup" in name},
    **{name: "InvalidAddress.NotFound" for name in ACTIONS if "Address" in name},
}

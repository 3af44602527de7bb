"""Shared pieces of the EC2 actions."""


def image_mapping(image) -> dict:
    """What compute.services.operations.create_servers takes from an Image (as POST /servers)."""
    properties = dict(image.properties or {})
    return {
        "id": str(image.id),
        "status": image.status,
        "properties": properties,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "size": image.size or 0,
        "kernel_id": properties.get("kernel_id"),
        "ramdisk_id": properties.get("ramdisk_id"),
    }

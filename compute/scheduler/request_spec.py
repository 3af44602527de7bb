"""What the scheduler is asked to place: sizes, zone, image properties, hints, retry info."""
from dataclasses import asdict, dataclass, field, fields


@dataclass
class RequestSpec:
    instance_uuid: str | None = None
    project_id: str | None = None
    memory_mb: int = 0
    vcpus: int = 0
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap: int = 0  # MB
    availability_zone: str | None = None
    image: dict = field(default_factory=dict)  # {"id", "properties": {...}}
    scheduler_hints: dict = field(default_factory=dict)
    # {"num_attempts": n, "hosts": [[host, node], ...]}: hosts already tried for this instance
    retry: dict = field(default_factory=dict)
    force_hosts: list = field(default_factory=list)
    flavor_extra_specs: dict = field(default_factory=dict)

    @property
    def disk_mb(self) -> int:
        return (self.root_gb + self.ephemeral_gb) * 1024 + self.swap

    @property
    def disk_gb(self) -> int:
        """Disk charged to a host's local_gb_used (swap rounded up to whole GB)."""
        return self.root_gb + self.ephemeral_gb + (self.swap + 1023) // 1024

    @property
    def image_properties(self) -> dict:
        return dict((self.image or {}).get("properties") or {})

    @property
    def tried_hosts(self) -> set:
        return {entry[0] if isinstance(entry, (list, tuple)) else entry for entry in self.retry.get("hosts", [])}

    def hint(self, name) -> list:
        """A scheduler hint as a list (the API accepts a string or a list)."""
        value = (self.scheduler_hints or {}).get(name)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def coerce(cls, spec) -> "RequestSpec":
        if isinstance(spec, cls):
            return spec
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(spec).items() if k in names})

    @classmethod
    def from_instance(cls, instance) -> "RequestSpec":
        return cls(
            instance_uuid=str(instance.uuid),
            project_id=instance.project_id,
            memory_mb=instance.memory_mb,
            vcpus=instance.vcpus,
            root_gb=instance.root_gb,
            ephemeral_gb=instance.ephemeral_gb,
            swap=instance.swap,
            availability_zone=instance.availability_zone or None,
            image={"id": instance.image_ref, "properties": dict(instance.image_properties or {})},
            scheduler_hints=dict(instance.scheduler_hints or {}),
            retry=dict(instance.retry or {}),
            force_hosts=list((instance.scheduler_hints or {}).get("_force_hosts", [])),
            flavor_extra_specs=dict(instance.flavor_extra_specs or {}),
        )

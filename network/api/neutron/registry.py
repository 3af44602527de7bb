"""What the Networking API serves: its resources (GET /v2.0/) and extensions
(GET /v2.0/extensions). One list each, so every app that serves a Neutron resource
(network here, secgroups, floating) appends its own from its `neutron_urls` module or
AppConfig.ready, and the API announces exactly what is served, nothing more.

nsec/nfip: `security-group` belongs to secgroups and `external-net` to floating; add them
with `add_extension(...)` where the resource is served, not here.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    alias: str
    name: str
    description: str
    updated: str = "2013-01-01T00:00:00-00:00"

    def as_dict(self) -> dict:
        return {"alias": self.alias, "name": self.name, "description": self.description,
                "updated": self.updated, "links": []}


#: (member name, collection name) of every top-level resource served
RESOURCES: list[tuple[str, str]] = []
#: alias -> Extension of every extension served
EXTENSIONS: dict[str, Extension] = {}


def add_resource(member: str, collection: str) -> None:
    if (member, collection) not in RESOURCES:
        RESOURCES.append((member, collection))


def add_extension(alias: str, name: str, description: str, updated: str = "2013-01-01T00:00:00-00:00") -> None:
    EXTENSIONS[alias] = Extension(alias, name, description, updated)


def extensions() -> list[Extension]:
    return sorted(EXTENSIONS.values(), key=lambda e: e.alias)

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


# --- what the network app serves (networks, subnets, ports, quotas, extensions) ---
for _member, _collection in (("network", "networks"), ("subnet", "subnets"), ("port", "ports"),
                             ("quota", "quotas"), ("extension", "extensions")):
    add_resource(_member, _collection)
add_extension("quotas", "Quota management support", "Expose functions for quotas management per project",
              "2012-07-29T10:00:00-00:00")
add_extension("quota_details", "Quota details management support", "Expose functions for quotas usage "
              "statistics per project", "2017-02-10T10:00:00-00:00")
add_extension("quota-check-limit", "Quota limit check", "Support for checking the resource usage before "
              "applying a new quota limit", "2023-05-31T10:00:00-00:00")
add_extension("project-id", "project_id field enabled", "Extension that indicates that project_id field is "
              "enabled.", "2016-09-09T09:09:09-09:09")
add_extension("standard-attr-description", "standard-attr-description", "Extension to add descriptions to "
              "standard attributes", "2016-02-10T10:00:00-00:00")
add_extension("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all "
              "Neutron resources that have Neutron standard attributes.", "2016-09-12T10:00:00-00:00")
add_extension("provider", "Provider Network", "Expose mapping of virtual networks to physical networks",
              "2012-09-07T10:00:00-00:00")
add_extension("net-mtu", "Network MTU", "Provides MTU attribute for a network resource.",
              "2015-03-25T10:00:00-00:00")
add_extension("binding", "Port Binding", "Expose port bindings of a virtual port to external application",
              "2014-02-03T10:00:00-00:00")
add_extension("external-net", "Neutron external network", "Adds external network attribute to network "
              "resource.", "2013-01-14T10:00:00-00:00")  # the floating pools (floating.services.pools)
add_extension("filter-validation", "Filter parameters validation", "Provides validation on filter parameters.",
              "2018-03-21T10:00:00-00:00")
add_extension("pagination", "Pagination support", "Extension that indicates that pagination is enabled.",
              "2016-06-12T00:00:00-00:00")
add_extension("sorting", "Sorting support", "Extension that indicates that sorting is enabled.",
              "2016-06-12T00:00:00-00:00")

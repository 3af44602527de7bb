"""The real clients' floating IP calls, for the tests that go through them.

python-openstackclient up to 9.x manages nova-network floating IPs through the compute API
when the catalog has no network endpoint (`openstack floating ip create|list|show|delete`,
`floating ip pool list`, `server add|remove floating ip`); 10.0 removed that path. With a 10.x
client installed, the same calls go through what the real clients still ship for it:
openstackclient's compute API helpers and openstacksdk (compute proxy, cloud layer).
"""
from cloudproj.testing.osc import osc_nova_network_floating_ips_missing as osc_nova_network_missing


class FloatingClient:
    def __init__(self, osc, sdk):
        self.osc, self.sdk = osc, sdk
        self.cli = osc_nova_network_missing() is None

    def pools(self) -> list[str]:
        if self.cli:
            return [row["Name"] for row in self.osc("floating", "ip", "pool", "list")]
        from openstackclient.api import compute_v2

        assert [p["name"] for p in self.sdk.list_floating_ip_pools()] == [
            p["name"] for p in compute_v2.list_floating_ip_pools(self.sdk.compute)]
        return [p["name"] for p in compute_v2.list_floating_ip_pools(self.sdk.compute)]

    def create(self, pool: str) -> dict:
        """{"id", "ip", "pool", "fixed_ip", "instance_id"}"""
        if self.cli:
            return self.osc("floating", "ip", "create", pool)
        created = self.sdk.create_floating_ip(network=pool)  # OSC 10's create helper posts a form body
        return self.show(created["id"])

    def show(self, key: str) -> dict:
        if self.cli:
            return self.osc("floating", "ip", "show", key)
        from openstackclient.api import compute_v2

        return compute_v2.get_floating_ip(self.sdk.compute, key)

    def addresses(self) -> list[str]:
        if self.cli:
            return [row["Floating IP Address"] for row in self.osc("floating", "ip", "list")]
        from openstackclient.api import compute_v2

        return [f["ip"] for f in compute_v2.list_floating_ips(self.sdk.compute)]

    def delete(self, key: str) -> None:
        if self.cli:
            self.osc("floating", "ip", "delete", key, raw=True)
            return
        from openstackclient.api import compute_v2

        compute_v2.delete_floating_ip(self.sdk.compute, key)

    def add(self, server: str, address: str) -> None:
        if self.cli:
            self.osc("server", "add", "floating", "ip", server, address, raw=True)
        else:
            self.sdk.compute.add_floating_ip_to_server(self.sdk.compute.find_server(server, ignore_missing=False),
                                                       address)

    def remove(self, server: str, address: str) -> None:
        if self.cli:
            self.osc("server", "remove", "floating", "ip", server, address, raw=True)
        else:
            self.sdk.compute.remove_floating_ip_from_server(
                self.sdk.compute.find_server(server, ignore_missing=False), address)

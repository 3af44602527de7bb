"""Whether the installed `openstack` CLI still speaks nova-network (python-openstackclient
up to 9.x, as pinned in requirements-dev.txt: without a network endpoint in the catalog its
network commands go through the compute API; 10.0 removed that path)."""
import importlib


def nova_network_commands_missing(module: str, command: str, what: str) -> str | None:
    """Why `openstackclient.network.v2.<module>.<command>` has no nova-network path, or None."""
    try:
        commands = importlib.import_module(f"openstackclient.network.v2.{module}")
    except ImportError:
        return "python-openstackclient is not installed"
    if not hasattr(getattr(commands, command), "take_action_compute"):
        import openstackclient

        version = getattr(openstackclient, "__version__", "")
        return (f"python-openstackclient {version} has no nova-network {what} commands "
                "(removed in 10.0); install the pinned requirements-dev.txt")
    return None

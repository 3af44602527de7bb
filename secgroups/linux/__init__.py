"""The only code of the secgroups app that touches the host: iptables (iptables.py)."""

"""The Networking API v2.0 (Neutron's) over nova-network: `/network` (see urls.py)."""

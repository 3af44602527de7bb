"""What the metadata app knows: who is asking and their data (sources.py), and what a host
agent sets up for the service (host.py)."""

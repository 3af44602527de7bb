"""The only code of the metadata app that touches the host: iptables (the DNAT of
169.254.169.254:80 to the metadata service, and the INPUT rule that lets it in)."""

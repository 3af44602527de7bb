"""The only code of the network app that touches the host: `ip` for bridges, dnsmasq.

Every value that reaches a command line or a file is validated here (validate.py);
commands take argument lists, never shell strings (cloudproj.host.run).
"""

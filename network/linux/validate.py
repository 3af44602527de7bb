"""Validators for every value that reaches a command line or a file on the host."""
import ipaddress
import re

IFNAMSIZ = 16  # including the trailing NUL: names are at most 15 characters
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}\Z")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


class InvalidValue(ValueError):
    pass


def ifname(name: str) -> str:
    if not isinstance(name, str) or not _IFNAME_RE.match(name) or name in (".", ".."):
        raise InvalidValue(
            f"invalid interface name {name!r}: 1-{IFNAMSIZ - 1} characters of [A-Za-z0-9_.-]"
        )
    return name


def mac(value: str) -> str:
    if not isinstance(value, str) or not _MAC_RE.match(value.lower()):
        raise InvalidValue(f"invalid MAC address {value!r}")
    return value.lower()


def ipv4(value) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except (ipaddress.AddressValueError, ValueError):
        raise InvalidValue(f"invalid IPv4 address {value!r}") from None


def ipv4_interface(value) -> str:
    """'10.0.0.1/24'."""
    try:
        return str(ipaddress.IPv4Interface(str(value)))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise InvalidValue(f"invalid IPv4 interface address {value!r}") from None


def hostname(value: str) -> str:
    """One RFC 1123 label (what a DHCP host entry may carry)."""
    if not isinstance(value, str) or not _LABEL_RE.match(value):
        raise InvalidValue(f"invalid hostname {value!r}: letters, digits and '-', at most 63")
    return value


def domain(value: str) -> str:
    if not isinstance(value, str) or len(value) > 253 or not value:
        raise InvalidValue(f"invalid domain {value!r}")
    for label in value.split("."):
        hostname(label)
    return value


def positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue(f"invalid {what} {value!r}")
    return value

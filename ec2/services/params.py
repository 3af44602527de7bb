"""The parameters of one EC2 Query request: a flat mapping (`InstanceId.1`, `Filter.1.Name`,
`Filter.1.Value.1`, `IpPermissions.1.IpRanges.1.CidrIp`) read as typed values and lists.
Every reader validates: a wrong type or shape is InvalidParameterValue, never an exception
that escapes as a 500."""
from __future__ import annotations

import base64
import binascii

from .errors import Ec2Error, invalid_value, missing

MAX_VALUE = 64 * 1024  # UserData (base64 of 16 KB in EC2; generous) is the longest value
MAX_INDEX = 1000


def _index(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) <= 4 and 0 < int(text) <= MAX_INDEX else None


class Params:
    def __init__(self, flat: dict):
        self.flat = flat

    def __contains__(self, name: str) -> bool:
        return name in self.flat

    def text(self, name: str, required: bool = False, default=None, max_length: int = 255, choices=None):
        value = self.flat.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if len(value) > max_length:
            raise invalid_value(f"Value for parameter {name} is longer than {max_length} characters.")
        if choices is not None and value not in choices:
            raise invalid_value(f"Value ({value[:64]}) for parameter {name} is invalid. "
                                f"Expected one of: {', '.join(choices)}.")
        return value

    def integer(self, name: str, default=None, minimum: int = 0, maximum: int = 2**31 - 1, required: bool = False):
        value = self.text(name, required=required, max_length=20)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise invalid_value(f"Value ({value}) for parameter {name} is invalid. Expected an integer.") from None
        if not minimum <= number <= maximum:
            raise invalid_value(f"Value ({value}) for parameter {name} is invalid. "
                                f"Expected a number from {minimum} to {maximum}.")
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.text(name, max_length=5)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise invalid_value(f"Value ({value}) for parameter {name} is invalid. Expected true or false.")
        return value.lower() == "true"

    def base64(self, name: str, max_length: int = MAX_VALUE) -> bytes | None:
        value = self.text(name, max_length=max_length)
        if value is None:
            return None
        try:
            return base64.b64decode(value.encode(), validate=True)
        except (binascii.Error, ValueError):
            raise invalid_value(f"Invalid BASE64 encoding of {name}.") from None

    def _indexed(self, prefix: str) -> dict[int, dict[str, str]]:
        """{index: {rest of the key: value}} of the keys `<prefix>.<index>[.rest]`."""
        found: dict[int, dict[str, str]] = {}
        head = prefix + "."
        for key, value in self.flat.items():
            if not key.startswith(head):
                continue
            number, _, rest = key[len(head):].partition(".")
            index = _index(number)
            if index is None:
                raise invalid_value(f"Invalid parameter {key[:128]}: list indexes are 1 to {MAX_INDEX}.")
            found.setdefault(index, {})[rest] = value
        return dict(sorted(found.items()))

    def values(self, prefix: str, max_length: int = 255) -> list[str]:
        """The values of `<prefix>.1`, `<prefix>.2`, ... in index order."""
        values = []
        for index, parts in self._indexed(prefix).items():
            if set(parts) != {""}:
                raise invalid_value(f"Invalid parameter {prefix}.{index}: a value was expected.")
            if len(parts[""]) > max_length:
                raise invalid_value(f"Value for parameter {prefix}.{index} is too long.")
            values.append(parts[""])
        return values

    def structs(self, prefix: str) -> list[Params]:
        """The structures `<prefix>.N.<member>...`, each as a Params of its members."""
        items = []
        for index, parts in self._indexed(prefix).items():
            if "" in parts:
                raise invalid_value(f"Invalid parameter {prefix}.{index}: a structure was expected.")
            items.append(Params(parts))
        return items

    def struct(self, prefix: str) -> Params:
        head = prefix + "."
        return Params({key[len(head):]: value for key, value in self.flat.items() if key.startswith(head)})

    def filters(self) -> dict[str, list[str]]:
        """{name: [values]} of `Filter.N.Name` / `Filter.N.Value.M`."""
        result: dict[str, list[str]] = {}
        for item in self.structs("Filter"):
            name = item.text("Name", required=True)
            values = item.values("Value")
            if not values:
                raise Ec2Error("InvalidParameterValue", f"The filter '{name[:64]}' has no value.")
            result.setdefault(name, []).extend(values)
        return result

"""EC2's XML answers: `<{Action}Response xmlns="http://ec2.amazonaws.com/doc/{version}/">` with a
requestId and the action's members, and the error document. Values are rendered from plain
data: dict -> elements, list -> `<item>`s, bool -> true/false, datetime -> ISO 8601 UTC with
milliseconds, None -> left out. Every text goes through the XML library (escaped)."""
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

NAMESPACE = "http://ec2.amazonaws.com/doc/{version}/"
# characters XML 1.0 cannot carry (a message may echo what a client sent)
_NOT_XML = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF], "?")


def clean(text: str) -> str:
    return "".join("?" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text.translate(_NOT_XML))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)
    return clean(str(value))


def _fill(parent: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            _fill(ET.SubElement(parent, key), child)
    elif isinstance(value, list | tuple):
        for child in value:
            _fill(ET.SubElement(parent, "item"), child)
    else:
        parent.text = _text(value)


def response(action: str, version: str, request_id: str, body: dict) -> bytes:
    root = ET.Element(f"{action}Response", {"xmlns": NAMESPACE.format(version=version)})
    ET.SubElement(root, "requestId").text = request_id
    _fill(root, body)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def error(code: str, message: str, request_id: str) -> bytes:
    root = ET.Element("Response")
    item = ET.SubElement(ET.SubElement(root, "Errors"), "Error")
    ET.SubElement(item, "Code").text = code
    ET.SubElement(item, "Message").text = clean(message)
    ET.SubElement(root, "RequestID").text = request_id
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

import pytest

from cloudproj.hostnames import sanitize_hostname


@pytest.mark.parametrize(("name", "label"), [
    ("My Server_1", "my-server-1"),
    ("My VM_1!", "my-vm-1"),
    ("web.example.com", "web-example-com"),
    ("--edge--", "edge"),
    ("café au lait", "caf-au-lait"),
    ("İstanbul \u212a", "stanbul"),  # letters outside latin-1 are dropped, not case-folded into ASCII
    ("a" * 70, "a" * 63),
    ("a" * 62 + "-b", "a" * 62),
    ("x;rm -rf /\n", "xrm--rf"),
])
def test_labels(name, label):
    assert sanitize_hostname(name) == label


def test_fallback_when_nothing_is_left():
    assert sanitize_hostname("!!!") == ""
    assert sanitize_hostname(None, fallback="host-1234") == "host-1234"
    assert sanitize_hostname("___", fallback="f" * 80) == "f" * 63

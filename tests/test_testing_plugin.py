"""The test suite's own rules: shared fixtures and helpers come from the pytest plugin package
(cloudproj/testing), never from another test module, and the expensive tests carry the markers
`make test-fast` leaves out."""
import ast
from pathlib import Path

import pytest

from cloudproj.testing.plugin import ROOT, markers_of

TEST_DIRS = [path for path in ROOT.glob("*/tests") if path.is_dir()] + [ROOT / "tests"]


def module_paths():
    return sorted({path for folder in TEST_DIRS for path in folder.rglob("*.py")})


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`, relative imports resolved against its package."""
    package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [(node.lineno, module)] if node.module else [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return found


def test_no_test_module_imports_another_test_module():
    offending = []
    for path in module_paths():
        for line, module in imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if last == "conftest" or (last.startswith("test_") and ".tests" in f".{module}"):
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not offending, "shared fixtures and helpers belong in cloudproj/testing:\n" + "\n".join(offending)


@pytest.mark.parametrize(("path", "markers"), [
    ("compute/tests/test_pipeline_qemu.py", ["qemu"]),
    ("compute/tests/faults/test_agent_kill.py", ["faults"]),
    ("compute/tests/faults/test_agent_kill_qemu.py", ["qemu", "faults"]),
    ("consoles/tests/test_console_browser.py", ["qemu", "browser"]),
    ("dashboard/tests/test_e2e_browser.py", ["browser"]),
    ("tests/test_make_run.py", ["e2e"]),
    ("compute/tests/test_servers_api.py", []),
])
def test_expensive_tests_are_marked_from_their_path(path, markers):
    assert markers_of(ROOT / path) == markers


def test_every_apps_tests_are_collected():
    """`make test` collects pytest.ini's testpaths only: an app whose tests/ is not listed there
    would never run in CI (the ec2 app's did not, once)."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    testpaths = set(config["pytest"]["testpaths"].split())
    apps = {path.parent.name for path in ROOT.glob("*/tests") if (path / "__init__.py").exists()}
    assert apps - testpaths == set()

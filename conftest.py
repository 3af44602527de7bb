"""The shared fixtures and markers are the project's pytest plugin: cloudproj/testing/plugin.py."""
pytest_plugins = ["cloudproj.testing.plugin"]

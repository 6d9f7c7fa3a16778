"""The app `requests` shadows PyPI requests, which must never be installed."""

import importlib.metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_requests_resolves_to_the_project_app():
    import requests

    assert Path(requests.__file__).resolve() == ROOT / "requests" / "__init__.py"


def test_pypi_requests_is_not_installed():
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("requests")

import pytest
from django.utils import translation


@pytest.fixture
def english():
    """Service messages read in English (they are zh-hans by default), for
    tests that match their text."""
    with translation.override("en"):
        yield

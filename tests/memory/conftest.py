from __future__ import annotations

import pytest

from allin.memory.manager import MemoryManager
from allin.services import Services


@pytest.fixture
def memory(services: Services) -> MemoryManager:
    """The app's memory, on the test database, with the real MiniLM embedder."""
    assert services.memory is not None
    return services.memory

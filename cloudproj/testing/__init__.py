"""What the tests share: the pytest plugin (`plugin.py`, loaded by the root conftest.py) with
its fixtures, and the helpers test modules import (API clients, the cloud of real processes,
real guests, model factories). Test modules import shared code from here, never from each other."""

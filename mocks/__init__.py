"""commerce-sandbox: an offline, stateful, fault-injecting sandbox for e-commerce integration APIs."""
from mocks.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"

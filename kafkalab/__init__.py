"""kafkalab: the helpers behind the course "Week 6: Stream Processing" (one module per idea).

Notebooks import what they need from here instead of repeating code; every function says which chapter
teaches it.
"""
from .config import bootstrap_servers
from .errors import LabError

__all__ = ["bootstrap_servers", "LabError"]
__version__ = "0.1.0"

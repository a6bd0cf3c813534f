"""Job configuration: the connector's parameters (``ExportConfig``), output mapping, saved credentials.

The base layer: every other stage reads a config; this package reads only files and the environment.
"""

from pardot_frames.config.job import ExportConfig, is_loopback_host
from pardot_frames.config.mapping import OutputMapping

__all__ = ["ExportConfig", "OutputMapping", "is_loopback_host"]

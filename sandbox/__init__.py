"""Simulated source systems. Like ``connectors``, the package spans every ``sandbox/`` directory on
``sys.path``, so a company's own connectors can bring their twins from a separate folder."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

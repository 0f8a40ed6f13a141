"""Errors the portal reports to whoever starts it, in one line."""


class PortalConfigError(ValueError):
    """The portal cannot start with these settings; the message names what is missing."""

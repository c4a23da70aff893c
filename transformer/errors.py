"""Errors the transformer raises. Each carries a message fit to show a user; none carries event data."""


class PinrecError(Exception):
    """Base class for every error pinrec raises on purpose."""


class ConfigError(PinrecError):
    """The configuration file is missing, unreadable or breaks a rule; the message names the key and rule."""


class InvalidEventError(PinrecError):
    """The invocation event is not the shape Pinpoint sends; raising makes Pinpoint retry the batch."""


class CatalogUnavailableError(PinrecError):
    """Neither the store nor the cache could resolve the batch; raising makes Pinpoint retry the batch."""

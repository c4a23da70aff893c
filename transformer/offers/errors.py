"""Errors of the offers flow."""

from transformer.errors import PinrecError


class RankingUnavailableError(PinrecError):
    """Most of a batch's Personalize rankings failed; raising makes Pinpoint retry the batch."""


class InvalidOfferError(ValueError):
    """An offer record breaks a rule; the message names the field and the rule, never the offer's values."""

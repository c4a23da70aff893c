"""Conversions: what recipients did after a campaign (a purchase, a sign-up), read from JSON Lines into a store the
campaign report attributes to its recipients (`campaign_tools.campaigns.report`)."""

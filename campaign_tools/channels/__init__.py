"""Channels: email, SMS and push. One module per channel (see base.py for what a channel is), one registry."""

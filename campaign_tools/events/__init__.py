"""Delivery events: what SES and End User Messaging report about the messages a send delivered, read from the shapes
the services publish (one module per source in `sources/`), recorded against the ledger, and fed to suppression."""

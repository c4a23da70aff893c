"""One-click unsubscribe (RFC 8058): signed tokens, the links an email carries, the signing key, and the endpoint
that answers the one-click POST and the confirmation page (`handlers/unsubscribe.py` is its Lambda function URL)."""

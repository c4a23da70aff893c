"""Send ledgers: where each message of a campaign is recorded before and after delivery, exactly once.

One module per ledger (see base.py for the contract and the claim rule they all apply), one registry."""

"""Per-endpoint message limits of campaigns, reserved before delivery: `base.py` the contract, one module per store,
`registry.py` which store a ledger spec gets."""

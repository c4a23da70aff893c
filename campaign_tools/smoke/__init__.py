"""`pinrec smoke`: one small campaign to the providers' simulators through the deployed stacks, its events awaited
through the deployed loop, and the ledger, the suppression list and the report checked against what the simulators
promise. It never sends to a real recipient (`recipients.check_recipient`)."""

"""The campaign report: figures, rates, time series and warnings from a campaign's ledger (`pinrec send report`)."""

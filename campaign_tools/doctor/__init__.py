"""`pinrec doctor`: read-only checks of a real AWS setup, one module per check family (`registry.CHECKS`), and
`pinrec smoke`: one small campaign to the providers' simulators through the deployed loop (`smoke`)."""

"""pinrec's campaign toolkit: catalogs, AWS setup, templates and sends, behind the `pinrec` command."""

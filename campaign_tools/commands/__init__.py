"""Sub-commands of `pinrec`. Each module offers `register(subparsers)` and sets `run` on its parsers."""

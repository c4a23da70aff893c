"""pinrec's benchmark suite: `python -m bench [--quick]` (or `make bench`); writes bench/RESULTS.md."""

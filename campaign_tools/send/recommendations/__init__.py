"""Recommendation sources: where each endpoint's recommended item ids come from, the step Pinpoint did before it
called the transformer. One module per source (see base.py), one registry."""

"""`pinrec migrate`: a Pinpoint project (its `aws pinpoint get-*` JSON and endpoint exports, or its API) turned into
a pinrec project, with MIGRATION.md saying what each object became and what was not carried over, and why.

`source` gathers the objects (from a folder, or `api` from the Pinpoint API); one module per object kind converts
(`templates`, `recommenders`, `segments`, `campaigns`); `report` writes MIGRATION.md; `run` ties them together.
"""

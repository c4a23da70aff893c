"""Catalog backends: one module per backend (its `[store]` model, reader, writer and stats), found by `kind` in
`transformer.stores.registry`. Only the backend a configuration names is ever imported."""

"""Building the transformer's Lambda deployment package: runtime dependencies, sources, config, one zip."""

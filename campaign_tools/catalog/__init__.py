"""Loading and inspecting item catalogs."""

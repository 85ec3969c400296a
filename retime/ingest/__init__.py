"""Readers that normalize profiler traces into the store: one module per source format."""

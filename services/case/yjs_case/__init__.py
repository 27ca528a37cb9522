"""The case service: one record per application, from submission to 统一出件."""

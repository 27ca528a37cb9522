"""The `yjs` command line."""

"""Task types: one module per type (payload model + activity), declared in ``builtin``."""

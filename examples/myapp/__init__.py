"""An application of your own that brings its task types to the runner (see ../README.md)."""

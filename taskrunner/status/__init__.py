"""What the runner is doing, in one object: ``taskrunner status`` and the dashboard."""

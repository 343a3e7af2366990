"""Example environment configurations (dev, test, prod) for the drift check."""

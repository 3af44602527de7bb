"""Models of the network app."""

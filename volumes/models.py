"""Models of the volumes app."""

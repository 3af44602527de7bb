"""Models of the images app."""

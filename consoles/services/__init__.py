"""Console tokens and URLs in plain Python."""

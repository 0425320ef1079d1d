"""``make bench``: how close the service runs to its limits. See bench/README.md."""

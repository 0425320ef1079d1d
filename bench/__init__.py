"""``make bench``: how close the service runs to its limits (SPEC §8). See bench/README.md."""

"""Near-duplicate detection: shingling, MinHash, LSH banding, clustering logic (no Beam)."""

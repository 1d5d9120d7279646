"""WARC input, snapshot resolution, charset decoding, extraction, documents, statistics (no Beam)."""

"""Rapid Japanese detection, language ID and the document filters (no Beam)."""

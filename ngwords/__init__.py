"""NG-word lists (data files with a header)."""

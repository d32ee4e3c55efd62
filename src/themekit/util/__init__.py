"""Small helpers every layer may use: atomic writes, guarded YAML and zip reading, text sanitising, limits."""

"""A run: the data it produced (:mod:`.record`) and its folder on disk (:mod:`.folder`)."""

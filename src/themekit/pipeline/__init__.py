"""``code()``: read → segment → code → apply decisions as named steps (:mod:`.steps`), in batches (:mod:`.batch`) on an engine (:mod:`.engine`)."""

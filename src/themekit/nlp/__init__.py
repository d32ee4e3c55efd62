"""Language: the spaCy pipeline (:mod:`.language`), units of coding (:mod:`.segment`) and sentence embeddings (:mod:`.embed`)."""

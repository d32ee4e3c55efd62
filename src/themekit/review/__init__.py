"""People's review: sheets out and back (:mod:`.sheets`), reconciling coders (:mod:`.reconcile`), the web app's decisions (:mod:`.decide`) and its learning queue (:mod:`.queue`)."""

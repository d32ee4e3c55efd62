"""Human codings as people have them: coder files long and wide (:mod:`.coderfile`), mapped onto a run's segments (:mod:`.gold`)."""

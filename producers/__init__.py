"""Stage package; imports the shared `orion` package, never another stage."""

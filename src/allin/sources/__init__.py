"""Repository files as a knowledge source: which files to index and how to cut them into chunks."""

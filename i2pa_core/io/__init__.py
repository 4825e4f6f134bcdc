"""Files on disk: atomic writes, the posts table, pair lists, images and checkpoints (the bottom layer)."""

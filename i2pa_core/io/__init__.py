"""Files on disk, the bottom layer: atomic writes, the posts table, pair lists, images,
checkpoints and the tables that the stages after ``pairs`` read.
"""

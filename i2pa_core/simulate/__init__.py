"""The synthetic platform with known ground truth: users, posts, captions, likes and
rendered images. Our design, standing in for the paper's Instagram crawl (see the README,
"The synthetic platform").
"""

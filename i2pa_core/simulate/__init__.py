"""The synthetic platform with known ground truth: users, posts, captions, likes and rendered images (our design, standing in for the paper's Instagram crawl)."""

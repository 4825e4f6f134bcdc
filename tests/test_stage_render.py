"""The render stage draws exactly the PDIP posts' images, identical to a full render."""

import pandas as pd
import pytest

from i2pa_core.simulate.platform import SimulateConfig, simulate_platform, write_platform
from i2pa_core.simulate.pair_images import pair_posts, render_pair_images

TINY = SimulateConfig(n_users=4, users_per_block=2, days=20, image_size=16)


def test_only_paired_posts_are_rendered_and_equal_a_full_render(tmp_path):
    platform = simulate_platform(TINY, 3)
    write_platform(platform, TINY, tmp_path / "full", 3, progress=False)
    ids = platform.posts["post_id"]
    pairs = pd.DataFrame({"a_post_id": [ids.iloc[5], ids.iloc[1]],
                          "b_post_id": [ids.iloc[2], ids.iloc[5]]})
    render_pair_images(platform.posts, platform.truth, pairs, tmp_path / "some", 16, 0.12)
    written = sorted(p.name for p in (tmp_path / "some" / "images").rglob("*.jpg"))
    assert written == sorted(f"{ids.iloc[i]}.jpg" for i in (1, 2, 5))
    for rel in platform.posts["image"].iloc[[1, 2, 5]]:
        assert (tmp_path / "some" / rel).read_bytes() == (tmp_path / "full" / rel).read_bytes()
    manifest = (tmp_path / "some" / "images.md5").read_text().splitlines()
    assert [line.split("  ")[1] for line in manifest] == list(platform.posts["image"].iloc[[1, 2, 5]])


def test_pair_posts_refuses_unknown_ids_and_misaligned_tables():
    platform = simulate_platform(TINY, 3)
    pairs = pd.DataFrame({"a_post_id": ["P99999999"], "b_post_id": [platform.posts["post_id"][0]]})
    with pytest.raises(ValueError, match="P99999999"):
        pair_posts(platform.posts, platform.truth, pairs)
    with pytest.raises(ValueError, match="row-aligned"):
        pair_posts(platform.posts, platform.truth.iloc[::-1], pairs)

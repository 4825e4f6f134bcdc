"""The ``data`` section of params.yaml: which input the pipeline runs on, and how to say so.

``source: synthetic`` (the default) runs on the simulated platform: ``posts``, ``truth`` and
``image_root`` are the outputs of the ``simulate`` and ``render`` stages. ``source: posts`` runs
on your crawl: ``posts`` names your posts table (:mod:`i2pa_core.io.posts`), ``image_root`` the
folder in which each post's image is found, and ``truth`` optionally a ground-truth table (left
at the platform's path, there is none). ``responses`` and ``subjects`` name real answers of the
human study (``i2pa human serve``); without them the platform gets a simulated panel and a crawl
gets no human study.

:class:`DataSource` is the provenance that every caption, table, metrics file and checkpoint
carries: "simulated platform (synthetic posts, not Instagram)" or "posts table <file>, N posts".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from i2pa_core import paths
from i2pa_core.config import ConfigError, from_mapping

Source = Literal["synthetic", "posts"]
SIMULATED_LABEL = "simulated platform (synthetic posts, not Instagram)"


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section (module docstring)."""

    source: Source = "synthetic"
    posts: str = paths.POSTS
    image_root: str = paths.RENDER
    truth: str = paths.TRUTH
    responses: str | None = None
    subjects: str | None = None

    def __post_init__(self):
        for key, platform in (("posts", paths.POSTS), ("image_root", paths.RENDER)):
            own = str(getattr(self, key)).rstrip("/") != platform
            if self.source == "posts" and not own:
                raise ConfigError(f"data.{key}: with data.source: posts, name your own "
                                  f"{'posts table' if key == 'posts' else 'image folder'} "
                                  f"(it is still the platform's {platform})")
            if self.source == "synthetic" and own:
                raise ConfigError(f"data.{key}: with data.source: synthetic it is the "
                                  f"platform's {platform}, not {getattr(self, key)!r} (set "
                                  "data.source: posts for a crawl)")
        if (self.responses is None) != (self.subjects is None):
            raise ConfigError("data.responses and data.subjects: set both (the files that "
                              "'i2pa human serve' writes) or neither")

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def truth_path(self) -> str | None:
        """The ground-truth table, or None: a crawl has none unless ``truth`` names one."""
        if self.source == "posts" and self.truth == paths.TRUTH:
            return None
        return self.truth


def data_config(section: Mapping | None) -> DataConfig:
    """Parse the ``data`` section (missing keys take the synthetic defaults)."""
    return from_mapping(DataConfig, section, "data")


@dataclass(frozen=True)
class DataSource:
    """What a result was computed on, in words (module docstring)."""

    synthetic: bool
    label: str      # "simulated platform (...)" or "posts table crawl.csv, 991 posts"
    short: str      # "the simulated platform" or "posts table crawl.csv"

    @property
    def note(self) -> str:
        """The caption line: "Data: <label>."."""
        return f"Data: {self.label}."

    @classmethod
    def of(cls, cfg: DataConfig, n_posts: int | None = None) -> "DataSource":
        if cfg.synthetic:
            return cls(True, SIMULATED_LABEL, "the simulated platform")
        name = Path(cfg.posts).name
        count = "" if n_posts is None else f", {n_posts:,} posts"
        return cls(False, f"posts table {name}{count}", f"posts table {name}")

    def as_metrics(self) -> dict:
        """The ``data_source`` entry of a metrics file."""
        return {"data_source": self.label}

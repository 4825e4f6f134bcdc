"""Safe image input: every file becomes an RGB image or a one-line reason, never a crash.

What :func:`open_rgb` guarantees for any file:

- **Formats**: only JPEG (and MPO, the multi-picture JPEG of phones, a separate plugin in
  older Pillow), PNG, WebP, BMP, GIF and
  TIFF are decoded (``ALLOWED_FORMATS``). EPS and other exotic formats are refused: Pillow
  hands EPS to Ghostscript, an external program we do not want fed untrusted files.
- **Size**: an image with more than ``max_pixels`` pixels is refused *before* it is decoded
  (a decompression bomb); Pillow's own DecompressionBombWarning/Error are caught and turned
  into the same refusal. Pillow additionally refuses anything above twice its global
  ``Image.MAX_IMAGE_PIXELS`` whatever ``max_pixels`` says.
- **Orientation**: the EXIF orientation tag is applied (``ImageOps.exif_transpose``), so a
  phone photo is scored the way it is displayed.
- **Colour**: the result is always 8-bit RGB (:func:`to_rgb`). Transparent images (RGBA, LA,
  PA, palette or grey with a transparency key) are composited on **white**, the background a
  social-media viewer shows them on; 16-bit grey (``I;16*``, and ``I`` read on the 16-bit
  scale) is mapped by ``round(v / 257)`` so 65535 becomes 255; CMYK, palette, grey, bilevel
  and YCbCr go through Pillow's ``convert("RGB")`` (CMYK without colour management).
- **Failures**: zero-byte, non-image, truncated and corrupt files raise :class:`ImageError`
  with a short reason; Pillow never loads a truncated file silently
  (``ImageFile.LOAD_TRUNCATED_IMAGES`` is left False).

Paths: :func:`contained_path` and :func:`image_for_id` turn names from data files (shortcodes,
relative image paths) into files that are guaranteed to lie inside the image folder, and
:func:`iter_image_files` walks folders lazily, one directory listing at a time, reporting
every file it will not score.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path, PurePath
from typing import Iterable, Iterator, NoReturn

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from i2pa_core.io.pair_list import SHORTCODE_RE

ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF", "TIFF")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's default Image.MAX_IMAGE_PIXELS (about 0.25 GB RGB)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


class ImageError(ValueError):
    """A file that cannot be scored; the message is the one-line reason."""


class UnsafePathError(ValueError):
    """A name from a data file that would lead outside the image folder."""


def open_rgb(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB image; raise :class:`ImageError` otherwise."""
    try:
        # One open + fstat instead of a path stat plus Pillow's own open: on the 64 px JPEGs of
        # the simulation this bookkeeping was ~30% of the time (benchmarks/train_throughput.py).
        file = open(path, "rb")
    except OSError as exc:
        _refuse_unopenable(path, exc)
    with file, warnings.catch_warnings():
        if os.fstat(file.fileno()).st_size == 0:
            raise ImageError("empty file (0 bytes)")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(file, formats=_allowed_formats()) as image:
                check_pixels(image.size, max_pixels)
                image.load()
                return to_rgb(ImageOps.exif_transpose(image))
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(f"refused as a decompression bomb ({exc})") from None
        except UnidentifiedImageError:
            raise ImageError("not an image (no supported format: "
                             f"{', '.join(ALLOWED_FORMATS)})") from None
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError...
            raise ImageError(f"corrupt or truncated image ({type(exc).__name__}: {exc})") from None


def _refuse_unopenable(path, error: OSError) -> NoReturn:
    """The reason for a path that cannot be opened; an empty one is reported as empty first."""
    try:
        empty = os.stat(path).st_size == 0
    except OSError as exc:
        raise ImageError(f"cannot read file ({exc.strerror})") from None
    if empty:
        raise ImageError("empty file (0 bytes)")
    raise ImageError(f"cannot read file ({error.strerror})") from None


@functools.cache
def _allowed_formats() -> tuple[str, ...]:
    """ALLOWED_FORMATS this Pillow has plugins for (MPO: older Pillow), computed once."""
    Image.init()  # registers every plugin, so that ``Image.OPEN`` can name them
    return tuple(name for name in ALLOWED_FORMATS if name in Image.OPEN)


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse an image of ``size`` (width, height) with more than ``max_pixels`` pixels."""
    width, height = size
    if width * height > max_pixels:
        raise ImageError(f"refused as a decompression bomb: {width}x{height} = "
                         f"{width * height:,} pixels exceeds the limit of {max_pixels:,}")


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow image as 8-bit RGB (rules in the module docstring)."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def contained_path(root: str | os.PathLike, relative: str | os.PathLike) -> Path:
    """``root / relative`` resolved, refused unless it stays inside ``root``.

    Refuses empty names, NUL bytes, absolute paths, ``..`` components and names whose
    resolution (symlinks included) leaves ``root``. Raises :class:`UnsafePathError`.
    """
    text = os.fspath(relative)
    if not text or "\x00" in text:
        raise UnsafePathError(f"unsafe file name {text!r} (empty or NUL byte)")
    parts = PurePath(text)
    if parts.is_absolute() or parts.anchor:
        raise UnsafePathError(f"unsafe file name {text!r} (absolute path)")
    if ".." in parts.parts:
        raise UnsafePathError(f"unsafe file name {text!r} ('..' leaves the image folder)")
    base = Path(root).resolve()
    target = (base / parts).resolve()
    if not target.is_relative_to(base):
        raise UnsafePathError(f"unsafe file name {text!r} (resolves outside {base}; symlink?)")
    return target


def image_for_id(root: str | os.PathLike, post_id: str, ext: str = ".jpg") -> Path:
    """The image file of a post id (shortcode) in ``root``: ``root/<post_id><ext>``, contained.

    The id must be a shortcode (letters, digits, ``-``, ``_``), as in the released list.
    """
    if not SHORTCODE_RE.fullmatch(str(post_id)):
        raise UnsafePathError(f"post id {post_id!r} is not a shortcode (letters, digits, '-', "
                              "'_'); refused as a file name")
    if "/" in ext or "\\" in ext or "\x00" in ext:
        raise UnsafePathError(f"extension {ext!r} must not contain a path separator")
    return contained_path(root, f"{post_id}{ext}")


def iter_image_files(inputs: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(path, None)`` for each file to score and ``(path, reason)`` for each skipped one.

    Files named explicitly are always tried. Folders are walked recursively and lazily, each
    directory's entries sorted by name (memory: one directory listing at a time); files
    without an image extension, symlinks leading outside the folder and symlinked folders
    (not followed, to avoid loops) are reported, never dropped silently.
    """
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            yield from _walk(path, path.resolve())
        elif path.is_file():
            yield path, None
        elif not path.exists():
            yield path, "no such file or folder"
        else:
            yield path, "not a regular file"


def _walk(folder: Path, root: Path) -> Iterator[tuple[Path, str | None]]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        yield folder, f"cannot list folder ({exc.strerror})"
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                yield path, f"symlink leads outside {root}"
                continue
            if target.is_dir():
                yield path, "symlinked folder (not followed)"
                continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, root)
        elif path.suffix.lower() not in IMAGE_EXTENSIONS:
            yield path, f"not an image file name (extension {path.suffix or 'none'!r})"
        elif entry.is_file():
            yield path, None
        else:
            yield path, "not a regular file"

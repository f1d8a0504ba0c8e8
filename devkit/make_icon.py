"""Draw the plugin's icon.png (428x118, transparent, in the style of official CE icons).

A dark AWS-navy tile holding a person behind an orange session badge, then the product
name. Run ``python -m devkit.make_icon`` after changing it; the PNG is committed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

NAVY = (35, 47, 62, 255)
ORANGE = (255, 153, 0, 255)
WHITE = (255, 255, 255, 255)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SCALE = 4  # draw large, downsample for clean anti-aliasing


def draw(path: Path) -> None:
    width, height = 428 * SCALE, 118 * SCALE
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    s = SCALE
    # tile
    pen.rounded_rectangle((4 * s, 5 * s, 112 * s, 113 * s), radius=18 * s, fill=NAVY)
    # person: head and shoulders
    pen.ellipse((36 * s, 22 * s, 66 * s, 52 * s), fill=WHITE)
    pen.pieslice((22 * s, 56 * s, 80 * s, 114 * s), 180, 360, fill=WHITE)
    pen.rectangle((22 * s, 84 * s, 80 * s, 96 * s), fill=NAVY)
    # session badge: an orange rounded tag with a key-hole
    pen.rounded_rectangle(
        (62 * s, 58 * s, 102 * s, 96 * s), radius=7 * s, fill=ORANGE, outline=NAVY, width=3 * s
    )
    pen.ellipse((76 * s, 66 * s, 88 * s, 78 * s), fill=NAVY)
    pen.polygon([(79 * s, 75 * s), (85 * s, 75 * s), (87 * s, 89 * s), (77 * s, 89 * s)], fill=NAVY)
    left, room = 126 * s, (428 - 126 - 4) * s
    bold = _fit("DejaVuSansCondensed-Bold.ttf", "Role Session", room, 46 * s)
    regular = _fit("DejaVuSansCondensed.ttf", "Identity for AWS", room, 34 * s)
    pen.text((left, 12 * s), "Role Session", font=bold, fill=NAVY)
    pen.text((left + 2 * s, 66 * s), "Identity for AWS", font=regular, fill=ORANGE)
    image = image.resize((428, 118), Image.Resampling.LANCZOS)
    # a 64-colour palette keeps the file small (official icons are under 15 KB)
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def _fit(font_file: str, text: str, room: int, size: int) -> ImageFont.FreeTypeFont:
    """The largest font size up to ``size`` at which ``text`` fits in ``room`` pixels."""
    while True:
        font = ImageFont.truetype(str(FONT_DIR / font_file), size)
        if font.getlength(text) <= room or size <= 8:
            return font
        size -= SCALE


def main(argv: list[str] | None = None) -> int:
    target = Path(__file__).resolve().parent.parent / "icon.png"
    draw(target)
    print(f"wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

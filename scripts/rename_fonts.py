"""Give the shipped DejaVu fonts a family name of their own: "DejaVu Sans" → "gpuviz DejaVu Sans".

Why: a machine may have another font that calls itself "DejaVu Sans" (an
older or patched DejaVu, a distribution's variant). Under the same family and
style name fontconfig is free to pick the machine's face over the one gpuviz
registers, and then a slide that fits here would not fit there. Under a name
of its own the shipped face is the only candidate.

The glyphs, metrics and hinting are untouched; only the name table changes
(family, full name, unique id, PostScript name). The DejaVu changes are in the
public domain and the Bitstream Vera licence allows modified copies whose
names contain neither "Bitstream" nor "Vera" (assets/fonts/LICENSE-DejaVu.txt).

Run once, in place, on the files of assets/fonts (a file already renamed is
left as it is). Needs fontTools, a tool for this step only, not a dependency
of gpuviz: ``pip install fonttools``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PREFIX = "gpuviz "
REPO = Path(__file__).resolve().parent.parent
FAMILY_IDS = (1, 3, 4, 16)  # family, unique id, full name, typographic family
POSTSCRIPT_ID = 6


def rename(path: Path) -> bool:
    """Rename one font file's family in place; False when it was already renamed."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path))
    names = font["name"]
    if any(r.nameID == 1 and r.toUnicode().startswith(PREFIX) for r in names.names):
        return False
    for record in names.names:
        text = record.toUnicode()
        if record.nameID in FAMILY_IDS and text.startswith("DejaVu"):
            names.setName(PREFIX + text, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == POSTSCRIPT_ID and text.startswith("DejaVu"):
            names.setName(PREFIX.strip() + text, record.nameID, record.platformID, record.platEncID,
                          record.langID)
    font.save(str(path))
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO / "assets" / "fonts",
                        help="where the .ttf files are (default: assets/fonts)")
    args = parser.parse_args(argv)
    try:
        import fontTools  # noqa: F401
    except ImportError:
        print("rename_fonts: needs fontTools (pip install fonttools)", file=sys.stderr)
        return 2
    files = sorted(args.folder.glob("*.ttf"))
    if not files:
        print(f"rename_fonts: no .ttf files in {args.folder}", file=sys.stderr)
        return 2
    for path in files:
        print(f"{path.name}: {'renamed' if rename(path) else 'already renamed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

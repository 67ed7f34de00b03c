"""The claim label stuck on a hub's box: its QR code (the claim URL), the claim code as
text under it for typing by hand, and the hub id. One 50×30 mm image at 600 dpi, written
as PNG (screens, label printers) and PDF (office printers: printed at its true size), and
the QR alone as SVG."""

from pathlib import Path

WIDTH_MM, HEIGHT_MM = 50, 30
DPI = 600
_PX_PER_MM = DPI / 25.4


def _px(mm):
    return round(mm * _PX_PER_MM)


def image(url, code, hub_id):
    """A Pillow image of the label: QR on the left, code and hub id beside and under it."""
    import segno
    from PIL import Image, ImageDraw, ImageFont

    qr = segno.make(url, error="m")
    w, h = _px(WIDTH_MM), _px(HEIGHT_MM)
    label = Image.new("1", (w, h), 1)
    # The QR fills the label's height less the text line: about 21 mm, so a phone reads
    # it from 20 cm even with a cheap camera (modules stay above 0.5 mm).
    text_h = _px(6)
    size = qr.symbol_size(scale=1, border=4)[0]
    scale = (h - text_h) // size
    qr_img = Image.new("1", (size * scale, size * scale), 1)
    draw = ImageDraw.Draw(qr_img)
    for y, row in enumerate(qr.matrix_iter(scale=1, border=4)):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle(
                    (x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1), fill=0
                )
    label.paste(qr_img, (0, 0))
    draw = ImageDraw.Draw(label)
    big = ImageFont.load_default(size=_px(3.6))  # 3.6 mm capitals: readable at arm's length
    small = ImageFont.load_default(size=_px(2.4))
    draw.text((_px(1.5), h - text_h + _px(0.8)), code, font=big, fill=0)
    right = size * scale + _px(0.5)
    draw.text((right, _px(4)), "Portineria", font=small, fill=0)
    draw.text((right, _px(8)), hub_id, font=small, fill=0)
    draw.text((right, _px(14)), "claim code below", font=small, fill=0)
    return label, qr


def write(folder, url, code, hub_id):
    """Write HUB-label.png, .pdf and .svg into `folder`; returns {kind: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    label, qr = image(url, code, hub_id)
    paths = {k: folder / f"{hub_id}-label.{k}" for k in ("png", "pdf", "svg")}
    label.save(paths["png"], dpi=(DPI, DPI))
    label.save(paths["pdf"], resolution=DPI)  # page size = pixels / resolution = 50×30 mm
    qr.save(paths["svg"], scale=4)
    return {"label_" + k: str(p) for k, p in paths.items()}

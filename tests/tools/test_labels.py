"""The claim label: 50×30 mm at its true size in the PDF, the QR code module for module
the claim URL's, the code and hub id printed beside it."""

import re

import segno
from PIL import Image

from tools import labels

URL = "http://127.0.0.1:8000/claim?code=0WYQTRW3CHBB"


def test_label_files_and_true_size(tmp_path):
    paths = labels.write(tmp_path, URL, "0WYQ-TRW3-CHBB", "hub-3e80ce25d8")
    assert sorted(paths) == ["label_pdf", "label_png", "label_svg"]
    pdf = (tmp_path / "hub-3e80ce25d8-label.pdf").read_bytes()
    box = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", pdf)
    width_mm, height_mm = (float(x) * 25.4 / 72 for x in box.groups())
    assert abs(width_mm - 50) < 0.1 and abs(height_mm - 30) < 0.1
    png = Image.open(tmp_path / "hub-3e80ce25d8-label.png")
    assert png.size == (1181, 709) and round(png.info["dpi"][0]) == 600
    assert b"<svg" in (tmp_path / "hub-3e80ce25d8-label.svg").read_bytes()


def test_qr_code_is_the_claim_urls_and_big_enough_to_scan():
    label, _ = labels.image(URL, "0WYQ-TRW3-CHBB", "hub-3e80ce25d8")
    matrix = [list(row) for row in segno.make(URL, error="m").matrix_iter(border=4)]
    module = label.height * 24 // 30 // len(matrix)  # the QR's share of the height
    assert module * 25.4 / labels.DPI >= 0.5  # mm per module: phones read 0.5 mm and up
    sampled = [
        [label.getpixel((x * module + module // 2, y * module + module // 2)) == 0
         for x in range(len(matrix))]
        for y in range(len(matrix))
    ]  # fmt: skip
    assert sampled == [[bool(v) for v in row] for row in matrix]


def test_code_and_hub_id_are_printed():
    blank, _ = labels.image(URL, "", "")
    label, _ = labels.image(URL, "0WYQ-TRW3-CHBB", "hub-3e80ce25d8")
    qr_side = label.height * 24 // 30
    under = (0, qr_side, label.width, label.height)  # the claim code's line
    beside = (qr_side + 10, 0, label.width, qr_side)  # "Portineria", the hub id
    for box in (under, beside):
        # Black pixels: bin 0 of a bilevel image's histogram.
        assert label.crop(box).histogram()[0] > blank.crop(box).histogram()[0] + 500

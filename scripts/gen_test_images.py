#!/usr/bin/env python3
"""Derive the small test images of tests/data/images from the real photographs in
../shared/fixtures/c2pa (relative to the repository root).

Every PNG/JPEG layout the decoders must handle as PIL's convert("RGB") does: grayscale, grayscale
+ alpha, RGBA, palette (with and without transparency), 1/4-bit grayscale, 16-bit grayscale, RGB,
grayscale + alpha and RGBA, Adam7 interlacing, grayscale / CMYK / progressive JPEGs, the eight
EXIF orientations in JPEG and one in PNG and WebP, XMP orientations, lossy / lossless / alpha WebP; and hostile files (truncated, corrupt, zero-sized, a
decompression bomb header). PIL writes what it can; a small PNG writer below writes the layouts
PIL cannot (16-bit colour, 4-bit grayscale, interlaced).

    python3 scripts/gen_test_images.py            # writes tests/data/images/
"""
import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "fixtures" / "c2pa"
OUT = ROOT / "tests" / "data" / "images"


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_rows(arr, depth):
    """arr (H, W, C) of integers -> list of byte rows at the bit depth."""
    h = arr.shape[0]
    rows = []
    for y in range(h):
        r = arr[y].reshape(-1)
        if depth == 16:
            rows.append(r.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(r.astype(np.uint8).tobytes())
        else:
            per = 8 // depth
            r = np.concatenate([r, np.zeros((-len(r)) % per, dtype=r.dtype)]).astype(np.uint8)
            r = r.reshape(-1, per)
            b = np.zeros(len(r), dtype=np.uint8)
            for i in range(per):
                b |= r[:, i] << (8 - depth * (i + 1))
            rows.append(b.tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, arr, depth, color_type, interlace=False, extra_chunks=()):
    """A PNG from (H, W, C) samples; color_type as in the PNG spec (0 gray, 2 RGB, 4 GA, 6 RGBA)."""
    h, w = arr.shape[:2]
    raw = b""
    if not interlace:
        for row in pack_rows(arr, depth):
            raw += b"\0" + row
    else:
        for x0, y0, dx, dy in ADAM7:
            sub = arr[y0::dy, x0::dx]
            if sub.size == 0:
                continue
            for row in pack_rows(sub, depth):
                raw += b"\0" + row
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, payload in extra_chunks:
        data += chunk(kind, payload)
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)


def exif_with_orientation(o):
    im = Image.new("RGB", (1, 1))
    ex = im.getexif()
    ex[0x0112] = o
    return ex.tobytes()


def main():
    if not SRC.exists():
        sys.exit(f"missing {SRC}")
    OUT.mkdir(parents=True, exist_ok=True)
    photo = Image.open(SRC / "CA.jpg").convert("RGB")
    base = photo.resize((256, 171), Image.Resampling.LANCZOS)
    a = np.asarray(base)
    h, w = a.shape[:2]
    rng = np.random.default_rng(7)
    gray = np.asarray(base.convert("L"))
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = ((xx * 255) // (w - 1)).astype(np.uint8)

    base.save(OUT / "rgb.png")
    base.convert("L").save(OUT / "gray.png")
    Image.fromarray(np.dstack([gray, alpha]), "LA").save(OUT / "gray_alpha.png")
    Image.fromarray(np.dstack([a, alpha]), "RGBA").save(OUT / "rgba.png")
    pal = base.quantize(colors=200)
    pal.save(OUT / "palette.png")
    pal.save(OUT / "palette_trns.png", transparency=3)
    base.quantize(colors=16).save(OUT / "palette4.png", bits=4)
    base.convert("1").save(OUT / "gray1.png")
    # Layouts PIL does not write: 4-bit and 16-bit samples, interlacing.
    write_png(OUT / "gray4.png", (gray >> 4)[..., None], 4, 0)
    # Random low bytes (which PIL drops) do not compress: keep these two small.
    a16, al16 = a[:64, :96].astype(np.uint16), alpha[:64, :96].astype(np.uint16)
    low = rng.integers(0, 256, size=a16.shape, dtype=np.uint16)
    write_png(OUT / "rgb16.png", a16 * 256 + low, 16, 2)
    write_png(OUT / "rgba16.png", np.dstack([a16 * 256 + low, al16 * 257]), 16, 6)
    write_png(OUT / "gray_alpha16.png", np.dstack([gray.astype(np.uint16) * 256 + 77, alpha.astype(np.uint16) * 257]),
              16, 4)
    # 16-bit grayscale: PIL clamps at 255, so spread values around that threshold.
    write_png(OUT / "gray16.png", (gray.astype(np.uint16) * 2)[..., None], 16, 0)
    write_png(OUT / "interlaced.png", a, 8, 2, interlace=True)
    # One transparent colour (tRNS): PIL keeps it through convert("RGB"); transformers' CLIP-style
    # processors paint it white. Pick colours that occur in the image.
    r, g, b = (int(v) for v in a[h // 2, w // 2])
    write_png(OUT / "rgb_trns.png", a, 8, 2, extra_chunks=[(b"tRNS", struct.pack(">HHH", r, g, b))])
    write_png(OUT / "gray_trns.png", gray[..., None], 8, 0,
              extra_chunks=[(b"tRNS", struct.pack(">H", int(gray[h // 2, w // 2])))])
    # PIL's quirks with grey transparency: 1-bit and 16-bit keep an integer that PIL later reads
    # as a packed colour (only 0 matches a grey pixel); 2/4-bit keep the raw, unscaled sample.
    dark = np.where(xx < w // 4, 0, gray).astype(np.uint16)
    write_png(OUT / "gray16_trns0.png", dark[..., None] * 3, 16, 0, extra_chunks=[(b"tRNS", struct.pack(">H", 0))])
    write_png(OUT / "gray16_trns.png", dark[..., None], 16, 0, extra_chunks=[(b"tRNS", struct.pack(">H", 100))])
    write_png(OUT / "gray4_trns0.png", (dark >> 4)[..., None], 4, 0, extra_chunks=[(b"tRNS", struct.pack(">H", 0))])
    write_png(OUT / "gray1_trns0.png", (dark > 120)[..., None].astype(np.uint16), 1, 0,
              extra_chunks=[(b"tRNS", struct.pack(">H", 0))])
    write_png(OUT / "gray1_trns1.png", (dark > 120)[..., None].astype(np.uint16), 1, 0,
              extra_chunks=[(b"tRNS", struct.pack(">H", 1))])
    write_png(OUT / "gray16_interlaced.png", (gray.astype(np.uint16) * 3)[..., None], 16, 0, interlace=True)
    # Tiny images (upsampling paths) and odd sizes.
    base.resize((37, 23), Image.Resampling.BILINEAR).save(OUT / "tiny.png")
    base.resize((1, 1), Image.Resampling.BILINEAR).save(OUT / "one.png")
    base.crop((0, 0, 255, 40)).save(OUT / "wide.png")
    base.crop((0, 0, 30, 171)).save(OUT / "tall.png")

    # JPEG variants.
    base.save(OUT / "photo.jpg", quality=90)
    base.convert("L").save(OUT / "gray.jpg", quality=90)
    base.convert("CMYK").save(OUT / "cmyk.jpg", quality=90)
    base.save(OUT / "progressive.jpg", quality=85, progressive=True)
    base.save(OUT / "subsampling444.jpg", quality=90, subsampling=0)
    # EXIF orientations on an asymmetric image, so every transposition is visible.
    small = base.resize((48, 32), Image.Resampling.BILINEAR)
    for o in range(1, 9):
        small.save(OUT / f"orient{o}.jpg", quality=95, exif=exif_with_orientation(o))
    small.save(OUT / "orient6.png", exif=exif_with_orientation(6))
    # Orientation only in XMP (PIL falls back to it when EXIF has none).
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="8"/></rdf:RDF></x:xmpmeta>')
    small.save(OUT / "orient_xmp.jpg", quality=95, xmp=xmp)
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.replace(b'tiff:Orientation="8"/>', b'><tiff:Orientation>5</tiff:Orientation>'
                                                   b'</rdf:Description>').decode())
    small.save(OUT / "orient_xmp.png", pnginfo=info)

    # WebP: lossy, lossless, with alpha, with an EXIF orientation; an animation (refused).
    base.save(OUT / "photo.webp", quality=80)
    base.save(OUT / "lossless.webp", lossless=True)
    Image.fromarray(np.dstack([a, alpha]), "RGBA").save(OUT / "rgba.webp", quality=80)
    small.save(OUT / "orient6.webp", quality=90, exif=exif_with_orientation(6))
    frames = [small, small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    frames[0].save(OUT / "unsupported_animated.webp", save_all=True, append_images=frames[1:], duration=100)

    # Hostile files.
    jpg = (OUT / "photo.jpg").read_bytes()
    png = (OUT / "rgb.png").read_bytes()
    (OUT / "bad_truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (OUT / "bad_truncated.png").write_bytes(png[: len(png) // 2])
    (OUT / "bad_header_only.jpg").write_bytes(jpg[:200])
    webp = (OUT / "photo.webp").read_bytes()
    (OUT / "bad_truncated.webp").write_bytes(webp[: len(webp) // 2])
    corrupt = bytearray(png)
    corrupt[40:60] = b"\xff" * 20  # inside IDAT: zlib/CRC failure
    (OUT / "bad_corrupt.png").write_bytes(bytes(corrupt))
    (OUT / "bad_not_image.jpg").write_bytes(b"this is not an image\n")
    (OUT / "bad_empty.png").write_bytes(b"")
    # Decompression bomb: a valid header claiming 100000 x 100000 pixels, almost no data.
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
    bomb += chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    (OUT / "bad_bomb.png").write_bytes(bomb)
    zero = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    (OUT / "bad_zero.png").write_bytes(zero)
    # A JPEG whose frame header claims 65500 x 65500.
    buf = bytearray(jpg)
    sof = next(i for i in range(len(buf) - 1) if buf[i] == 0xFF and buf[i + 1] in (0xC0, 0xC1, 0xC2))
    buf[sof + 5:sof + 9] = struct.pack(">HH", 65500, 65500)
    (OUT / "bad_bomb.jpg").write_bytes(bytes(buf))
    buf = bytearray(jpg)
    buf[sof + 5:sof + 7] = struct.pack(">H", 0)
    (OUT / "bad_zero.jpg").write_bytes(bytes(buf))
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, into {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

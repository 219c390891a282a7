#!/usr/bin/env python3
"""Writes the crafted photos the preview tests read (tests/test-preview-cache.c,
tests/test-photo-states.c), each a few bytes to a few kilobytes, into the
folder this script is in. The files are committed; run this again only to
change them:

    python3 tests/data/images/make-images.py

ok.*        small, valid photos of each format Mealtrace shows
bomb*       headers that declare more than Mealtrace decodes
truncated.* valid photos cut short
the rest    what a photo object must not be taken for: empty, random,
            text, SVG, BMP, HEIF, and PNGs and a JPEG that are damaged
"""

import base64
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# PNG

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width, height, idat, color_type=2):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


RED = bytes((220, 20, 20))
BLUE = bytes((20, 20, 220))

# 4 × 2, the left half red, the right half blue; each row filter 0.
ok_png = png(4, 2, zlib.compress((b"\x00" + RED * 2 + BLUE * 2) * 2))
write("ok.png", ok_png)
# 100000 × 100000 in a valid IHDR; one row of data, compressed to a few bytes.
write("bomb.png", png(100000, 100000, zlib.compress(b"\x00" * (1 + 3 * 100000), 9)))
write("zero-width.png", png(0, 2, zlib.compress(b"\x00")))
# ok.png with a byte of its image data changed, so that the IDAT's CRC is
# wrong. (A broken zlib stream with a right CRC is not enough: libpng's
# incremental reader takes that for a benign error, the rows blank.)
idat_data = ok_png.index(b"IDAT") + 4
write("corrupt.png", ok_png[:idat_data + 3] + bytes([ok_png[idat_data + 3] ^ 0x55]) + ok_png[idat_data + 4:])
# Cut in the middle of the IDAT.
idat_at = ok_png.index(b"IDAT")
write("truncated.png", ok_png[:idat_at + 10])


# JPEG: baseline, one grey component, 16 × 8: two 8 × 8 blocks, the left
# grey 64, the right grey 192. Every quantiser is 16, so the blocks' DC
# coefficients are −32 and +32 (differences −32 and +64, categories 6
# and 7) and every AC coefficient is 0.

def jpeg_segment(marker, body):
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def jpeg(width, height, sof=True):
    dqt = jpeg_segment(0xDB, b"\x00" + bytes([16] * 64))
    sof0 = jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    # DC table 0: category 6 is "0", category 7 is "10".
    dht_dc = jpeg_segment(0xC4, b"\x00" + bytes([1, 1] + [0] * 14) + bytes([6, 7]))
    # AC table 0: end of block is "0".
    dht_ac = jpeg_segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + bytes([0]))
    sos = jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3F\x00")
    # "0" 011111 "0" (−32, end of block), "10" 1000000 "0" (+64, end of block),
    # then ones to the byte.
    scan = bytes((0x3E, 0xA0, 0x3F))
    return (b"\xFF\xD8" + dqt + (sof0 if sof else b"") + dht_dc + dht_ac + sos + scan
            + b"\xFF\xD9")


ok_jpeg = jpeg(16, 8)
write("ok.jpg", ok_jpeg)
# The same image's bytes, its frame header declaring 65500 × 65500.
write("bomb.jpg", jpeg(65500, 65500))
# A progressive colour JPEG of 10000 × 10000, every component at full
# resolution: fewer pixels than the bound, but libjpeg would hold all
# 600 MB of their coefficients. Its first scan (the DC of the three
# components) is a few bytes of zero differences.
progressive = (b"\xFF\xD8" + jpeg_segment(0xDB, b"\x00" + bytes([16] * 64))
               + jpeg_segment(0xC2, struct.pack(">BHHB", 8, 10000, 10000, 3)
                              + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
               + jpeg_segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + bytes([0]))
               + jpeg_segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x00\x00")
               + bytes(64) + b"\xFF\xD9")
write("bomb-progressive.jpg", progressive)
# The same for a baseline JPEG whose first scan holds one component of the
# three: libjpeg keeps all the coefficients too.
write("bomb-scans.jpg",
      b"\xFF\xD8" + jpeg_segment(0xDB, b"\x00" + bytes([16] * 64))
      + jpeg_segment(0xC0, struct.pack(">BHHB", 8, 10000, 10000, 3)
                     + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
      + jpeg_segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + bytes([0]))
      + jpeg_segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + bytes([0]))
      + jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3F\x00") + bytes(64) + b"\xFF\xD9")
# A scan with no frame header before it.
write("no-frame.jpg", jpeg(16, 8, sof=False))
# Cut in the middle of the scan.
write("truncated.jpg", ok_jpeg[:-4])


# GIF

def lzw(indices, min_code_size):
    """GIF's LZW, variable-length codes packed least significant bit first."""
    clear = 1 << min_code_size
    end = clear + 1
    table = {bytes([i]): i for i in range(clear)}
    next_code = end + 1
    size = min_code_size + 1
    bits, nbits, out = 0, 0, bytearray()

    def emit(code):
        nonlocal bits, nbits
        bits |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8

    emit(clear)
    prefix = b""
    for index in indices:
        candidate = prefix + bytes([index])
        if candidate in table:
            prefix = candidate
            continue
        emit(table[prefix])
        if next_code < 4096:
            table[candidate] = next_code
            next_code += 1
            if next_code > (1 << size) and size < 12:
                size += 1
        prefix = bytes([index])
    emit(table[prefix])
    emit(end)
    if nbits:
        out.append(bits & 0xFF)
    return bytes(out)


def gif(screen_w, screen_h, frame_w, frame_h, indices):
    # A global colour table of two entries: 0 red, 1 blue.
    header = b"GIF89a" + struct.pack("<HHBBB", screen_w, screen_h, 0x80, 0, 0) + RED + BLUE
    data = lzw(indices, 2)
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    image = b"\x2C" + struct.pack("<HHHHB", 0, 0, frame_w, frame_h, 0) + b"\x02" + blocks + b"\x00"
    return header + image + b"\x3B"


ok_gif = gif(4, 2, 4, 2, [0, 0, 1, 1] * 2)
write("ok.gif", ok_gif)
# A logical screen of 65535 × 65535.
write("bomb.gif", gif(65535, 65535, 1, 1, [0]))
# A small screen, and a frame of 20000 × 20000 on it.
write("bomb-frame.gif", gif(4, 2, 20000, 20000, [0]))
# Cut in the middle of the image's data.
write("truncated.gif", ok_gif[:-6])


# WebP: a 1 × 1 lossless and a 1 × 1 lossy image as libwebp writes them.

def riff(chunks):
    body = b"WEBP" + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


ok_webp = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
lossy = base64.b64decode("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
vp8l_chunk = ok_webp[12:]
write("ok.webp", ok_webp)
# VP8L: width − 1 and height − 1 in 14 bits each, then the alpha bit.
vp8l_header = struct.pack("<I", 0x3FFF | (0x3FFF << 14) | (1 << 28))
vp8l_bomb = ok_webp[:21] + vp8l_header + ok_webp[25:]
write("bomb-vp8l.webp", vp8l_bomb)
# VP8: 14-bit width and height after the start code.
write("bomb-vp8.webp", lossy[:26] + struct.pack("<HH", 0x3FFF, 0x3FFF) + lossy[30:])
# An animation: a VP8X canvas of 16384 × 16384 (width and height less one,
# in 24 bits each), which the animation decoder allocates whole, and one
# frame of 1 × 1 on it.
vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x12\x00\x00\x00" + struct.pack("<I", 16383)[:3] * 2
anim = b"ANIM" + struct.pack("<I", 6) + b"\x00\x00\x00\x00" + b"\x00\x00"
frame = b"\x00" * 3 * 4 + struct.pack("<I", 100)[:3] + b"\x00" + vp8l_chunk
anmf = b"ANMF" + struct.pack("<I", len(frame)) + frame
write("bomb-vp8x.webp", riff(vp8x + anim + anmf))
write("truncated.webp", ok_webp[:-4])


# What is not a photo

write("empty.jpg", b"")
rng = random.Random(9)
noise = bytearray(rng.getrandbits(8) for _ in range(2048))
noise[0] = 0x42  # no format's signature starts with it
write("random.jpg", bytes(noise))
write("notes.jpg", b"Lunch on Tuesday: soup, bread and an apple.\nThis is a note, not a photo.\n")
# An SVG drawing as large as the PNG bomb: no photo format.
write("drawing.svg", b'<?xml version="1.0"?>\n'
      b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000">'
      b'<rect width="100%" height="100%" fill="red"/></svg>\n')
# A valid 2 × 2 BMP, a format gdk-pixbuf reads and Mealtrace does not show.
rows = (BLUE[::-1] + RED[::-1] + b"\x00\x00") * 2
write("ok.bmp", b"BM" + struct.pack("<IHHI", 54 + len(rows), 0, 0, 54)
      + struct.pack("<IiiHHIIiiII", 40, 2, 2, 1, 24, 0, len(rows), 2835, 2835, 0, 0) + rows)
# The start of a HEIC file: its ftyp box.
write("photo.heic", struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic")

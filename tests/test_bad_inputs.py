"""Every kind of file a phone or a hostile client sends: decoded upright in RGB, or rejected.

A rejected file raises InvalidImage with a message naming the problem and leaves nothing
stored. An accepted one is stored under a generated name and classified. A bad file that
reaches a worker fails alone while the rest of its batch is classified.
"""
import io
import random
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from django.utils import translation
from PIL import Image, ImageDraw

from inference.ml.batch import classify_photos
from inference.models import InferenceRun, Prediction
from inference.services import runs
from inspection import imaging
from inspection.models import Photo
from inspection.services.photos import MAX_ORIGINAL_NAME, Upload, store_photo
from tests.conftest import shared_data_path
from tests.fault_tools import scene_bytes, train_tiny_model, wait_until
from tests.reliability import record_input

DAY = date(2026, 11, 20)
# Upright test picture: one colour per quadrant, so any rotation or mirror shows.
QUADRANT_COLOURS = {"top left": (220, 30, 30), "top right": (30, 200, 30), "bottom left": (30, 30, 220), "bottom right": (240, 240, 240)}


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield


def quadrant_array(width=64, height=48):
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[: height // 2, : width // 2] = QUADRANT_COLOURS["top left"]
    pixels[: height // 2, width // 2 :] = QUADRANT_COLOURS["top right"]
    pixels[height // 2 :, : width // 2] = QUADRANT_COLOURS["bottom left"]
    pixels[height // 2 :, width // 2 :] = QUADRANT_COLOURS["bottom right"]
    return pixels


def stored_as(upright, orientation):
    """Return the pixels a camera stores with EXIF `orientation` for the `upright` picture.

    From the EXIF 2.3 table of where row 0 and column 0 of the stored image lie in the
    visual picture (1: top/left, 2: top/right, ... 8: left/bottom), written independently
    of Pillow's own table so that a wrong mapping in the decoder shows.
    """
    return {
        1: upright,
        2: upright[:, ::-1],
        3: upright[::-1, ::-1],
        4: upright[::-1, :],
        5: upright.transpose(1, 0, 2),
        6: np.rot90(upright, k=1),
        7: upright[::-1, ::-1].transpose(1, 0, 2),
        8: np.rot90(upright, k=-1),
    }[orientation]


def encode(image, image_format, **options):
    output = io.BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


def oriented_jpeg(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = Image.fromarray(np.ascontiguousarray(stored_as(quadrant_array(), orientation)))
    return encode(stored, "JPEG", quality=95, exif=exif)


def quadrant_picture(image_format, **options):
    return encode(Image.fromarray(quadrant_array()), image_format, **options)


def assert_upright_quadrants(image, tolerance=60):
    assert image.mode == "RGB"
    assert image.size == (64, 48)
    pixels = np.asarray(image).astype(int)
    centres = {"top left": (12, 16), "top right": (12, 48), "bottom left": (36, 16), "bottom right": (36, 48)}
    for quadrant, (row, column) in centres.items():
        difference = np.abs(pixels[row, column] - QUADRANT_COLOURS[quadrant]).max()
        assert difference < tolerance, f"{quadrant} is {pixels[row, column].tolist()}, expected {QUADRANT_COLOURS[quadrant]}"


def cmyk_jpeg():
    return encode(Image.fromarray(quadrant_array()).convert("CMYK"), "JPEG", quality=95)


def gray16_ramp_png():
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1))
    return encode(Image.fromarray(ramp), "PNG")


def assert_ramp(image):
    row = np.asarray(image)[24, :, 0].astype(int)
    assert row[0] < 10 and row[-1] > 245, f"ramp ends at {row[0]} and {row[-1]}"
    assert (np.diff(row) >= 0).all(), "ramp is not increasing"


def hidden_colour_png():
    """RGBA whose fully transparent top half hides magenta pixels."""
    pixels = np.zeros((48, 64, 4), dtype=np.uint8)
    pixels[:, :] = (30, 30, 220, 255)
    pixels[:24, :] = (255, 0, 255, 0)
    return encode(Image.fromarray(pixels), "PNG")


def assert_no_magenta(image):
    pixels = np.asarray(image).astype(int)
    magenta = (pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] > 200)
    assert not magenta.any(), "hidden colour under transparent pixels leaked"
    assert pixels[5, 5].min() > 240, "transparent pixels are not composited on white"
    assert tuple(pixels[40, 40]) == (30, 30, 220)


def palette_png(transparent):
    image = Image.fromarray(quadrant_array()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    return encode(image, "PNG", transparency=0) if transparent else encode(image, "PNG")


def animated(image_format):
    frames = [Image.fromarray(quadrant_array())] + [Image.new("RGB", (64, 48), colour) for colour in ((0, 0, 0), (255, 255, 0))]
    return encode(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100, loop=0)


def assert_gray(image):
    pixels = np.asarray(image).astype(int)
    assert image.mode == "RGB"
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    assert pixels[12, 16, 0] < pixels[36, 48, 0], "grey levels lost"


ACCEPTED = {
    **{f"jpeg-exif-orientation-{n}": (oriented_jpeg(n), "car.jpg", "jpg", assert_upright_quadrants) for n in range(1, 9)},
    "heic": (quadrant_picture("HEIF", quality=95), "IMG_0001.HEIC", "heic", assert_upright_quadrants),
    "cmyk-jpeg": (cmyk_jpeg(), "print.jpg", "jpg", assert_upright_quadrants),
    "png-16-bit-grayscale": (gray16_ramp_png(), "ramp.png", "png", assert_ramp),
    "png-rgba-hidden-colour": (hidden_colour_png(), "alpha.png", "png", assert_no_magenta),
    "png-palette": (palette_png(False), "palette.png", "png", assert_upright_quadrants),
    "png-palette-transparency": (palette_png(True), "palette-alpha.png", "png", lambda image: image.mode == "RGB"),
    "png-gray-alpha": (encode(Image.fromarray(quadrant_array()).convert("LA"), "PNG"), "la.png", "png", assert_gray),
    "png-bilevel": (encode(Image.fromarray(quadrant_array()).convert("1"), "PNG"), "fax.png", "png", assert_gray),
    "jpeg-grayscale": (encode(Image.fromarray(quadrant_array()).convert("L"), "JPEG", quality=95), "gray.jpg", "jpg", assert_gray),
    "gif-animated": (animated("GIF"), "anim.gif", "gif", assert_upright_quadrants),
    "webp-animated": (animated("WEBP"), "anim.webp", "webp", lambda image: assert_upright_quadrants(image, tolerance=70)),
    "webp-lossy": (quadrant_picture("WEBP", quality=90), "car.webp", "webp", assert_upright_quadrants),
    "png-named-jpg": (quadrant_picture("PNG"), "car.jpg", "png", assert_upright_quadrants),
    "jpeg-named-heic": (quadrant_picture("JPEG", quality=95), "car.heic", "jpg", assert_upright_quadrants),
}


def png_bomb(width, height):
    """A PNG whose header claims width x height pixels, in a few hundred bytes."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_bomb():
    """A small JPEG whose frame header claims 60000 x 60000 pixels."""
    data = bytearray(scene_bytes(1))
    marker = data.index(b"\xff\xc0")
    data[marker + 5 : marker + 9] = (60000).to_bytes(2, "big") + (60000).to_bytes(2, "big")
    return bytes(data)


def truncated_jpeg():
    data = scene_bytes(2, size=(320, 240))
    return data[: len(data) // 2]


REJECTED = {
    "zero-byte": (b"", "photo.jpg", "empty"),
    "truncated-jpeg": (truncated_jpeg(), "cut.jpg", "truncated or corrupt"),
    "text-named-jpg": (b"just a note, not a photo\n" * 20, "photo.jpg", "not an image"),
    "html-named-png": (b"<!doctype html><script>alert(1)</script>", "photo.png", "not an image"),
    "pdf-named-jpg": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "scan.jpg", "not an image"),
    "postscript-named-jpg": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "photo.jpg", "not an image"),
    "png-decompression-bomb": (png_bomb(20000, 20000), "bomb.png", "400000000 pixels, over the limit"),
    "jpeg-decompression-bomb": (jpeg_bomb(), "bomb.jpg", "3600000000 pixels, over the limit"),
}


def media_files(media_root):
    return sorted(path for path in Path(media_root).rglob("*") if path.is_file())


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_input_stored_upright_rgb(case, isolated_media):
    data, name, extension, check = ACCEPTED[case]

    photo, created = store_photo(Upload(data=data, original_name=name))

    assert created
    assert photo.file_extension == extension
    assert photo.file.name.endswith(f".{extension}")
    with photo.file.open("rb") as handle:
        image = imaging.open_photo(handle)
    check(image)
    assert (photo.width, photo.height) == image.size
    with photo.thumbnail.open("rb") as handle:
        thumbnail = Image.open(handle)
        assert thumbnail.mode == "RGB"
        assert thumbnail.width > thumbnail.height
    record_input("accepted")


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_input_stores_nothing(case, isolated_media):
    data, name, message = REJECTED[case]

    with pytest.raises(imaging.InvalidImage, match=message):
        store_photo(Upload(data=data, original_name=name))

    assert Photo.objects.count() == 0
    assert media_files(isolated_media) == []
    record_input("rejected")


@pytest.mark.django_db
def test_size_and_pixel_limits_come_from_settings(settings, isolated_media):
    settings.SOFAR_MAX_IMAGE_PIXELS = 1000
    with pytest.raises(imaging.InvalidImage, match="3072 pixels, over the limit of 1000 pixels"):
        store_photo(Upload(data=scene_bytes(3), original_name="car.jpg"))

    settings.SOFAR_MAX_UPLOAD_BYTES = 100
    with pytest.raises(imaging.InvalidImage, match=r"bytes, over the limit of 100 bytes"):
        store_photo(Upload(data=scene_bytes(4), original_name="car.jpg"))

    assert Photo.objects.count() == 0
    assert media_files(isolated_media) == []
    record_input("rejected")
    record_input("rejected")


ESCAPE_TARGET = Path("/tmp/sofar-bad-input-escaped.jpg")
NAMES = {
    "long-ascii": ("car_photo_" * 40 + ".jpg", "car_photo_"),
    "long-utf-8": ("차량사진" * 60 + ".jpg", "차량사진"),
    "non-utf-8-bytes": (b"\xff\xfe\xc3(car).jpg", "\ufffd"),
    "surrogate-escaped": (b"caf\xe9.jpg".decode("utf-8", "surrogateescape"), "caf\ufffd.jpg"),
    "posix-traversal": (f"../../../../..{ESCAPE_TARGET}", ESCAPE_TARGET.name),
    "windows-traversal": ("..\\..\\..\\Windows\\System32\\car.jpg", "car.jpg"),
    "absolute-path": (str(ESCAPE_TARGET), ESCAPE_TARGET.name),
    "control-characters": ("car\x00\r\n\x1b[31m.jpg", "car[31m.jpg"),
    "only-dots": ("..", ""),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(NAMES))
def test_uploaded_name_never_becomes_a_path(case, isolated_media):
    name, expected = NAMES[case]
    existed_before = ESCAPE_TARGET.exists()

    photo, _ = store_photo(Upload(data=scene_bytes(len(case)), original_name=name))

    assert expected in photo.original_name
    assert "/" not in photo.original_name and "\\" not in photo.original_name
    assert len(photo.original_name.encode("utf-8")) <= MAX_ORIGINAL_NAME
    if str(name).endswith(".jpg") and len(str(name)) > MAX_ORIGINAL_NAME:
        assert photo.original_name.endswith(".jpg")
    stored = Path(photo.file.path).resolve()
    assert stored.is_relative_to(Path(isolated_media).resolve())
    assert stored.name != Path(str(name)).name
    assert ESCAPE_TARGET.exists() == existed_before
    record_input("accepted")


FUZZ_SEEDS = {
    "JPEG": lambda: scene_bytes(5),
    "PNG": lambda: scene_bytes(6, image_format="PNG"),
    "WEBP": lambda: scene_bytes(7, image_format="WEBP"),
    "GIF": lambda: scene_bytes(8, image_format="GIF"),
    "HEIF": lambda: scene_bytes(9, image_format="HEIF"),
    "TIFF": lambda: scene_bytes(10, image_format="TIFF"),
    "JPEG with EXIF": lambda: oriented_jpeg(6),
}
MUTATIONS_PER_FORMAT = 40


@pytest.mark.parametrize("image_format", sorted(FUZZ_SEEDS))
def test_mutated_file_raises_only_invalid_image(image_format):
    """Random byte flips and cuts of a valid file either decode in RGB or raise InvalidImage, nothing else."""
    original = FUZZ_SEEDS[image_format]()
    generator = random.Random(f"{image_format}-0")
    for _ in range(MUTATIONS_PER_FORMAT):
        data = bytearray(original)
        for _ in range(generator.randint(1, 8)):
            data[generator.randrange(len(data))] = generator.randrange(256)
        if generator.random() < 0.3:
            data = data[: generator.randrange(1, len(data))]
        try:
            imaging.inspect(bytes(data))
            image = imaging.open_photo(io.BytesIO(bytes(data)), target_size=224)
        except imaging.InvalidImage as error:
            assert str(error)
            record_input("rejected")
        else:
            assert image.mode == "RGB"
            record_input("accepted")


@pytest.mark.django_db
def test_every_accepted_kind_is_classified(isolated_media):
    version = train_tiny_model()
    photos = [store_photo(Upload(data=data, original_name=name))[0] for data, name, _, _ in ACCEPTED.values()]

    created, failed = classify_photos([photo.id for photo in photos], version)

    assert (created, failed) == (len(photos), 0)
    for photo in photos:
        assert Prediction.objects.filter(photo=photo, model_version=version).count() == 1


# What each file of the shared bad-input folder must give: the upright size, or the
# words of the rejection message.
SHARED_EXPECTED = {
    "B01_exif_orient6.jpg": (48, 64),
    "B01_exif_orient8.jpg": (48, 64),
    "B02_cmyk.jpg": (64, 64),
    "B03_rgba_alpha.png": (64, 64),
    "B05_16bit_gray.png": (64, 64),
    "B06_grayscale.jpg": (64, 64),
    "B07_truncated.jpg": "truncated or corrupt",
    "B08_zero_byte.jpg": "empty",
    "B09_bomb_20000x20000.png": "400000000 pixels, over the limit of 50000000 pixels",
    "B10_iphone.heic": (48, 64),
    "B11_animated.gif": (64, 48),
    "B14_payload.jpg": (32, 24),
    "B15_duplicate.jpg": (64, 48),
    "odd_formats/odd_formats_004.jpg": (500, 333),
    "odd_formats/odd_formats_005.jpg": (500, 333),
    "odd_formats/odd_formats_007.jpg": (1800, 1200),
    "odd_formats/odd_formats_008.jpg": (1200, 1800),
    "odd_formats/odd_formats_010.webp": (1024, 772),
    "odd_formats/odd_formats_011.webp": (1164, 2048),
    "odd_formats/odd_formats_013.jpg": (384, 512),
    "odd_formats/odd_formats_014.jpg": (3840, 2160),
}


def shared_files():
    folder = shared_data_path("badinputs")
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix != ".tsv")


def decoded(path):
    return np.asarray(imaging.open_photo(path)).astype(int)


@pytest.mark.shared_data
@pytest.mark.django_db
def test_shared_bad_inputs_decode_or_are_rejected(isolated_media):
    """Files not named in SHARED_EXPECTED (the long names, new files) may go either way, never crash."""
    folder = shared_data_path("badinputs")
    seen, stored_contents = set(), set()
    for path in shared_files():
        key = str(path.relative_to(folder))
        seen.add(key)
        expected = SHARED_EXPECTED.get(key)
        try:
            photo, _ = store_photo(Upload(data=path.read_bytes(), original_name=path.name))
        except imaging.InvalidImage as error:
            assert not isinstance(expected, tuple), f"{key} was rejected: {error}"
            assert expected is None or expected in str(error), f"{key}: {error}"
            record_input("rejected")
            continue
        assert not isinstance(expected, str), f"{key} was accepted; expected the rejection {expected!r}"
        stored_contents.add(photo.sha256)
        with photo.file.open("rb") as handle:
            image = imaging.open_photo(handle)
        assert image.mode == "RGB", key
        if expected is not None:
            assert image.size == expected, key
            assert (photo.width, photo.height) == expected, key
        assert len(photo.original_name.encode("utf-8")) <= MAX_ORIGINAL_NAME
        record_input("accepted")

    assert set(SHARED_EXPECTED) <= seen, f"missing from the shared folder: {set(SHARED_EXPECTED) - seen}"
    assert Photo.objects.count() == len(stored_contents)


@pytest.mark.shared_data
def test_shared_exif_orientations_match_the_iphone_heic():
    folder = shared_data_path("badinputs")
    rotated_right, rotated_left, heic = (decoded(folder / name) for name in ("B01_exif_orient6.jpg", "B01_exif_orient8.jpg", "B10_iphone.heic"))

    # The HEIC carries the same scene with orientation 6, applied by libheif, not by Pillow.
    assert np.abs(rotated_right - heic).mean() < 8
    assert np.abs(rotated_left - rotated_right[::-1, ::-1]).mean() < 8


@pytest.mark.shared_data
def test_shared_colours_are_not_inverted_or_leaked():
    folder = shared_data_path("badinputs")
    cmyk = decoded(folder / "B02_cmyk.jpg")
    alpha = decoded(folder / "B03_rgba_alpha.png")
    ramp = decoded(folder / "B05_16bit_gray.png")
    gray = decoded(folder / "B06_grayscale.jpg")
    with_profile = decoded(folder / "odd_formats" / "odd_formats_004.jpg")
    without_profile = decoded(folder / "odd_formats" / "odd_formats_005.jpg")

    assert cmyk[32, 32, 0] > 150 and cmyk[32, 32, 1] < 80, "the red car is not red"
    assert cmyk[2, 32, 2] > cmyk[2, 32, 0], "the sky is not blue"
    magenta = (alpha[..., 0] > 200) & (alpha[..., 1] < 80) & (alpha[..., 2] > 200)
    assert not magenta.any()
    assert (np.diff(ramp[32, :, 0]) >= 0).all() and ramp[32, -1, 0] - ramp[32, 0, 0] > 200
    assert (gray[..., 0] == gray[..., 2]).all()
    # The same photo with and without its CMYK profile: close, and far from inverted.
    assert np.abs(with_profile - without_profile).mean() < 25
    assert np.abs(with_profile - (255 - without_profile)).mean() > 60


@pytest.mark.shared_data
@pytest.mark.django_db
def test_shared_payload_and_duplicate(isolated_media):
    folder = shared_data_path("badinputs")
    escaped = Path("/tmp/B14_escaped.jpg")
    existed_before = escaped.exists()

    payload, _ = store_photo(Upload(data=(folder / "B14_payload.jpg").read_bytes(), original_name="../../../../tmp/B14_escaped.jpg"))
    first, first_created = store_photo(Upload(data=(folder / "B15_duplicate.jpg").read_bytes(), original_name="B15_duplicate.jpg"))
    second, second_created = store_photo(Upload(data=(folder / "B15_duplicate.jpg").read_bytes(), original_name="again.jpg"))

    assert payload.original_name == "B14_escaped.jpg"
    assert Path(payload.file.path).resolve().is_relative_to(Path(isolated_media).resolve())
    assert escaped.exists() == existed_before
    assert (first_created, second_created) == (True, False)
    assert second.pk == first.pk
    assert len([path for path in media_files(isolated_media) if "photos" in path.parts]) == 2


@pytest.mark.shared_data
@pytest.mark.django_db
def test_shared_accepted_files_are_classified(isolated_media):
    folder = shared_data_path("badinputs")
    version = train_tiny_model()
    photos = []
    for path in shared_files():
        try:
            photos.append(store_photo(Upload(data=path.read_bytes(), original_name=path.name))[0])
        except imaging.InvalidImage:
            assert isinstance(SHARED_EXPECTED.get(str(path.relative_to(folder))), str), path

    ids = sorted({photo.id for photo in photos})
    created, failed = classify_photos(ids, version)

    assert (created, failed) == (len(ids), 0)


BROKEN_STORED_FILES = {
    "truncated": truncated_jpeg(),
    "zero-byte": b"",
    "not-an-image": b"plain text where a photo was",
    "bomb": png_bomb(20000, 20000),
}


@pytest.mark.worker
def test_worker_survives_bad_files_in_a_batch(celery_worker):
    """Files that went bad in storage fail alone; the worker lives and classifies the rest and the next batch."""
    train_tiny_model()
    good = [store_photo(Upload(data=scene_bytes(100 + seed), uploaded_at=_noon()))[0] for seed in range(3)]
    broken = []
    for seed, data in enumerate(BROKEN_STORED_FILES.values()):
        photo, _ = store_photo(Upload(data=scene_bytes(200 + seed), uploaded_at=_noon()))
        photo.file.storage.delete(photo.file.name)
        with photo.file.storage.open(photo.file.name, "wb") as handle:
            handle.write(data)
        broken.append(photo)

    run = runs.start_run(DAY, batch_size=len(good) + len(broken))
    wait_until(lambda: InferenceRun.objects.get(id=run.id).is_finished, 120, f"run did not finish:\n{celery_worker.log_path.read_text()}")
    later = store_photo(Upload(data=scene_bytes(300), uploaded_at=_noon()))[0]
    next_run = runs.start_run(DAY)
    wait_until(lambda: InferenceRun.objects.get(id=next_run.id).is_finished, 60, "the worker did not take the next batch")

    run.refresh_from_db()
    assert (run.classified_count, run.failed_count) == (len(good), len(broken))
    for photo in good + [later]:
        assert Prediction.objects.filter(photo=photo).count() == 1
    for photo in broken:
        photo.refresh_from_db()
        assert photo.status == Photo.Status.FAILED
        assert photo.failure_reason
    assert celery_worker.poll() is None
    for _ in BROKEN_STORED_FILES:
        record_input("rejected")


def _noon():
    from tests.factories import noon

    return noon(DAY)

"""Completeness of a JPEG or PNG file from its last bytes."""


def has_end_marker(tail: bytes, is_png: bool) -> bool:
    """Whether the last bytes of an image file hold its end marker.

    A file cut short (a copy interrupted, a disk full) loses its end
    marker; decoders often still return an image, partly grey. The loader
    and the converter's header check both refuse such files.

    Args:
        tail (bytes): At least the last 12 bytes of the file.
        is_png (bool): PNG (``IEND`` chunk) or JPEG (``FFD9`` marker).

    Returns:
        bool: False for a truncated file.
    """
    tail = tail[-32:]
    return tail[-8:-4] == b'IEND' if is_png else b'\xff\xd9' in tail

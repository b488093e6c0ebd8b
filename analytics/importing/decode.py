"""Decoding a text file (CSV) strictly: the bytes as one of the encodings a Chinese
office's files are in, or a clear refusal, never a character dropped or replaced.

UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (which covers GBK and GB2312).
GB18030 decodes nearly any bytes: text that only it decodes and that is largely outside
what a Chinese register holds (a Big5 or Shift-JIS file) is refused naming the encoding it
more likely is (charset-normalizer's guess).
"""

from __future__ import annotations

import re

from analytics.domain.labels import Both, texts
from analytics.importing.results import ReadError


def decode_text(file_name: str, data: bytes) -> str:
    """Decodes CSV bytes strictly: UTF-8 (BOM or not), UTF-16 with BOM, else GB18030.

    GB18030 decodes nearly any bytes, Big5 and Shift-JIS among them, into other characters:
    text decoded that way is refused when too much of it is outside what a Chinese
    register holds (``_refuse_mojibake``), with the encoding it more likely is.

    Raises
    ------
    ReadError
        When no encoding decodes every byte, or GB18030 gives mojibake: nothing is dropped
        or replaced silently.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    last: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            text = data.decode(enc, errors="strict")
        except UnicodeDecodeError as e:
            last = e
            continue
        if enc == "gb18030":
            _refuse_mojibake(file_name, data, text)
        return text
    pos = last.start if last else 0
    raise ReadError.of("msg_undecodable", file=file_name, pos=pos)


# What a GB18030/GBK register holds besides ASCII: CJK punctuation and symbols, full-width
# forms, Latin-1 signs (× ° ·), general punctuation, letterlike and number forms (℃ № Ⅱ),
# arrows and mathematical signs (√ ≤), enclosed numbers (①), geometric shapes (○ ■), CJK
# compatibility units (㎡), and the Han characters of GB 2312 (the 6,763 in common use).
# Anything else (kana, Greek, Cyrillic, box drawing, private use, Hangul, rare Han) in a
# large share of the text is mojibake: Big5 or Shift-JIS bytes read as GB18030.
_EXPECTED_SIGNS = re.compile(
    "[\u00a0-\u00ff\u2010-\u205e\u2100-\u22ff\u2460-\u24ff\u25a0-\u25ff"
    "\u3000-\u303f\u3300-\u33ff\uff00-\uffef]"
)
_HAN = re.compile("[\u4e00-\u9fff]")
_MOJIBAKE_SHARE = 0.2  # of the non-ASCII characters
_MOJIBAKE_MIN = 3  # characters
_MOJIBAKE_SAMPLE = 200_000  # characters looked at, from the start
# Encodings a Chinese office's CSV may be in that GB18030 decodes without an error.
_OTHER_ENCODINGS = ["gb18030", "big5", "shift_jis", "euc_kr", "euc_jp"]
# charset-normalizer's name of an encoding -> its label (analytics/domain/labels.py)
_ENCODING_LABELS = {
    "big5": "msg_encoding_big5",
    "cp950": "msg_encoding_big5",
    "big5hkscs": "msg_encoding_big5",
    "shift_jis": "msg_encoding_shift_jis",
    "cp932": "msg_encoding_shift_jis",
    "euc_jp": "msg_encoding_euc_jp",
    "euc_kr": "msg_encoding_euc_kr",
}


def _refuse_mojibake(file_name: str, data: bytes, text: str) -> None:
    """Refuses ``text`` (``data`` decoded as GB18030) when it is mostly characters a Chinese
    register does not hold and charset-normalizer finds another encoding likelier."""
    sample = text[:_MOJIBAKE_SAMPLE]
    rest = re.sub(r"[\x00-\x7f]+", "", _EXPECTED_SIGNS.sub("", sample))
    if not rest:
        return
    odd = [ch for ch in rest if not _HAN.match(ch) or not _in_gb2312(ch)]
    non_ascii = len(re.sub(r"[\x00-\x7f]+", "", sample))
    if len(odd) < _MOJIBAKE_MIN or len(odd) < _MOJIBAKE_SHARE * non_ascii:
        return
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * _MOJIBAKE_SAMPLE], cp_isolation=_OTHER_ENCODINGS).best()
    guess = best.encoding if best is not None else None
    if guess is None or guess.startswith("gb"):
        return  # more likely GB18030 after all (rare characters, traditional text in GBK)
    key = _ENCODING_LABELS.get(guess)
    encoding = texts(key) if key else Both(guess, guess)
    shown = "".join(dict.fromkeys(odd))[:8]
    raise ReadError.of("msg_mojibake", file=file_name, encoding=encoding, shown=shown)


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True

"""Personal information in Japanese web text: find it, mask it, or flag the document (pure Python).

Kinds and placeholders
----------------------
=========== ============= =====================================================================
kind        placeholder   what is found
=========== ============= =====================================================================
``email``   ``[EMAIL]``   ``local@domain.tld``; also the spellings people use against scrapers:
                          ``＠``, ``(at)`` / ``[at]`` / ``<at>`` / ``【アット】`` / ``（あっと）``,
                          bare ``アット`` / ``あっと`` (``user あっと example.jp``), ``(dot)`` /
                          ``[dot]`` / ``ドット`` for the dots, full-width letters, and a symbol
                          the page says to replace (``info★shop.jp``, ``★を@に``).  The last
                          label must be letters (2–24) and not a file extension
                          (``logo@2x.png``); placeholders are not PII (``pii_spellings.py``)
``phone``   ``[PHONE]``   Japanese numbers: ``03-1234-5678``, ``(03)1234-5678``,
                          ``（06）6123-4567``, ``03(1234)5678``, ``090-1234-5678``,
                          ``0120-123-456``, ``03.1234.5678``, ``+81-3-1234-5678``,
                          ``+81 90 1234 5678``, ``+81(0)3-…``; full-width digits; separators:
                          ``-`` and its look-alikes ``－ − ー ‐ ‑ – — ― ｰ ﹣``, spaces (also
                          U+3000); one space around a separator is allowed; ``・`` or ``/``
                          twice (``03・1234・5678``, ``090/1234/5678``); kanji numerals
                          digit by digit right after a phone word (``電話 〇三-一二三四-五六七八``)
``mynumber`` ``[MYNUMBER]`` the 12-digit individual number (個人番号), only with a valid check
                          digit, written as 12 digits or 4-4-4, **and** a keyword (マイナンバー,
                          個人番号, My Number …) within 32 characters before or 12 after it
``card``    ``[CARD]``    payment card numbers: 13–19 digits, contiguous or in the printed
                          groupings (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4), Luhn-valid, with an
                          issuer prefix that fits the length (Visa, Mastercard, Amex, JCB,
                          Diners, Discover, UnionPay, Mir)
``ip``      ``[IP]``      IPv4 and IPv6 addresses that parse (``ipaddress``) and, by default,
                          are globally routable (see ``ip_global_only``)
=========== ============= =====================================================================

Street addresses are not a kind: business addresses make up nearly every address written on
the Japanese web (会社概要, 店舗情報), and no rule here could tell a person's from a shop's
with a precision that could be shown on the available material.

Decisions (each is tested in ``tests/test_pii.py`` and measured by ``bench/bench_pii.py``)
------------------------------------------------------------------------------------------
* **Spellings** are matched on a width-folded view of the text (``pii_spellings.fold``:
  full-width ASCII → ASCII, half-width kana → full-width, invisible characters dropped) and every
  match is mapped back, so a mask replaces exactly the characters written in the original.
  Kanji numerals count as digits only in the number right after a phone word, and a symbol
  such as ``★`` counts as ``@`` only on a page that says so.
* **Placeholders** are not masked: addresses at domains reserved for documentation
  (``example.com``/``.net``/``.org``/``.edu``, ``.example``, ``.test``, ``.invalid``,
  ``.localhost``) and visibly blanked-out ones (``xxxx@…``, ``…@yyy.com``, ``hoge@hoge.com``);
  ``example.jp`` / ``example.co.jp`` are masked (no rule reserves them; when in doubt, mask).
* **Phone numbers** are validated by the numbering plan, not by shape: a national number
  starts with ``0`` followed by a non-zero digit; ``0120`` / ``0570`` / ``0990`` numbers have
  10 digits, ``0800`` 11, ``020`` / ``050`` / ``070`` / ``080`` / ``090`` 11 grouped 3-4-4,
  other (fixed-line) numbers 10 digits with an area code of 2–5 digits and a 4-digit
  subscriber group.  So dates (``2023-05-27``), postal codes (``〒100-0001``, 7 digits), ISBNs,
  page ranges and part numbers are not phones.  A number written as 10 contiguous digits is
  taken only after a phone keyword (TEL, 電話, ☎, FAX …); 11-digit mobile / IP numbers and
  ``0120`` numbers are taken contiguous without one.
* **My Number**: about 1 in 11 arbitrary 12-digit numbers has a valid check digit, and web
  pages carry many 12-digit numbers (every Japanese shop shows its 12-digit 古物商許可番号), so a
  check digit alone is not evidence.  A keyword is required (``mynumber_context=False`` turns
  that off).  Check digit (総務省令第85号 第5条): with ``P_n`` the n-th of the first 11 digits
  counted from the right and ``Q_n = n + 1`` (n ≤ 6) or ``n − 5`` (n ≥ 7),
  ``r = Σ P_n·Q_n mod 11``; the check digit is 0 when r ≤ 1, else 11 − r.
* **Cards**: Luhn plus an issuer prefix that fits the length.  A 13-digit number that is a
  valid EAN-13 / JAN code (``45…`` / ``49…``) is a product code, not a Visa number.
* **Boundaries**: no match may start or end inside a longer number: a match is never preceded
  by a digit (or by a digit and a separator) nor followed by one, so a Luhn-valid 16-digit
  stretch inside a 25-digit number is not a card.
* **IPv4 vs version numbers**: a dotted quad is a version when a version word comes right
  before it (``v``, ``Ver.``, ``version``, ``バージョン``, ``rev``, ``build`` …) or when all four
  parts are single digits (``1.2.3.4``) and no IP word (``IP``, ``アドレス``, ``address``,
  ``サーバ``, ``host``, ``DNS``, ``ping`` …) comes within 16 characters before it.  Real
  addresses with four single-digit parts are 1 in 6,561 of the space; the public resolvers
  among them (``1.1.1.1``, ``8.8.8.8``, ``9.9.9.9``) are not personal anyway.  A dotted quad
  right after an ASCII word and a space (``iTunes 12.5.1.21``) is a product's version unless
  the word is a preposition of addresses (``from``, ``to``, ``via``, ``src`` …) or an IP word
  comes before it.  Five-part strings (``1.2.3.4.5``) are never addresses.
* **Which IP addresses are personal**: with ``ip_global_only`` (default) only globally
  routable addresses are masked; private (``192.168.0.1``, ``10.…``), loopback, link-local,
  multicast and documentation ranges (``192.0.2.0/24``, ``2001:db8::/32``) stay: they appear
  in router manuals and tutorials and identify no one.

Modes (:class:`PiiConfig`, one per kind): ``mask`` replaces the span with the kind's
placeholder; ``drop`` leaves the text alone and sets :attr:`PiiResult.drop` (the caller drops
the document with reason ``pii``); ``off`` does not look for the kind.  :data:`PII_DEFAULT`
masks every kind, :data:`PII_OFF` turns every kind off (the ``swallow-v1`` preset).

Cost: every regular expression here has bounded repetition only (no ``*`` / ``+``), so each
start position costs a bounded amount of work and a scan is linear in the text; a rejected
candidate restarts the search one character later, still bounded (candidates are at most
~330 characters).  Texts without a digit or an ``@``-like character skip the digit or e-mail
patterns.  ``bench/bench_pii.py`` measures the cost against trafilatura on the same documents.

Why this module is long: a fifth of it is this docstring (the decisions above are what an
auditor needs), and each kind keeps its patterns and validators side by side; splitting the
kinds over modules would separate the overlap rules that decide between them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stage import Column, Count, DetailKind, Reason, Resources, Stage

from .pii_spellings import at_symbol_view, fold, is_placeholder_address, kanji_phone_digits

__all__ = [
    "KINDS", "MODES", "PLACEHOLDERS", "PiiConfig", "PiiMatch", "PiiResult", "PiiScanner",
    "PII_DEFAULT", "PII_OFF", "scan", "luhn_valid", "mynumber_check_digit", "mynumber_valid",
]

KINDS: tuple[str, ...] = ("email", "phone", "mynumber", "card", "ip")
MODES: tuple[str, ...] = ("mask", "drop", "off")
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "mynumber": "[MYNUMBER]",
    "card": "[CARD]",
    "ip": "[IP]",
}
#: When two candidates of different kinds overlap and start at the same place with the same
#: length, the earlier kind here wins (longer and earlier matches win first).
_PRIORITY = {k: i for i, k in enumerate(("email", "card", "mynumber", "phone", "ip"))}


@dataclass(frozen=True)
class PiiConfig:
    """A mode per kind (``mask`` / ``drop`` / ``off``) and two precision switches."""

    email: str = "mask"
    phone: str = "mask"
    mynumber: str = "mask"
    card: str = "mask"
    ip: str = "mask"
    #: My Number needs a keyword (マイナンバー, 個人番号 …) near it; False: any valid check digit.
    mynumber_context: bool = True
    #: Only globally routable IP addresses (not private, loopback, documentation …).
    ip_global_only: bool = True

    def validate(self) -> "PiiConfig":
        """Raise :class:`ConfigError` (a ``ValueError``) on a bad setting; return ``self``."""
        for kind in KINDS:
            mode = getattr(self, kind)
            if mode not in MODES:
                raise ConfigError(f"pii.{kind} must be one of {', '.join(MODES)}, not {mode!r}")
        for name in ("mynumber_context", "ip_global_only"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"pii.{name} must be true or false")
        return self

    def mode(self, kind: str) -> str:
        return getattr(self, kind)

    @property
    def active(self) -> tuple[str, ...]:
        """Kinds that are looked for (mode ``mask`` or ``drop``), in :data:`KINDS` order."""
        return tuple(k for k in KINDS if getattr(self, k) != "off")

    @property
    def enabled(self) -> bool:
        return bool(self.active)


PII_DEFAULT = PiiConfig()
PII_OFF = PiiConfig(email="off", phone="off", mynumber="off", card="off", ip="off")


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str
    start: int  # character offsets into the scanned text
    end: int


@dataclass(frozen=True)
class PiiResult:
    #: the text with every span of a ``mask`` kind replaced by its placeholder
    text: str
    #: every match of a kind that is not ``off`` (``mask`` and ``drop``), in text order,
    #: offsets into the *original* text
    matches: tuple[PiiMatch, ...]
    #: per kind (every kind of :data:`KINDS`): number of matches, characters matched
    counts: dict[str, int] = field(default_factory=dict)
    chars: dict[str, int] = field(default_factory=dict)
    #: a kind in ``drop`` mode matched: the caller drops the document (reason ``pii``)
    drop: bool = False
    #: number of spans replaced by a placeholder in :attr:`text`
    masked: int = 0


# -- character classes ----------------------------------------------------------------------
_D = "0-9０-９"
_DIGIT = f"[{_D}]"
_DASHES = "\\-－−ー‐‑–—―ｰ﹣"  # hyphen-minus and the look-alikes Japanese pages use
_SP = " \u3000\u00a0"
# a group separator: a dash with at most one space on each side, or one space
_SEP = f"(?:[{_SP}]?[{_DASHES}][{_SP}]?|[{_SP}])"
_FW = str.maketrans("０１２３４５６７８９", "0123456789")


_NON_DIGITS = re.compile(r"[^0-9]+")
_DIGIT_RUNS = re.compile(r"[0-9]+")


def _digits(s: str) -> str:
    return _NON_DIGITS.sub("", s.translate(_FW))


def _groups(s: str) -> list[str]:
    return _DIGIT_RUNS.findall(s.translate(_FW))


# -- check digits ---------------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check of an ASCII digit string."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mynumber_check_digit(first11: str) -> int:
    """The check digit of a My Number from its first 11 digits (総務省令第85号 第5条)."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError("need 11 ASCII digits")
    total = 0
    for n in range(1, 12):  # n-th digit from the right
        p = ord(first11[11 - n]) - 48
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def mynumber_valid(digits: str) -> bool:
    return (len(digits) == 12 and digits.isascii() and digits.isdigit()
            and mynumber_check_digit(digits[:11]) == ord(digits[11]) - 48)


def _ean13_valid(d: str) -> bool:
    if len(d) != 13:
        return False
    s = sum((ord(c) - 48) * (3 if i % 2 else 1) for i, c in enumerate(d[:12]))
    return (10 - s % 10) % 10 == ord(d[12]) - 48


def _card_issuer_ok(d: str) -> bool:
    n = len(d)
    if d[0] not in "23456":
        return False
    if d[0] == "4":
        return n in (13, 16, 19)  # Visa
    p2, p3, p4, p6 = int(d[:2]), int(d[:3]), int(d[:4]), int(d[:6])
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # American Express
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19  # JCB
    if 300 <= p3 <= 305 or p4 == 3095 or p2 in (36, 38, 39):
        return 14 <= n <= 19  # Diners Club
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19  # Discover
    if p2 == 62:
        return 16 <= n <= 19  # UnionPay
    if 2200 <= p4 <= 2204:
        return 16 <= n <= 19  # Mir
    return False


# -- patterns -------------------------------------------------------------------------------
# Every pattern starts with a plain character class, so that the regular-expression engine
# skips ahead to candidate characters in C; the left-boundary tests come right after that first
# character (each lookbehind is one character wider and ends with it).
#
# Left boundary for digit kinds: not after a digit, nor after a digit and a separator-like
# character (so nothing starts inside a longer number, date, decimal or range), nor after
# characters of URLs and query strings.
_LB1 = (f"(?<![{_D}].)(?<![{_D}][{_DASHES}./:,，．_].)(?<![{_D}][{_SP}][{_DASHES}].)"
        f"(?<![=#_%&@/\\\\].)")
# Right boundary: not before a digit, nor before a dash / dot / comma / colon and a digit.
_RB = f"(?![{_D}])(?![{_DASHES}./:,，．][{_D}])(?![{_SP}]?[{_DASHES}][{_SP}]?[{_D}])"

_PHONE_RE = re.compile(
    f"[0０(（+＋]{_LB1}(?:"
    # (1) 03-1234-5678, 090 1234 5678, 0120-123-456, ０３−１２３４−５６７８
    f"(?<=[0０])(?P<sep>{_DIGIT}{{1,4}}{_SEP}{_DIGIT}{{1,4}}{_SEP}{_DIGIT}{{3,4}})"
    # (2) (03)1234-5678, （06）6123-4567, (03) 1234 5678
    f"|(?<=[(（])(?P<par>[0０]{_DIGIT}{{1,4}}[)）][{_SP}]?{_DIGIT}{{1,4}}{_SEP}{_DIGIT}{{3,4}})"
    # (3) 03(1234)5678
    f"|(?<=[0０])(?P<mid>{_DIGIT}{{1,4}}[(（]{_DIGIT}{{1,4}}[)）]{_DIGIT}{{4}})"
    # (4) 03.1234.5678
    f"|(?<=[0０])(?P<dot>{_DIGIT}{{1,4}}[.．]{_DIGIT}{{1,4}}[.．]{_DIGIT}{{3,4}})"
    # (4b) 03・1234・5678, 090/1234/5678 (the same separator twice)
    f"|(?<=[0０])(?P<slash>{_DIGIT}{{1,4}}(?P<ssep>[・/]){_DIGIT}{{1,4}}(?P=ssep){_DIGIT}{{3,4}})"
    # (5) 09012345678, 0312345678 (the latter only after a phone keyword)
    f"|(?<=[0０])(?P<flat>{_DIGIT}{{9,10}})"
    # (6) +81-3-1234-5678, +81 90 1234 5678, +81(0)3-1234-5678, (+81) 3 …, +819012345678
    f"|(?P<intl>(?:(?<=[(（])[+＋]|(?<=[+＋]))[{_SP}]?[8８][1１][)）]?(?:{_SEP})?(?:[(（][0０][)）](?:{_SEP})?)?"
    f"(?:[1-9１-９]{_DIGIT}{{0,3}}{_SEP}{_DIGIT}{{1,4}}{_SEP}{_DIGIT}{{3,4}}|[1-9１-９]{_DIGIT}{{8,9}}))"
    ")" + _RB
)

_CARD_RE = re.compile(
    f"{_DIGIT}{_LB1}(?:"
    f"{_DIGIT}{{12,18}}"
    f"|{_DIGIT}{{3}}(?:{_SEP}{_DIGIT}{{4}}){{3}}(?:{_SEP}{_DIGIT}{{1,3}})?"  # 4-4-4-4(-3)
    f"|{_DIGIT}{{3}}{_SEP}{_DIGIT}{{6}}{_SEP}{_DIGIT}{{4,5}}"  # 4-6-5 (Amex), 4-6-4 (Diners)
    ")" + _RB
)

_MYNUMBER_RE = re.compile(
    f"{_DIGIT}{_LB1}(?:{_DIGIT}{{11}}|{_DIGIT}{{3}}{_SEP}{_DIGIT}{{4}}{_SEP}{_DIGIT}{{4}})" + _RB
)
_MYNUMBER_KEYWORD = re.compile(
    r"マイナンバー|ﾏｲﾅﾝﾊﾞｰ|個人番号|[Mm][Yy][ _]?[Nn][Uu][Mm][Bb][Ee][Rr]|ＭｙＮｕｍｂｅｒ|マイナ番号"
)

# octet ranges and leading zeros are checked by ``ipaddress``
_IPV4_RE = re.compile(
    r"[0-9](?<![0-9A-Za-z.].)(?<![0-9A-Za-z][-_].)[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![0-9]|\.[0-9]|[A-Za-z])"
)
# A candidate: a run of hex digits and colons (validated by ``ipaddress``).
_IPV6_RE = re.compile(r"[0-9A-Fa-f:](?<![0-9A-Za-z:_.].)[0-9A-Fa-f:]{5,38}(?![0-9A-Za-z:_])")
_VERSION_BEFORE = re.compile(
    r"(?:(?<![A-Za-z])[vV]|[vV][eE][rR]\.?|[vV]ersion|VERSION|バージョン|ﾊﾞｰｼﾞｮﾝ|[rR]ev\.?|[bB]uild|ビルド)"
    r"[ \u3000]?[:：.]?[ \u3000]?\Z"
)
# an ASCII word and one space right before a dotted quad (a product name and its version)
_WORD_BEFORE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9+#]{1,20}) \Z")
_IP_PREPOSITIONS = frozenset("from to by via at for src dst addr ipv4 is".split())
_IP_WORD = re.compile(r"IP|[Ii]p|アドレス|[Aa]ddress|サーバ|[Ss]erver|[Hh]ost|ホスト|DNS|[Pp]ing|ゲートウェイ")

# Obfuscated spellings of "@" and "." (matched on the folded view, where （［＜｛ are ASCII):
# "(at)", "[at]", "<at>", "【アット】", "（あっと）", and the bare words アット / あっと with at most
# one space around; "(dot)", "[dot]", "ドット", "どっと" likewise.
_S = "[ \u3000]?"
_OPEN = "[(\\[<{【〔《〈]"
_CLOSE = "[)\\]>}】〕》〉]"
_AT = f"(?:@|＠|{_S}{_OPEN}{_S}(?:at|AT|At|アット|あっと){_S}{_CLOSE}{_S}|{_S}(?:アット|あっと){_S})"
_DOT = f"(?:\\.|{_S}{_OPEN}{_S}(?:dot|DOT|Dot|ドット|どっと){_S}{_CLOSE}{_S}|{_S}(?:ドット|どっと){_S})"
_DOT_RE = re.compile(_DOT)
_EMAIL_RE = re.compile(
    r"(?P<local>[A-Za-z0-9._%+\-](?<![A-Za-z0-9._%+\-].)[A-Za-z0-9._%+\-]{0,63})"
    + _AT
    + f"(?P<domain>[A-Za-z0-9\\-]{{1,63}}(?:{_DOT}[A-Za-z0-9\\-]{{1,63}}){{1,8}})"
    + r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9\-])"
)
_EMAIL_TRIGGER = re.compile(f"[@＠]|{_OPEN}{_S}(?:at|AT|At){_S}{_CLOSE}|アット|あっと")
_FILE_EXT = frozenset(
    "png jpg jpeg gif webp svg bmp ico tif tiff avif heic pdf css js mjs json xml html htm php "
    "asp aspx jsp cgi txt csv zip gz tar mp3 mp4 m4a mov avi wav webm woff woff2 ttf otf eot".split()
)
_PHONE_WORD = re.compile(
    r"(?:TEL|Tel|tel|ＴＥＬ|Ｔｅｌ|FAX|Fax|fax|ＦＡＸ|電話|でんわ|☎|℡|📞|携帯|連絡先|問い?合わ?せ|ファックス|ファクス)"
    r"[^0-9０-９]{0,6}\Z"
)
_ANY_DIGIT = re.compile(f"[{_D}]")


# -- validators -----------------------------------------------------------------------------
def _national_ok(d: str, groups: list[int] | None) -> bool:
    """A national number (leading 0) ``d``; ``groups``: digit-group lengths (None: contiguous)."""
    n = len(d)
    if n < 10 or d[0] != "0" or d[1] == "0":
        return False
    p3, p4 = d[:3], d[:4]
    if p4 in ("0120", "0570", "0990"):
        return n == 10 and (groups is None or groups in ([4, 3, 3], [4, 2, 4], [4, 6]))
    if p4 == "0800":
        return n == 11 and (groups is None or groups in ([4, 3, 4], [4, 7]))
    if p3 in ("020", "050", "070", "080", "090"):
        return n == 11 and (groups is None or groups == [3, 4, 4])
    if n != 10:
        return False
    if groups is None:
        return True
    return len(groups) == 3 and 2 <= groups[0] <= 5 and groups[2] == 4


class PiiScanner:
    """Finds the PII of the kinds a :class:`PiiConfig` enables; one instance per worker."""

    def __init__(self, config: PiiConfig = PII_DEFAULT):
        self.config = config.validate()
        self._active = config.active

    # -- per kind: yield (start, end) of validated matches -------------------------------------
    def _search(self, pattern: re.Pattern, text: str, valid) -> list[tuple[int, int]]:
        """Every match of ``pattern`` that ``valid(match)`` accepts; a rejected candidate
        restarts the search one character after its start (bounded: candidates are short)."""
        out = []
        pos = 0
        n = len(text)
        search = pattern.search
        while pos < n:
            m = search(text, pos)
            if m is None:
                break
            span = valid(m)
            if span:
                out.append(span)
                pos = span[1]
            else:
                pos = m.start() + 1
        return out

    def _phone(self, text: str) -> list[tuple[int, int]]:
        def valid(m: re.Match):
            s, e = m.span()
            before = text[s - 1] if s else ""
            if before.isascii() and before.isalpha() or (
                    before and before in _DASHES and s >= 2 and text[s - 2].isascii() and text[s - 2].isalnum()):
                # letters right before (or letters and a dash: ABC-03-…): only after a phone
                # word (TEL03-…, FAX-03-…)
                if not _PHONE_WORD.search(text, max(0, s - 12), s - (0 if before.isalpha() else 1)):
                    return None
            kind = m.lastgroup
            raw = m.group()
            if kind == "intl":
                body = raw.translate(_FW)
                i = body.index("81") + 2
                rest = body[i:]
                rest = re.sub(r"[(（]0[)）]", "", rest, count=1)
                groups = [len(g) for g in re.findall(r"[0-9]+", rest)]
                d = "0" + "".join(re.findall(r"[0-9]+", rest))
                if len(groups) == 1:
                    return (s, e) if _national_ok(d, None) else None
                # +81 drops the trunk 0: the first group gains it back
                groups[0] += 1
                return (s, e) if _national_ok(d, groups) else None
            d = _digits(raw)
            if kind == "flat":
                if not _national_ok(d, None):
                    return None
                if len(d) == 10 and d[:4] != "0120" and d[:4] != "0570" and d[:4] != "0990":
                    # a fixed-line number written without separators: only after a phone word
                    if not _PHONE_WORD.search(text, max(0, s - 16), s):
                        return None
                return (s, e)
            groups = [len(g) for g in _groups(raw)]
            return (s, e) if _national_ok(d, groups) else None

        return self._search(_PHONE_RE, text, valid)

    def _card(self, text: str) -> list[tuple[int, int]]:
        def valid(m: re.Match):
            d = _digits(m.group())
            if not 13 <= len(d) <= 19 or not _card_issuer_ok(d) or not luhn_valid(d):
                return None
            if len(d) == 13 and d[:2] in ("45", "49") and _ean13_valid(d):
                return None  # a JAN product code
            return m.span()

        return self._search(_CARD_RE, text, valid)

    def _mynumber(self, text: str) -> list[tuple[int, int]]:
        need_context = self.config.mynumber_context

        def valid(m: re.Match):
            s, e = m.span()
            if need_context and not (_MYNUMBER_KEYWORD.search(text, max(0, s - 32), s)
                                     or _MYNUMBER_KEYWORD.search(text, e, e + 12)):
                return None
            if not mynumber_valid(_digits(m.group())):
                return None
            return s, e

        return self._search(_MYNUMBER_RE, text, valid)

    def _ipv4(self, text: str) -> list[tuple[int, int]]:
        global_only = self.config.ip_global_only

        def valid(m: re.Match):
            s, e = m.span()
            ip = m.group()
            if _VERSION_BEFORE.search(text, max(0, s - 10), s):
                return None
            ip_word = _IP_WORD.search(text, max(0, s - 16), s)
            if all(len(p) == 1 for p in ip.split(".")) and not ip_word:
                return None
            w = _WORD_BEFORE.search(text, max(0, s - 24), s)
            if w and not ip_word and w.group(1).lower() not in _IP_PREPOSITIONS:
                return None  # "iTunes 12.5.1.21": a product name and its version
            try:
                addr = ipaddress.IPv4Address(ip)  # rejects octets > 255 and leading zeros
            except ValueError:
                return None
            if global_only and not addr.is_global:
                return None
            return s, e

        return self._search(_IPV4_RE, text, valid)

    def _ipv6(self, text: str) -> list[tuple[int, int]]:
        global_only = self.config.ip_global_only

        def valid(m: re.Match):
            c = m.group()
            if c.count(":") < 2 or ":::" in c:
                return None
            if sum(1 for g in c.split(":") if g) < 3:
                return None
            try:
                addr = ipaddress.IPv6Address(c)
            except ValueError:
                return None
            if global_only and not addr.is_global:
                return None
            return m.span()

        return self._search(_IPV6_RE, text, valid)

    def _email(self, text: str) -> list[tuple[int, int]]:
        def valid(m: re.Match):
            local, domain = m.group("local"), m.group("domain")
            if local[0] == "." or local[-1] == "." or ".." in local:
                return None
            if not domain.isascii() or "[" in domain or "(" in domain or "<" in domain or "{" in domain or " " in domain:
                domain = _DOT_RE.sub(".", domain)  # an obfuscated dot: the address it stands for
            labels = domain.split(".")
            tld = labels[-1]
            if not (2 <= len(tld) <= 24 and tld.isalpha()) or tld.lower() in _FILE_EXT:
                return None
            if any(not lab or lab[0] == "-" or lab[-1] == "-" for lab in labels):
                return None
            e = m.end()
            if text.startswith(":", e) and e + 1 < len(text) and (text[e + 1].isalnum() or text[e + 1] in "~/"):
                return None  # git@github.com:user/repo (an SSH address, not a mailbox)
            if is_placeholder_address(local, domain):
                return None  # example.com, xxxx@yyy.com: identifies no one (pii_spellings.py)
            return m.span()

        return self._search(_EMAIL_RE, text, valid)

    # -- public ---------------------------------------------------------------------------------
    def find(self, text: str) -> list[PiiMatch]:
        """Non-overlapping matches of the active kinds, in text order, offsets into ``text``.

        Matching runs on the width-folded view of ``text`` (``pii_spellings.fold``); the phone
        scan also sees kanji digits after a phone word as digits, the e-mail scan a symbol the
        page says to read as ``@`` as ``@``; every span is mapped back to ``text``."""
        if not text or not self._active:
            return []
        view = fold(text)
        v = view.text
        cands: list[tuple[int, int, str]] = []
        active = self._active
        if "email" in active:
            if _EMAIL_TRIGGER.search(v):
                cands += [(s, e, "email") for s, e in self._email(v)]
            at_view = at_symbol_view(v)  # "info★example.co.jp (★を@に)"
            if at_view is not None:
                cands += [(s, e, "email") for s, e in self._email(at_view)]
        if "phone" in active:
            kanji = kanji_phone_digits(v)
            if kanji is not None:
                cands += [(s, e, "phone") for s, e in self._phone(kanji)]
            elif _ANY_DIGIT.search(v):
                cands += [(s, e, "phone") for s, e in self._phone(v)]
        if _ANY_DIGIT.search(v):
            if "card" in active:
                cands += [(s, e, "card") for s, e in self._card(v)]
            if "mynumber" in active:
                cands += [(s, e, "mynumber") for s, e in self._mynumber(v)]
            if "ip" in active:
                if "." in v:
                    cands += [(s, e, "ip") for s, e in self._ipv4(v)]
        if "ip" in active and "::" in v or ("ip" in active and v.count(":") >= 7):
            cands += [(s, e, "ip") for s, e in self._ipv6(v)]
        if not cands:
            return []
        # leftmost, then longest, then by kind priority; drop anything overlapping a kept match
        cands.sort(key=lambda c: (c[0], c[0] - c[1], _PRIORITY[c[2]]))
        out: list[PiiMatch] = []
        last_end = -1
        for s, e, k in cands:
            if s >= last_end:
                os, oe = view.span(s, e)
                out.append(PiiMatch(k, os, oe))
                last_end = e
        return out

    def scan(self, text: str) -> PiiResult:
        """Find, count and mask in one pass over ``text``."""
        cfg = self.config
        counts = dict.fromkeys(KINDS, 0)
        chars = dict.fromkeys(KINDS, 0)
        matches = self.find(text or "")
        if not matches:
            return PiiResult(text or "", (), counts, chars, False, 0)
        parts: list[str] = []
        pos = 0
        drop = False
        masked = 0
        for m in matches:
            counts[m.kind] += 1
            chars[m.kind] += m.end - m.start
            mode = cfg.mode(m.kind)
            if mode == "mask":
                parts.append(text[pos:m.start])
                parts.append(PLACEHOLDERS[m.kind])
                pos = m.end
                masked += 1
            elif mode == "drop":
                drop = True
        parts.append(text[pos:])
        return PiiResult("".join(parts), tuple(matches), counts, chars, drop, masked)


def scan(text: str, config: PiiConfig = PII_DEFAULT) -> PiiResult:
    """One-off convenience: ``PiiScanner(config).scan(text)`` (build a scanner once for many texts)."""
    return PiiScanner(config).scan(text)


#: Characters of context on each side of a span kept in an audit sample.
SAMPLE_CONTEXT = 40


class PiiStage(Stage):
    """pii: find personal data in the cleaned text; mask it, or drop the document, by kind.

    Detail rows per kind: ``pii_docs`` (documents with a match, characters matched) and
    ``pii_matches`` (number of matches).  With ``--samples-per-reason N`` the first N matches of
    each kind per file are kept for auditing under ``OUT/samples/pii/found_<kind>.jsonl``: the
    span as it was, with ``SAMPLE_CONTEXT`` characters around it (these files hold the personal
    data the corpus does not: delete them after the audit)."""

    name = "pii"
    summary = "personal data in Japanese text: e-mail, telephone numbers, My Number, cards, IP addresses"
    chars = "text characters (after masking when kept)"
    settings = PiiConfig
    enabled_by = "enabled"
    reasons = (
        *Reason.kept("no personal data of a kind that is looked for", "unchanged"),
        *Reason.kept("spans of a kind in mask mode replaced by their placeholders", "masked"),
        *Reason.dropped("a kind in drop mode matched", "pii"),
    )
    details = (
        DetailKind("pii_docs", "kind", "documents with a match of the kind, characters matched"),
        DetailKind("pii_matches", "kind", "matches of the kind (docs = number of matches)"),
    )
    #: the kinds of personal data and their placeholders (the report reads them here)
    kinds = KINDS
    placeholders = PLACEHOLDERS
    #: audit samples are offered as ``found_<kind>`` (``OUT/samples/pii/found_<kind>.jsonl``)
    sample_prefix = "found_"

    @classmethod
    def columns(cls, settings: PiiConfig) -> tuple[Column, ...]:
        return tuple(Column(f"pii_{k}", "int32", f"{k} matches found by the pii stage (masked in the text)")
                     for k in KINDS)

    def setup(self, config, resources: Resources) -> None:
        cfg = config.pii
        self.scanner: PiiScanner = resources.get(("pii", cfg), lambda: PiiScanner(cfg))

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        res = self.scanner.scan(text)
        for kind in KINDS:
            doc.signals[f"pii_{kind}"] = res.counts[kind]
            if res.counts[kind]:
                count.detail("pii_docs", kind, chars=res.chars[kind], nbytes=doc.payload_bytes)
                count.detail("pii_matches", kind, docs=res.counts[kind])
        for m in res.matches:
            count.sample(f"{self.sample_prefix}{m.kind}", lambda m=m: _audit_record(doc, text, m, self.scanner.config.mode(m.kind)))
        if res.drop:
            count.dropped("pii", chars=len(text))
            return None
        if res.masked:
            doc.text = res.text
            count.kept("masked", chars=len(res.text))
        else:
            count.kept("unchanged", chars=len(text))
        return doc


def _audit_record(doc: Doc, text: str, m: PiiMatch, mode: str) -> dict:
    lo, hi = max(0, m.start - SAMPLE_CONTEXT), min(len(text), m.end + SAMPLE_CONTEXT)
    return {
        "url": doc.url, "snapshot": doc.snapshot, "warc_file": doc.warc_file, "warc_offset": doc.warc_offset,
        "warc_length": doc.warc_length, "warc_record_id": doc.warc_record_id, "warc_date": doc.warc_date,
        "kind": m.kind, "mode": mode, "span": text[m.start:m.end], "start": m.start,
        "before": text[lo:m.start], "after": text[m.end:hi],
        "placeholder": PLACEHOLDERS[m.kind] if mode == "mask" else None,
    }


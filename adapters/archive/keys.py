"""The key layout: ``{prefix}/YYYY/MM/DD/HHMMSS-{ledger_id}-{correlation_id}.json``.

The time is the ledger's ``created_at`` in UTC, so a retry of the same run writes the same
key. Ids are made safe for S3 keys and file names: characters outside ``[A-Za-z0-9._-]``
become ``%XX`` (UTF-8 bytes, upper-case hex), as does a leading dot; an escaped id longer
than ``MAX_ID_LENGTH`` is cut and suffixed with a digest of the original. A correlation id
like ``../../etc`` or ``a/b`` therefore can neither leave the day's folder nor add levels.
The original ids are kept in the document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

MAX_ID_LENGTH = 96
NO_CORRELATION = "none"
MAX_KEY_BYTES = 1024
"""S3's limit on a key (UTF-8 bytes)."""
MAX_PART_BYTES = 255
"""The usual file systems' limit on one path part (ext4, APFS, NTFS: 255 bytes or units)."""
MAX_NAME_LENGTH = len("HHMMSS-") + MAX_ID_LENGTH + len("-") + MAX_ID_LENGTH + len(".json")
"""The longest run file name the layout makes (ids are ASCII once escaped): 205."""
MAX_PREFIX_BYTES = MAX_KEY_BYTES - len("/YYYY/MM/DD/") - MAX_NAME_LENGTH
"""The longest prefix with which every key still fits S3's limit: 807 bytes."""
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_NAME = re.compile(
    r"^(?P<time>\d{6})-"
    r"(?P<ledger>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[^-]+)"
    r"-(?P<correlation>.*)\.json$"
)
_DAY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/([^/]+)$")


def safe_id(value: str) -> str:
    """``value`` as one safe key segment (see the module docstring)."""
    out: list[str] = []
    for position, char in enumerate(value):
        if char in _SAFE and not (position == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    escaped = "".join(out)
    if len(escaped) > MAX_ID_LENGTH:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
        head = escaped[: MAX_ID_LENGTH - 17]
        if "%" in head[-2:]:  # never cut an escape in half
            head = head[: head.rindex("%")]
        escaped = f"{head}.{digest}"
    return escaped or "%"  # no escape is a lone "%", so "" cannot meet "\x00" (%00)


def prefix_problems(prefix: str) -> list[str]:
    """Why keys under ``prefix`` could be longer than S3 or a file system takes (or ``[]``).

    Every key is ``prefix + "/YYYY/MM/DD/" + name`` with a name of at most
    ``MAX_NAME_LENGTH`` ASCII characters, so a prefix of at most ``MAX_PREFIX_BYTES``
    UTF-8 bytes, each part at most ``MAX_PART_BYTES``, makes every key fit (the outbox's
    files beside a key, e.g. a quarantine reason ``<name>.txt``, still fit a part).
    """
    try:
        size = len(prefix.encode("utf-8"))
    except UnicodeEncodeError:
        return ["characters that are not UTF-8 (a lone surrogate)"]
    problems = []
    if size > MAX_PREFIX_BYTES:
        problems.append(
            f"{size} bytes, more than {MAX_PREFIX_BYTES} (keys would exceed S3's "
            f"{MAX_KEY_BYTES}-byte limit)"
        )
    long_parts = [part for part in prefix.split("/") if len(part.encode("utf-8")) > MAX_PART_BYTES]
    if long_parts:
        problems.append(
            f"a folder name of {len(long_parts[0].encode('utf-8'))} bytes, more than "
            f"{MAX_PART_BYTES} (a file system's limit on one path part)"
        )
    return problems


def day_folder(day: date) -> str:
    """``YYYY/MM/DD``, the year always four digits (``%Y`` gives ``999`` on some platforms)."""
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def day_prefix(prefix: str, day: date) -> str:
    """The folder of one UTC day, ending in ``/``."""
    folder = day_folder(day) + "/"
    return f"{prefix}/{folder}" if prefix else folder


def run_key(prefix: str, ledger_id: str, correlation_id: str | None, created_at: datetime) -> str:
    """The key of one run's document."""
    utc = created_at.astimezone(UTC) if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    correlation = safe_id(correlation_id) if correlation_id is not None else NO_CORRELATION
    name = f"{utc:%H%M%S}-{safe_id(ledger_id)}-{correlation}.json"
    return day_prefix(prefix, utc.date()) + name


@dataclass(frozen=True)
class RunRef:
    """One listed run: its key and what the key itself tells (ids as escaped in the key)."""

    key: str
    day: date
    time: str
    ledger_id: str
    correlation_id: str
    size: int | None = None


def parse_key(prefix: str, key: str) -> RunRef | None:
    """The run a key names, or ``None`` for a key outside the layout."""
    rest = key
    if prefix:
        if not key.startswith(prefix + "/"):
            return None
        rest = key[len(prefix) + 1 :]
    match = _DAY.match(rest)
    if match is None:
        return None
    year, month, day_of_month, name = match.groups()
    named = _NAME.match(name)
    if named is None:
        return None
    try:
        day = date(int(year), int(month), int(day_of_month))
    except ValueError:
        return None
    return RunRef(
        key=key,
        day=day,
        time=named["time"],
        ledger_id=named["ledger"],
        correlation_id=named["correlation"],
    )


def range_listing(prefix: str, first: date, last: date) -> tuple[str, str]:
    """(list prefix, start-after) for one ordered listing that covers ``first``..``last``.

    Keys sort by day because the layout is zero-padded, so a single paginated listing
    from the first day's folder, stopped after the last day, covers the whole range.
    """
    start = day_prefix(prefix, first)
    end = day_prefix(prefix, last)
    common = _common_prefix(start, end)
    # Everything in the first day's folder sorts after the folder name minus its "/".
    return common, start[:-1]


def _common_prefix(left: str, right: str) -> str:
    length = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        length += 1
    common = left[:length]
    cut = common.rfind("/")
    return common[: cut + 1] if cut >= 0 else ""

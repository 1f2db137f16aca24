"""``trade-ledger report --html``: one self-contained file whose plots render in a real browser.

Debian's ``chromium`` opens the file headless, offline (no network, empty profile): one
run dumps the laid-out DOM with the box of each plot (measured by a probe script added to
a copy of the file), another takes a screenshot of the file itself; each plot's box must
hold drawn pixels. The same check is run on a copy whose plot was blanked, which must
fail, so the check cannot pass vacuously.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from adapters.archive import LocalDirectoryArchive
from adapters.cli import app
from adapters.reporting.html import PLOT_IDS
from tests.archive.conftest import signing
from tests.reporting.test_report_cli import period_runs
from tests.servers import server_missing
from tests.signing_keys import TRUSTED

WINDOW = (1280, 4000)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)
PROBE = """<script>
const boxes = {};
for (const figure of document.querySelectorAll("figure")) {
  const svg = figure.querySelector("svg");
  const box = (svg || figure).getBoundingClientRect();
  boxes[figure.id] = [box.left, box.top, box.width, box.height];
}
const out = document.createElement("pre");
out.id = "boxes"; out.style.display = "none"; out.textContent = JSON.stringify(boxes);
document.body.appendChild(out);
</script>"""
EXTERNAL = re.compile(
    r"""(?:src|href)\s*+=\s*+["']?+\s*+(?!#)|@import|url\(\s*+["']?+\s*+(?!#)""", re.IGNORECASE
)
"""Anything the page would load: a src or href, a CSS import or a url() not within the page."""


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        server_missing("Debian's chromium is not installed (apt-get install chromium)")
        raise AssertionError("unreachable")
    return found


def browse(chromium: str, page: Path, profile: Path, *action: str) -> str:
    profile.mkdir(exist_ok=True)
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *action, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def plot_boxes(chromium: str, report: Path, tmp_path: Path) -> dict[str, list[float]]:
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = browse(chromium, probe, tmp_path / "profile-dom", "--dump-dom")
    found = re.search(r'<pre id="boxes"[^>]*>(.*?)</pre>', dom, re.S)
    assert found is not None, dom[-500:]
    boxes: dict[str, list[float]] = json.loads(found.group(1))
    return boxes


def screenshot(chromium: str, page: Path, tmp_path: Path, name: str) -> Image.Image:
    shot = tmp_path / f"{name}.png"
    browse(chromium, page, tmp_path / f"profile-{name}", f"--screenshot={shot}")
    return Image.open(shot).convert("RGB")


def drawn(image: Image.Image, box: list[float]) -> tuple[float, int]:
    """(share of pixels that are not the white page, number of distinct colours) in ``box``."""
    left, top, width, height = (round(value) for value in box)
    assert width > 100, box
    assert height > 100, box
    assert top + height <= image.height, "the plot is below the screenshot: make WINDOW taller"
    region = image.crop((left, top, left + width, top + height))
    colours: list[tuple[int, Any]] = region.getcolors(maxcolors=width * height) or []
    white = sum(count for count, colour in colours if colour == (255, 255, 255))
    return 1 - white / (width * height), len(colours)


def rendered(image: Image.Image, box: list[float]) -> bool:
    share, colours = drawn(image, box)
    return share > 0.01 and colours > 8


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    local_archive = signing(LocalDirectoryArchive(folder / "archive"))
    for events in period_runs():
        assert local_archive.write(events).archived
    target = folder / "report.html"
    TRUSTED.save(folder / "trusted-keys.json")
    result = CliRunner().invoke(
        app,
        ["report", "-a", str(local_archive.directory), "--from", "2024-03-04", "--to",
         "2024-03-06", "--html", str(target), "--trusted-keys",
         str(folder / "trusted-keys.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    return target


def test_the_file_is_self_contained(report_file: Path) -> None:
    page = report_file.read_text()
    assert "<script" not in page
    assert EXTERNAL.search(page) is None
    for plot_id in PLOT_IDS:
        assert f"id='{plot_id}'" in page
    assert page.count("<svg") == len(PLOT_IDS)
    assert "momentum" in page
    assert "mean_reversion" in page
    assert "-14.1350" in page  # momentum's realised P&L, exact, in the table


def test_every_plot_renders_in_headless_chromium(
    chromium: str, report_file: Path, tmp_path: Path
) -> None:
    boxes = plot_boxes(chromium, report_file, tmp_path)
    assert sorted(boxes) == sorted(PLOT_IDS)
    image = screenshot(chromium, report_file, tmp_path, "report")
    for plot_id in PLOT_IDS:
        assert rendered(image, boxes[plot_id]), (plot_id, drawn(image, boxes[plot_id]))

    # The check fails for a plot that does not draw: blank the first plot's SVG content.
    page = report_file.read_text()
    start = page.index("<svg", page.index(f"id='{PLOT_IDS[0]}'"))
    end = page.index("</svg>", start)
    opening = page[start : page.index(">", start) + 1]
    blanked = tmp_path / "blanked.html"
    blanked.write_text(page[:start] + opening + page[end:])
    image = screenshot(chromium, blanked, tmp_path, "blanked")
    assert not rendered(image, boxes[PLOT_IDS[0]])
    assert rendered(image, boxes[PLOT_IDS[1]])

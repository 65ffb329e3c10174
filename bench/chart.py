"""A PNG bar chart of every row's ratio to the raw-WSGI floor (matplotlib, Agg backend)."""
from __future__ import annotations

from pathlib import Path

COLOURS = {"limit": "#9e9e9e", "floor": "#455a64", "flask": "#78909c", "tokenauth": "#1e88e5",
           "auth_basic": "#e53935",
           "routes": "#8e24aa", "flood": "#fb8c00", "microcache": "#43a047", "ttl": "#00897b",
           "server": "#1e88e5"}


def bars(rows: list, ratio, path: Path, title: str) -> None:
    """Horizontal bars, top to bottom in table order, each labelled with ``ratio(row)`` to
    the floor; a line at the floor (1.0) and at issue 8's cached goal (0.9)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    measured = [row for row in rows if row.best is not None and ratio(row) is not None]
    if not measured:
        figure, axes = pyplot.subplots(figsize=(6, 1.5))
        axes.axis("off")
        axes.text(0.5, 0.5, "nothing measured (no floor)", ha="center", va="center")
        figure.savefig(path, dpi=110)
        pyplot.close(figure)
        return
    labels = [row.label for row in measured]
    ratios = [ratio(row) for row in measured]
    figure, axes = pyplot.subplots(figsize=(11, 0.34 * len(measured) + 1.6))
    positions = range(len(measured))[::-1]
    # The limit (nginx alone) is far right of the rest: clip its bar, keep its number.
    right = max([r for row, r in zip(measured, ratios) if row.group != "limit"] + [1.0]) * 1.3
    axes.barh(list(positions), [min(ratio, right) for ratio in ratios],
              color=[COLOURS.get(row.group, "#1e88e5") for row in measured])
    for position, ratio in zip(positions, ratios):
        clipped = ratio > right
        axes.text(min(ratio, right), position, f" {ratio:.2f}" + (" →" if clipped else ""),
                  va="center", ha="right" if clipped else "left", fontsize=8,
                  color="white" if clipped else "black")
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.axvline(1.0, color="#455a64", linewidth=1)
    axes.axvline(0.9, color="#1e88e5", linewidth=1, linestyle="--")
    axes.text(0.9, len(measured) - 0.4, "cached goal 0.9 ", ha="right", fontsize=7,
              color="#1e88e5")
    axes.set_xlabel("× the raw-WSGI floor of the same run (req/s ratio; docs/benchmark.md)")
    axes.set_xlim(0, right * 1.08)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)

"""`flask --app app seed [--demo] [--scale regional] [--families N]`."""

from __future__ import annotations

import datetime as dt
import time

import click
from flask import Flask

from models import db

from . import demo, reference, scale


def init_seed_cli(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--demo", "with_demo", is_flag=True, help="Add demo families and accounts.")
    @click.option(
        "--scale",
        "preset",
        type=click.Choice(sorted(scale.PRESETS)),
        help="Bulk-load a region's data set (seed 003 volumes) into an empty database.",
    )
    @click.option(
        "--families", type=click.IntRange(min=10), help="Families with children (scales --scale)."
    )
    def seed_command(with_demo: bool, preset: str | None, families: int | None):
        """Load reference data (idempotent); with --demo, a demo data set too."""
        counts = reference.load_reference()
        click.echo("Справочники: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))
        if with_demo:
            summary = demo.load_demo()
            click.echo(summary)
        if preset or families:
            size = families or scale.PRESETS[preset]
            started = time.monotonic()

            def progress(done: int, total: int) -> None:
                click.echo(f"  семей: {done:,} из {total:,} ({time.monotonic() - started:.0f} с)")

            written = scale.load_scale(size, progress=progress)
            click.echo(
                f"Загружено за {time.monotonic() - started:.0f} с: "
                + ", ".join(f"{table} {rows:,}" for table, rows in written.items())
            )
            figures = scale.count_figures(db.session, dt.date.today())
            click.echo(
                f"Показатели: семей с детьми {figures.families:,}, детей {figures.children:,}, "
                f"в малоимущих семьях {figures.low_income_children:,}, "
                f"детей-инвалидов {figures.disabled_children:,}, "
                f"несовершеннолетних в СОП {figures.dangerous_minors:,}"
            )

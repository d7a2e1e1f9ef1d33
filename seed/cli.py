"""`flask --app app seed [--demo]`: reference data from the seeds, demo data."""

from __future__ import annotations

import click
from flask import Flask

from . import demo, reference


def init_seed_cli(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--demo", "with_demo", is_flag=True, help="Add demo families and accounts.")
    def seed_command(with_demo: bool):
        """Load reference data (idempotent); with --demo, a demo data set too."""
        counts = reference.load_reference()
        click.echo("Справочники: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))
        if with_demo:
            summary = demo.load_demo()
            click.echo(summary)

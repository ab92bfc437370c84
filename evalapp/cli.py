"""Thin click commands over the services."""
import click
from flask import Flask, current_app
from sqlalchemy import func, select

from .extensions import db


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo data (idempotent). Demo only: never on a production database."""
        from .services.seed import seed_demo

        password = current_app.config["DEMO_PASSWORD"]
        summary = seed_demo(password)
        click.echo(f"演示数据已就绪：{summary['units']} 个单位，{summary['rounds']} 个批次。")
        click.echo(f"演示账号（仅供演示）：{', '.join(summary['users'])}")
        click.echo(f"演示密码：{password}")

    @app.cli.command("seed-demo-if-empty")
    def seed_demo_if_empty_command():
        """Seed the demo only when the database has no users yet (what `make run` does)."""
        from .models import User
        from .services.seed import seed_demo

        if db.session.scalar(select(func.count(User.id))):
            click.echo("数据库已有数据，跳过演示数据。")
            return
        password = current_app.config["DEMO_PASSWORD"]
        summary = seed_demo(password)
        click.echo(f"演示数据已载入。演示账号：{', '.join(summary['users'])}；演示密码：{password}")

    @app.cli.command("export-subsidy")
    @click.option("--round", "round_id", type=int, required=True, help="批次编号")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
    @click.option("--user", "username", default="admin", show_default=True, help="记为生成人的用户")
    def export_subsidy_command(round_id, output, username):
        """Write the subsidy eligibility sheet of a round (the same file as the finance page's download)."""
        from .models import Round, User
        from .services.subsidy import eligibility_workbook

        round_ = db.session.get(Round, round_id)
        user = db.session.scalar(select(User).where(User.username == username))
        if round_ is None or user is None:
            raise click.ClickException("批次或用户不存在")
        data, name, digest = eligibility_workbook(round_, user)
        with open(output, "wb") as f:
            f.write(data.getvalue())
        click.echo(f"已写出 {output}（{name}，明细SHA-256 {digest}）")

    @app.cli.command("backup")
    @click.argument("output", type=click.Path(dir_okay=False))
    def backup_command(output):
        """A consistent copy of the SQLite database while writes go on (SQLite's online backup API).

        For PostgreSQL use pg_dump (see docs/deploy.md); this command refuses rather than pretend.
        """
        import sqlite3

        if db.engine.dialect.name != "sqlite":
            raise click.ClickException("PostgreSQL：请用 pg_dump -Fc 备份（见 docs/deploy.md）")
        source = db.engine.raw_connection()
        try:
            target = sqlite3.connect(output)
            with target:
                source.driver_connection.backup(target)
            target.close()
        finally:
            source.close()
        click.echo(f"已备份到 {output}")

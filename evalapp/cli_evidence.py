"""`flask migrate-evidence`, `flask verify-evidence` and `flask purge-evidence-originals` (issue 34): evidence
files moved between the instance folder and the object store, their hashes recomputed, originals deleted after
their retention period."""
import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("migrate-evidence")
    @click.option("--to", "to", type=click.Choice(["s3", "local"]), required=True,
                  help="目标存储：s3（对象存储）或 local（实例目录）；源为另一个")
    def migrate_evidence_command(to):
        """Copy every evidence file from the other storage to `--to` (the S3 settings and UPLOAD_FOLDER both come
        from the configuration), read each back and check its SHA-256 against the source and the database. Exit 1
        on any difference or any file the database names that the source lacks. Then set STORAGE_BACKEND."""
        from .services import evidence_integrity
        from .services.storage import storage

        source, target = storage("local" if to == "s3" else "s3"), storage(to)
        click.echo(f"从 {source.describe()} 复制到 {target.describe()}")
        report = evidence_integrity.migrate(source, target)
        click.echo(f"复制 {report.copied} 个文件，已存在且相同 {report.already} 个，"
                   f"其中 {report.checked} 个与数据库记录的SHA-256核对一致")
        for problem in report.problems:
            click.echo(f"问题：{problem}")
        if report.problems:
            click.echo(f"迁移未通过：{len(report.problems)} 处问题")
            raise SystemExit(1)
        click.echo(f"迁移完成：请将 STORAGE_BACKEND 设为 {to}")

    @app.cli.command("verify-evidence")
    def verify_evidence_command():
        """Recompute the SHA-256 of every evidence file in the configured storage and compare it with the database's
        record. Exit 1 naming each file that differs or is missing."""
        from .services import evidence_integrity
        from .services.storage import storage

        report = evidence_integrity.verify(storage())
        click.echo(f"已核对 {report.checked} 个文件（{storage().describe()}）")
        for problem in report.problems:
            click.echo(f"不符：{problem}")
        if report.problems:
            click.echo(f"校验未通过：{len(report.problems)} 处不符")
            raise SystemExit(1)
        click.echo("校验通过")

    @app.cli.command("purge-evidence-originals")
    @click.option("--now", "now_text", default=None, hidden=True, help="当前时间（ISO 8601，UTC；测试用）")
    def purge_evidence_originals_command(now_text):
        """Delete the photo originals kept longer than EVIDENCE_ORIGINAL_RETENTION_DAYS (their GPS is personal
        information); the shown copies stay. Run daily (cron or a systemd timer, docs/deploy.md)."""
        from datetime import datetime, timezone

        from flask import current_app

        from .services import evidence

        now = datetime.fromisoformat(now_text) if now_text else datetime.now(timezone.utc)
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        days = int(current_app.config["EVIDENCE_ORIGINAL_RETENTION_DAYS"])
        count = evidence.purge_originals(now, days)
        click.echo(f"已删除保存超过 {days} 天的照片原件 {count} 个")

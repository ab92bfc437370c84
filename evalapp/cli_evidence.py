"""`flask migrate-evidence` (issue 34): evidence files moved between the instance folder and the object store,
every file's hash checked."""
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

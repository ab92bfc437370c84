"""`flask backup`, `flask verify-backup` and `flask restore` (issue 34, point 7): the database and the evidence
storage backed up and restored together (services.backup)."""
import click
from flask import Flask


def _problems(problems: list[str], failed: str) -> None:
    for problem in problems:
        click.echo(f"问题：{problem}")
    if problems:
        click.echo(f"{failed}：{len(problems)} 处问题；第一处：{problems[0]}")
        raise SystemExit(1)


def _checkpoint(report) -> None:
    if report.checkpoint:
        click.echo(f"操作日志封存至检查点 {report.checkpoint['id']}（记录 #{report.checkpoint['last_id']}），"
                   f"校验码 {report.checkpoint['mac']}：应与 seal-audit 的日志一致")
    else:
        click.echo("操作日志尚无检查点")


def _or_exit(step, refused: str):
    """What `step()` returns, or its BackupError printed after `refused` and exit 1."""
    from .services.backup import BackupError

    try:
        return step()
    except BackupError as error:
        click.echo(f"{refused}：{error}")
        raise SystemExit(1)


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False))
    def backup_command(directory):
        """Back up the database and every evidence file into DIRECTORY (new or empty): the database first
        (pg_dump --format=custom, or SQLite's online backup API; consistent while the app runs), then the files,
        checked against the rows backed up, with a manifest (key, size, SHA-256) and backup.json. Exit 1 on any
        file that differs from its row or is missing (the backup is written all the same)."""
        from .services import backup

        try:
            report = backup.backup(directory)
        except backup.BackupError as error:
            raise click.ClickException(str(error))
        click.echo(f"数据库（{report.database}）：{report.counts['rounds']} 个批次，"
                   f"{report.counts['evidence_files']} 个佐证文件记录，{report.counts['audit_events']} 条操作日志")
        _checkpoint(report)
        click.echo(f"文件：{report.objects} 个，共 {report.size} 字节，其中 {report.checked} 个与数据库记录的SHA-256核对一致"
                   f"（未备份导出任务的结果文件 {report.skipped} 个）")
        _problems(report.problems, "备份已写出，但未通过核对")
        click.echo(f"已备份到 {directory}")

    @app.cli.command("verify-backup")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False))
    def verify_backup_command(directory):
        """Check a backup directory against itself (each file's SHA-256 against the manifest, the database file's
        against backup.json), e.g. after copying it off the machine. Exit 1 naming the first difference."""
        from .services import backup

        described = _or_exit(lambda: backup.check(directory), "校验未通过")
        click.echo(f"备份于 {described['created_at']}（{described['database']['kind']}，"
                   f"迁移版本 {described['database']['alembic_revision']}），{described['objects']['count']} 个文件")
        click.echo("校验通过")

    @app.cli.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False))
    def restore_command(directory):
        """Restore a backup into the configured database and storage, which must both be empty (create them
        first); refused otherwise. The backup is checked whole before anything is written: exit 1 naming the first
        file that differs. Then run flask db upgrade, verify-audit, verify-evidence and verify-publication."""
        from .services import backup

        report = _or_exit(lambda: backup.restore(directory), "未恢复")
        click.echo(f"数据库（{report.database}）已恢复：{report.counts['rounds']} 个批次，"
                   f"{report.counts['evidence_files']} 个佐证文件记录，{report.counts['audit_events']} 条操作日志")
        _checkpoint(report)
        click.echo(f"文件：已恢复 {report.objects} 个，其中 {report.checked} 个与数据库记录的SHA-256核对一致")
        _problems(report.problems, "恢复未通过核对")
        click.echo("恢复完成：请运行 flask db upgrade，再运行 verify-audit、verify-evidence 和 verify-publication")

"""`flask verify-audit`, `flask seal-audit` and `flask backfill-audit` (issue 34, point 6): the audit trail from the
shell (services.audit_trail)."""
import click
from flask import Flask
from sqlalchemy.exc import IntegrityError


def register(app: Flask) -> None:
    @app.cli.command("verify-audit")
    def verify_audit_command():
        """Check every audit row's MAC and links and every checkpoint; name the first row changed or removed.
        Exit 1 on any problem."""
        from .services import audit_trail

        check = audit_trail.verify()
        click.echo(f"操作日志：{check.rows} 条记录，{check.checkpoints} 个检查点"
                   f"（已封存 {check.sealed} 条，未封存 {check.unsealed} 条）")
        if check.late:
            click.echo(f"供参考：{len(check.late)} 条记录在其编号范围封存后才提交（校验码有效），下次 seal-audit 封存")
        for problem in check.problems:
            click.echo(f"不符：{problem.text}")
        if check.problem_count > len(check.problems):
            click.echo(f"另有 {check.problem_count - len(check.problems)} 处不符未列出")
        if check.problem_count:
            click.echo(f"校验未通过：{check.problem_count} 处不符；第一处：{check.first.text}")
            raise SystemExit(1)
        click.echo("校验通过")

    @app.cli.command("seal-audit")
    def seal_audit_command():
        """Seal every audit row older than AUDIT_SEAL_GRACE_SECONDS that no checkpoint holds yet (run it on a timer,
        every minute or few). Prints each checkpoint's MAC: keep that output apart from the database."""
        from .extensions import db
        from .services import audit_trail
        from .services.errors import Conflict

        try:
            sealed = audit_trail.seal()
        except IntegrityError:
            db.session.rollback()
            raise click.ClickException("另一个 seal-audit 正在运行，本次未封存")
        except Conflict as error:
            raise click.ClickException(str(error.text))
        for cp in sealed.checkpoints:
            click.echo(f"检查点 {cp.id}：记录 #{cp.first_id}–#{cp.last_id}，{cp.row_count} 条，"
                       f"密钥 {cp.mac_key}，校验码 {cp.mac}")
        if not sealed.checkpoints:
            click.echo("没有需要封存的记录")
        if sealed.stopped_at is not None:
            click.echo(f"记录 #{sealed.stopped_at} 没有校验码，封存停在它之前：请运行 flask verify-audit"
                       f"（迁移0032之前的记录：flask backfill-audit）")
            raise SystemExit(1)

    @app.cli.command("backfill-audit")
    def backfill_audit_command():
        """MAC and link the audit rows written before migration 0032 (once, after upgrading); then seal-audit."""
        from .services import audit_trail
        from .services.errors import Conflict

        try:
            done = audit_trail.backfill()
        except Conflict as error:
            raise click.ClickException(str(error.text))
        click.echo(f"已为 {done} 条旧记录加上校验码" if done else "没有需要补加校验码的旧记录")

"""Thin click commands over the services."""
import click
from flask import Flask, current_app
from sqlalchemy import func, select

from .extensions import db


def register(app: Flask) -> None:
    @app.cli.command("notice-reminders")
    @click.option("--today", default=None, help="日期（YYYY-MM-DD，默认今天，北京时间）")
    def notice_reminders_command(today):
        """Remind what is due in 公示, 异议 and 复核: in-app, and to NOTICE_WEBHOOK_URL when configured. Run it on a
        timer (cron or a systemd timer); a second run on the same day writes and posts nothing new."""
        from datetime import date

        from .services import notices, reminders

        day = date.fromisoformat(today) if today else notices.today()
        sent = reminders.send(day, current_app.config.get("NOTICE_WEBHOOK_URL"))
        click.echo(f"提醒：写入{sent.written}条，" + {None: "未推送", True: "已推送到群机器人",
                                                  False: "推送失败（已重试）"}[sent.posted])
        if sent.posted is False:
            raise SystemExit(1)

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

    @app.cli.command("welcome")
    @click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="服务地址")
    def welcome_command(url):
        """What `make run` prints before serving: the address to open and the demo accounts."""
        from .services.seed import demo_accounts

        click.echo(f"\n评估验收系统：请用浏览器打开 {url}")
        accounts = demo_accounts()
        if accounts:
            click.echo(f"演示账号（仅供演示；初始密码均为 {current_app.config['DEMO_PASSWORD']}，改过的以新密码为准）：")
            width = max(len(name) for name, *_ in accounts)
            for name, role, display_name in accounts:
                click.echo(f"  {name.ljust(width)}  {role}（{display_name}）")
        click.echo("操作手册：登录后点顶部菜单的“帮助”。按 Ctrl+C 停止服务。\n")

    @app.cli.command("export-subsidy")
    @click.option("--round", "round_id", type=int, required=True, help="批次编号")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
    @click.option("--user", "username", default="admin", show_default=True, help="记为生成人的用户")
    def export_subsidy_command(round_id, output, username):
        """Write the subsidy eligibility sheet of a round (the same file as the finance page's download)."""
        from .models import Round, User
        from .services.downloads import eligibility_workbook

        round_ = db.session.get(Round, round_id)
        user = db.session.scalar(select(User).where(User.username == username))
        if round_ is None or user is None:
            raise click.ClickException("批次或用户不存在")
        data, name, digest = eligibility_workbook(round_, user)
        with open(output, "wb") as f:
            f.write(data.getvalue())
        click.echo(f"已写出 {output}（{name}，明细SHA-256 {digest}）")

    @app.cli.command("import-units")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_units_command(path):
        """Import units from an xlsx (编码, 名称, 类型, 上级编码); all or nothing."""
        from .services.imports import ImportProblems, import_units

        with open(path, "rb") as f:
            data = f.read()
        try:
            result = import_units(data, None)
        except ImportProblems as exc:
            raise click.ClickException("未导入任何数据：\n" + "\n".join(exc.problems)) from None
        click.echo(f"导入成功：{result['rows']}行，新增{result['created']}，更新{result['updated']}")

    @app.cli.command("import-catalogue")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_catalogue_command(path):
        """Import a catalogue from xlsx (the template's shape) or YAML (the default catalogue's form)."""
        from .services import catalogue_io
        from .services.imports import ImportProblems

        with open(path, "rb") as f:
            data = f.read()
        try:
            versions = ([catalogue_io.import_xlsx(data, None)] if data.startswith(b"PK")
                        else catalogue_io.import_yaml(data.decode("utf-8"), None))
        except (ImportProblems, UnicodeDecodeError) as exc:
            problems = getattr(exc, "problems", ["文件不是UTF-8编码"])
            raise click.ClickException("未导入任何数据：\n" + "\n".join(problems)) from None
        click.echo("已导入：" + "、".join(f"{v.code} 第{v.version}版" for v in versions))

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice(["admin", "district", "inspector", "township",
                                                               "village", "finance"]))
    @click.option("--name", "display_name", default="")
    @click.option("--unit", "unit_code", default="", help="镇(街道)或村(社区)编码（township/village 角色必填）")
    @click.password_option()
    def create_user_command(username, role, display_name, unit_code, password):
        """Create a user (the password must be changed at first log-in)."""
        from .services import users
        from .services.errors import ServiceError

        try:
            user = users.create_user(username, display_name, role, unit_code, password, None)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"已创建用户 {user.username}")

    @app.cli.command("set-password")
    @click.argument("username")
    @click.password_option()
    def set_password_command(username, password):
        """Set a user's password (to be changed at next log-in); their sessions and API tokens end."""
        from .models import User
        from .services import users
        from .services.errors import ServiceError

        user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException("用户不存在")
        try:
            users.reset_password(user, password, None)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"已设置 {user.username} 的密码（下次登录须修改），其登录会话和API令牌已全部失效")

    @app.cli.command("reset-second-factor")
    @click.argument("username")
    @click.option("--reason", required=True, help="why (audited): a lost phone, the last administrator locked out")
    def reset_second_factor_command(username, reason):
        """Clear a user's second factor (they enrol again at their next log-in); their sessions and API tokens end.
        For the administrator who cannot log in to ask another: run on the server."""
        from .models import User
        from .services import second_factor
        from .services.errors import ServiceError

        user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException("用户不存在")
        try:
            second_factor.reset(user, reason, None)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"已重置 {user.username} 的二次验证（下次登录时须重新设置），其登录会话和API令牌已全部失效")

    @app.cli.command("demo-scale")
    @click.option("--townships", type=int, default=100, show_default=True)
    @click.option("--villages-per-township", type=int, default=20, show_default=True)
    @click.option("--seed", type=int, default=1, show_default=True)
    def demo_scale_command(townships, villages_per_township, seed):
        """Province-scale demo data for benchmarks (bulk inserts). Never on a production database."""
        import time

        from .services.scale import generate

        start = time.perf_counter()
        round_ = generate(townships, villages_per_township, seed)
        click.echo(f"已生成批次 {round_.name}（编号 {round_.id}）：{townships * (villages_per_township + 1)} 个单位，"
                   f"用时 {time.perf_counter() - start:.1f} 秒")

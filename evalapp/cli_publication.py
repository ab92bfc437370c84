"""`flask verify-publication` and `flask freeze-publications` (issue 17): the published versions from the shell."""
import click
from flask import Flask
from sqlalchemy import select


def register(app: Flask) -> None:
    @app.cli.command("verify-publication")
    @click.option("--round", "round_id", type=int, required=True, help="批次编号")
    @click.option("--version", type=int, default=None, help="版本号（默认最新版本）")
    def verify_publication_command(round_id, version):
        """Check a published version against itself: its SHA-256 and every unit's figures recomputed from the
        inputs it holds. Exit 1 on any difference. Where today's data differs from it is reported for information."""
        from .extensions import db
        from .models import Round
        from .services import readmodel, snapshots

        if db.session.get(Round, round_id) is None:
            raise click.ClickException(f"没有编号为 {round_id} 的批次")
        pub = readmodel.version_of(round_id, version) if version else readmodel.latest(round_id)
        if pub is None:
            raise click.ClickException("该批次没有这一公布版本" if version else "该批次尚未公布")
        check = snapshots.verify(pub)
        click.echo(f"批次 {pub.round_name}（编号 {round_id}）第{pub.version}版，{pub.unit_count} 个单位")
        click.echo(f"记录的SHA-256：{check.stored}")
        click.echo(f"计算的SHA-256：{check.computed}")
        for problem in check.problems:
            click.echo(f"不符：{problem}")
        if check.live_changes:
            click.echo(f"供参考：当前数据与该版本不同之处 {len(check.live_changes)} 处（经解锁修改的已注明解锁记录）")
            for line in check.live_changes:
                click.echo(f"  {line}")
        if check.problems:
            click.echo(f"校验未通过：{len(check.problems)} 处不符")
            raise SystemExit(1)
        click.echo("校验通过")

    @app.cli.command("seal-publications")
    def seal_publications_command():
        """Seal every version published before seals existed (migration 0014) with the current key — each only
        after it passes verify-publication; a version that does not is left unsealed and named (exit 1)."""
        from .extensions import db
        from .models import Publication
        from .services import snapshots

        failed = 0
        unsealed = db.session.scalars(select(Publication).where(Publication.seal_key.is_(None))
                                      .order_by(Publication.round_id, Publication.version)).all()
        for pub in unsealed:
            check = snapshots.verify(pub)
            others = [p for p in check.problems if not p.startswith("防篡改印记：")]
            if others:
                failed += 1
                click.echo(f"{pub.round_name} 第{pub.version}版：校验未通过，未加印记（{others[0]}）")
                continue
            snapshots.seal(pub)
            db.session.commit()
            click.echo(f"{pub.round_name} 第{pub.version}版：已加防篡改印记（密钥 {pub.seal_key}）")
        if not unsealed:
            click.echo("没有需要补加印记的版本")
        if failed:
            raise SystemExit(1)

    @app.cli.command("freeze-publications")
    def freeze_publications_command():
        """Write version 1 of every round published before versions existed (migration 0011), from its data as it
        stands; rounds that have a version already are left alone."""
        from .extensions import db
        from .models import Publication, Round
        from .services import locks, readmodel, snapshots

        published = db.session.scalars(select(Round).where(
            Round.status == "published", ~Round.id.in_(select(Publication.round_id)))).all()
        for round_ in published:
            locks.lock_round(round_)
            model = readmodel.build(round_, draft=True, extras=True)
            pub = snapshots.freeze(round_, None, round_.published_at, model)
            db.session.commit()
            click.echo(f"{round_.name}：已写入第{pub.version}版（SHA-256 {pub.sha256}）")
        if not published:
            click.echo("没有需要补写版本的已公布批次")

"""The job queue's commands (services.jobs, issue 34 point 2): the worker, and the sweep of stale jobs and old files."""
import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("jobs-worker")
    @click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
    def jobs_worker(burst: bool):
        """Run the export jobs queued in Redis (REDIS_URL): RQ's SimpleWorker, in this app's context (no fork: the
        job runs in this process, with this process's database pool). Run one or more beside the app servers."""
        from rq import SimpleWorker

        from .services import jobs

        if not app.config.get("REDIS_URL"):
            raise click.UsageError("REDIS_URL 未设置：没有 Redis 时导出任务在应用进程的后台线程中运行，无需单独的工作进程。")
        queue = jobs.queue()
        worker = SimpleWorker([queue], connection=queue.connection)
        worker.work(burst=burst, with_scheduler=False)

    @app.cli.command("jobs-sweep")
    def jobs_sweep():
        """Fail the jobs whose worker stopped (stale heartbeat) and delete the files past their expiry."""
        from .services import jobs

        reaped, expired = jobs.sweep()
        click.echo(f"已标记失败 {reaped} 个中断的任务，已删除 {expired} 个过期文件")

    @app.cli.command("jobs-cron")
    def jobs_cron():
        """Put the periodic work (services.periodic: reminders, the sweep, the audit seal) on the jobs queue at its
        times, Beijing time: RQ's cron scheduler. Run one per deployment, beside the jobs-workers that run it."""
        import os
        import time

        from .services import jobs, periodic

        if not app.config.get("REDIS_URL"):
            raise click.UsageError("REDIS_URL 未设置：没有 Redis 时请用 cron 或 systemd 定时器运行 notice-reminders、"
                                   "jobs-sweep 和 seal-audit（见 docs/deploy.md）。")
        os.environ["TZ"] = periodic.ZONE  # RQ reads cron fields in the process's local time
        time.tzset()
        periodic.scheduler(jobs.queue().connection).start()

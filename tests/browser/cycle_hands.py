"""The hands that fill the forms of the cycle after the scores (issue 32), shared by the browser tests that walk it:
tests/browser/test_notice_browser.py (公示, 异议, 复核), test_rectify_browser.py (整改, 复查, 约谈) and
test_cycle_e2e_browser.py (all of it). Each fills one form as a person would; the caller submits (submit) where it
wants to look at the form first."""


def submit(page, locator) -> None:
    """Click and wait for the page it leads to."""
    with page.expect_navigation():
        locator.click()


def fill_objection(page, code: str, reason: str, evidence) -> None:
    """The village's objection to indicator `code` with one evidence file (a path)."""
    form = page.locator("[data-testid=objection-form]")
    form.locator("select[name=item]").select_option(f"indicator:{code}")
    form.locator("textarea[name=reason]").fill(reason)
    form.locator("input[name=files]").set_input_files(str(evidence))


def assign_group(page, check=(), uncheck=(), leader: str = "") -> None:
    """The district's re-check group: tick `check`, untick `uncheck` (display names), choose the leader, 分配."""
    form = page.locator("[data-testid=assign-form]")
    for name in uncheck:
        form.get_by_label(name).uncheck()
    for name in check:
        form.get_by_label(name).check()
    form.locator("select[name=leader]").select_option(label=leader)
    submit(page, form.get_by_role("button", name="分配"))


def ask_extension(page, deadline: str, new_date: str, reason: str) -> None:
    """The unit asks to move its `deadline` ("report" or "complete") to `new_date`."""
    form = page.locator("[data-testid=extension-form]")
    form.locator("select[name=deadline]").select_option(deadline)
    form.locator("input[name=new_date]").fill(new_date)
    form.locator("textarea[name=reason]").fill(reason)
    submit(page, form.get_by_role("button", name="申请延期"))


def file_report(page, text: str, path) -> None:
    """The unit's 整改报告: a text and a file."""
    form = page.locator("[data-testid=report-form]")
    form.locator("textarea[name=text]").fill(text)
    form.locator("input[name=report_file]").set_input_files(str(path))
    submit(page, form.get_by_role("button", name="报送整改报告"))


def assign_recheck(page, team: str, scope: str = "failed") -> None:
    """The district sends `team` to re-inspect the failed indicators (or "all")."""
    form = page.locator("[data-testid=assign-form]")
    form.locator("select[name=team]").select_option(label=team)
    form.locator("select[name=scope]").select_option(scope)
    submit(page, form.get_by_role("button", name="安排复查"))


def fill_full_marks(page) -> int:
    """Every card of the 复查 form at its maximum (read from the card's 满分 line); how many cards there were."""
    cards = page.locator("[data-testid=recheck-form] [data-indicator]")
    for i in range(cards.count()):
        card = cards.nth(i)
        maximum = card.locator(".text-muted").inner_text().split("满分")[1].split("，")[0]
        card.locator("input[name^=points_]").fill(maximum)
    return cards.count()


def record_interview(page, unit_id: int, held_on: str, participants: str, points: str, requirement: str, due: str,
                     minutes) -> None:
    """The district's 约谈 with one requirement and its minutes (a path)."""
    form = page.locator("[data-testid=interview-form]")
    form.locator("select[name=unit]").select_option(str(unit_id))
    form.locator("input[name=held_on]").fill(held_on)
    form.locator("textarea[name=participants]").fill(participants)
    form.locator("textarea[name=points_raised]").fill(points)
    form.locator("input[name='requirements-0-text']").fill(requirement)
    form.locator("input[name='requirements-0-due']").fill(due)
    form.locator("input[name=minutes]").set_input_files(str(minutes))
    submit(page, form.get_by_role("button", name="保存约谈记录"))


def file_interview_report(page, text: str, path) -> None:
    """The unit's written report after a 约谈."""
    page.locator("textarea[name=text]").fill(text)
    page.locator("input[name=report_file]").set_input_files(str(path))
    submit(page, page.get_by_role("button", name="报送书面报告"))

"""Password policy: at least 10 characters and not a commonly used password."""
from importlib import resources

MIN_LENGTH = 10


def _common() -> set[str]:
    text = resources.files("evalapp.data").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return {line.strip().lower() for line in text.splitlines() if line.strip()}


COMMON = _common()


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少{MIN_LENGTH}个字符")
    if password.lower() in COMMON or len(set(password)) <= 2:
        problems.append("密码过于常见，请换一个")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if len(password) > 256 or "\x00" in password:
        problems.append("密码过长或含有无效字符")
    return problems

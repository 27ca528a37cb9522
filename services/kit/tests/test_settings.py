"""The tuning settings' defaults are written once (config.DEFAULTS): a service started without
them, and the README's settings table, say the same."""

from pathlib import Path

from yjs_kit.config import DEFAULTS, parse_delays, service_config, switched_on

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_defaults() -> dict[str, str]:
    """Each setting of the README's settings table and its default, as the table shows it."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| variable | default (local run) | meaning |")
    shown = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = [n.strip("` ") for n in cells[0].split(", ")]
        values = [v.strip("` ") for v in cells[1].split(", ")]
        shown.update(zip(names, values))
    return shown


def test_the_readme_shows_the_defaults_the_services_use():
    shown = readme_defaults()
    assert {name: shown.get(name) for name in DEFAULTS} == DEFAULTS


def test_a_service_without_the_settings_in_its_environment_takes_the_defaults(monkeypatch):
    for name in [*DEFAULTS, "DB_POOL_SIZE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVENT_BATCH", "")  # set but empty, as a compose file leaves it: the default
    config = service_config("tax")
    assert config["max_workers"] == int(DEFAULTS["MAX_WORKERS"]) and config["DB_POOL_SIZE"] == config["max_workers"] + 2
    assert config["EVENT_BATCH"] == int(DEFAULTS["EVENT_BATCH"])
    assert config["RETRY_DELAYS_MS"] == parse_delays(DEFAULTS["RETRY_DELAYS_MS"])
    assert config["DB_PREPARED_STATEMENTS"] is switched_on(DEFAULTS["DB_PREPARED_STATEMENTS"])
    assert config["HEARTBEAT"] == int(DEFAULTS["AMQP_HEARTBEAT"])
    monkeypatch.setenv("EVENT_BATCH", "7")
    assert service_config("tax")["EVENT_BATCH"] == 7

from datetime import UTC, datetime, timedelta

from portal.core.timeutil import format_datetime, format_relative

NOW = datetime(2023, 2, 14, 15, 0, tzinfo=UTC)


def test_dates_shown_in_sao_paulo_time() -> None:
    # 12:32:59 UTC is 09:32:59 in São Paulo (UTC-3, no daylight saving since 2019).
    value = datetime(2023, 1, 27, 12, 32, 59, tzinfo=UTC)
    assert format_datetime(value, "America/Sao_Paulo") == "27/01/2023 09:32:59"
    assert format_datetime(None, "America/Sao_Paulo") == ""


def test_relative_times_use_the_pronto_cliente_words() -> None:
    assert format_relative(NOW - timedelta(seconds=10), NOW) == "agora mesmo"
    assert format_relative(NOW - timedelta(minutes=24), NOW) == "24m atrás"
    assert format_relative(NOW - timedelta(hours=3), NOW) == "3h atrás"
    assert format_relative(NOW - timedelta(days=3), NOW) == "3 dia(s) atrás"
    assert format_relative(NOW - timedelta(days=65), NOW) == "2 mês(es) atrás"
    assert format_relative(NOW - timedelta(days=800), NOW) == "2 ano(s) atrás"


def test_age_for_the_queue() -> None:
    from portal.core.timeutil import format_age

    assert format_age(NOW - timedelta(minutes=5), NOW) == "5 min"
    assert format_age(NOW - timedelta(hours=1), NOW) == "1 hora"
    assert format_age(NOW - timedelta(hours=5), NOW) == "5 horas"
    assert format_age(NOW - timedelta(days=3, hours=2), NOW) == "3 dias"
    assert format_age(NOW - timedelta(days=1), NOW) == "1 dia"

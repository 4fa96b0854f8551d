"""gpuviz.model.text: one grammar for sizes and byte sizes, one formatter each for times, ratios, bytes and counts."""

import math

import pytest

from gpuviz.model import text
from gpuviz.model.text import (
    TextError,
    format_bytes,
    format_count,
    format_duration,
    format_ratio,
    format_size_list,
    parse_bytes,
    parse_size,
    parse_sizes,
)


@pytest.mark.parametrize("typed", ["1000000", "1_000_000", "1e6", "1E6", "1M", "1m", "1000k", " 1M ", "0.001e9"])
def test_every_way_of_writing_a_million_reads_the_same(typed):
    assert parse_size(typed) == 1_000_000


@pytest.mark.parametrize("typed, value", [("1k", 1000), ("10K", 10_000), ("1.5k", 1500), ("2.5e3", 2500),
                                          ("64", 64), ("1", 1), ("1e30", 10**30)])
def test_whole_sizes_read_exactly(typed, value):
    assert parse_size(typed) == value


@pytest.mark.parametrize("bad", ["1.5", "-3", "0", "0k", "abc", "1e-3", "1.0001k", "1 000", "1kk", "k", "1x"])
def test_what_is_not_a_positive_whole_number_gets_one_and_the_same_sentence(bad):
    with pytest.raises(TextError) as err:
        parse_size(bad)
    message = str(err.value)
    assert message == f"“{bad.strip()}” is not a whole number of at least 1: write sizes like {text.SIZE_EXAMPLES}"
    assert "\n" not in message


def test_a_size_list_takes_commas_semicolons_and_blanks_and_keeps_order():
    assert parse_sizes("1000000, 1_000_000 1e6;1M 1k") == [1_000_000] * 4 + [1000]
    assert parse_sizes("64, 128 256") == [64, 128, 256]
    with pytest.raises(TextError, match="“-3” is not a whole number"):
        parse_sizes("64, -3")
    for empty in ("", " ", ",", " ; "):
        with pytest.raises(TextError, match="type one or more sizes"):
            parse_sizes(empty)


def test_size_lists_are_written_as_they_are_read():
    assert format_size_list([1000, 10_000, 1_000_000, 1024]) == "1000, 10k, 1M, 1024"
    for sizes in ([16, 32, 10_000, 5_000_000], [1, 999_999, 2_000_000, 123_000]):
        assert parse_sizes(format_size_list(sizes)) == sizes


def test_byte_sizes():
    assert parse_bytes("4GiB") == 4 * 1024**3
    assert parse_bytes("512MiB") == 512 * 1024**2
    assert parse_bytes("1.5G") == int(1.5 * 1024**3)
    assert parse_bytes("2GB") == 2 * 10**9
    assert parse_bytes("4096") == 4096
    for bad in ("", "GiB", "4 parsecs", "-1G", "0", "1e6"):
        with pytest.raises(TextError):
            parse_bytes(bad)
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, 64 * 1024**2, 3 * 1024**5)] == \
        ["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "64.0 MiB", "3072.0 TiB"]


@pytest.mark.parametrize("seconds, shown", [
    (None, "–"), (math.nan, "–"), (95e-9, "95 ns"), (1.01e-6, "1.01 µs"), (87.5e-6, "87.5 µs"),
    (123.4e-6, "123.4 µs"), (1e-4, "100 µs"), (999.96e-6, "1 ms"), (1e-3, "1 ms"), (0.035, "35 ms"),
    (0.01599, "16 ms"), (1.0, "1 s"), (2.345, "2.35 s"), (40.96, "41 s"), (41.3, "41.3 s"), (119.99, "2.0 min"),
    (192, "3.2 min"), (5400, "90.0 min"), (9000, "2.5 h"), (-0.5, "−500 ms"),
])
def test_one_duration_formatter(seconds, shown):
    assert format_duration(seconds) == shown


def test_ratios_and_counts():
    assert [format_ratio(r) for r in (1952.3, 200, 44.9, 3.25, 1.0, 0.00377)] == \
        ["1,952×", "200×", "45×", "3.2×", "1×", "0.0038×"]
    assert format_count(1, "block") == "1 block"
    assert format_count(0, "idle thread") == "0 idle threads"
    assert format_count(1234, "thread") == "1,234 threads"
    assert format_count(2, "index", "indices") == "2 indices"


def test_a_refused_text_is_the_panels_one_error_type():
    from gpuviz.model.panel import ParamsError

    with pytest.raises(ParamsError):
        parse_sizes("64, 1.5")


def test_the_cli_and_the_model_share_the_grammar(capsys):
    # the CLI reads --sizes through the model's parser: 1k works there too, 1.5 is refused in its words
    from gpuviz import cli

    code = cli.main(["bench", "--sizes", "1.5"])
    err = capsys.readouterr().err
    assert code == 2 and "“1.5” is not a whole number of at least 1" in err

"""kafkalab.connectsql.flinksql's text helpers, without a JVM: the events table's DDL and Flink's refusals in one line."""
from __future__ import annotations

from kafkalab.connectsql import flinksql

PARSE_ERROR = ("An error occurred while calling o8.sqlQuery.\n: org.apache.flink.table.api.SqlParserException: SQL "
               "parse failed. Encountered \"method\" at line 1, column 22.\nWas expecting one of:\n    \"ABS\" ...\n"
               "    \"ARRAY\" ...\n\tat org.apache.flink.table.planner.ParserImpl.parse(ParserImpl.java:106)\n")


def test_events_table_has_event_time_a_watermark_and_a_bounded_read():
    ddl = flinksql.events_table("payments", "sql-payments", delay_s=7)
    assert ddl.startswith("CREATE TEMPORARY TABLE payments (") and "`method`    STRING" in ddl
    assert "ts AS TO_TIMESTAMP_LTZ(ts_ms, 3)" in ddl and "WATERMARK FOR ts AS ts - INTERVAL '7' SECOND" in ddl
    assert "'topic' = 'sql-payments'" in ddl and "'scan.bounded.mode' = 'latest-offset'" in ddl
    assert "'scan.watermark.emit.strategy' = 'on-event'" in ddl


def test_a_parse_error_is_one_line_with_the_fix():
    line = flinksql.error_line(Exception(PARSE_ERROR))
    assert line == ('SQL parse failed. Encountered "method" at line 1, column 22. (method is a reserved word in '
                    'Flink SQL: write it in backquotes, `method`)')


def test_other_errors_keep_flinks_message_without_the_wrapper():
    e = Exception("An error occurred while calling o9.sqlQuery.\n: org.apache.flink.table.api.ValidationException: "
                  "SQL validation failed. From line 1, column 8 to line 1, column 11: Column 'nope' not found in any "
                  "table\n\tat org.apache.flink...")
    assert flinksql.error_line(e) == ("SQL validation failed. From line 1, column 8 to line 1, column 11: Column "
                                      "'nope' not found in any table")
    assert flinksql.error_line(ValueError("plain")) == "plain"
    assert flinksql.error_line(ValueError("")) == "ValueError"

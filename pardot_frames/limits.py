"""Pardot's numeric limits, in one place (see pardot-api-facts.md)."""

MAX_ROWS_PER_CALL = 50  # batchUpsert: error 70 above this
CONCURRENT_LIMIT = 5  # calls in flight per business unit: error 66 above this
DAILY_LIMIT = 25_000  # API calls a day on the smallest plans (Growth, Pro): error 122 above it
MAX_ROW_JSON_CHARS = 7500  # the connector rejects rows whose JSON is longer (URI length)
MAX_EMAIL_CHARS = 255
